import ArgumentParser
import Foundation
import HotSecretsModel
import HotSecretsVault

extension HotSecrets {
  /// X25519 identities for CI and teammates.
  struct IdentityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "identity",
      abstract: "Create and inspect X25519 identities (for CI and teammates).",
      subcommands: [New.self, Show.self])

    struct New: ParsableCommand {
      static let configuration = CommandConfiguration(
        commandName: "new",
        abstract: "Write a new identity file (mode 0600) and print its recipient string.",
        discussion: """
          Give the printed hsr1… string to whoever runs `hotsecrets recipients add`. \
          Missing folders of the path are created (mode 0700). Refuses to overwrite an existing file.

          \(ExitStatus.help())
          """)

      @Option(help: ArgumentHelp("Identity file to create.", valueName: "file"), completion: .file())
      var out: String
      @OptionGroup var output: OutputOptions

      func run() throws {
        let identity = try Identity.generate()
        try SecretFile.createExclusive(path: out, contents: Array(try identity.fileText(created: Date()).utf8))
        try output.write(RecipientJSON(recipient: identity.recipient.description, file: out)) {
          identity.recipient.description
        }
      }
    }

    struct Show: ParsableCommand {
      static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print the recipient string of an identity file.", discussion: ExitStatus.help())

      @Argument(help: "Identity file.", completion: .file()) var file: String
      @OptionGroup var output: OutputOptions

      func run() throws {
        let recipient = try Identity.load(path: file).recipient.description
        try output.write(RecipientJSON(recipient: recipient, file: file)) { recipient }
      }
    }

    /// `{"recipient": "hsr1…", "file": PATH}`.
    struct RecipientJSON: Encodable {
      let recipient, file: String
    }
  }
}

/// Creating files that hold secrets.
enum SecretFile {
  /// Creates `path` with mode 0600, failing if it exists, and writes `contents` (then wipes them).
  /// Missing folders of the path are created with mode 0700 (`~/.config/hotsecrets/` on a fresh home).
  static func createExclusive(path: String, contents: [UInt8]) throws {
    var bytes = contents
    defer { wipe(&bytes) }
    try PathName.createFolder(of: path)
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
    guard fd >= 0 else {
      let reason = errno == EEXIST ? "already exists; refusing to overwrite it" : String(cString: strerror(errno))
      throw CLIError.io(path: path, reason: reason)
    }
    defer { close(fd) }
    let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    guard written == bytes.count, fsync(fd) == 0 else {
      unlink(path)
      throw CLIError.io(path: path, reason: "cannot write the file")
    }
  }
}
