import ArgumentParser
import HotSecretsModel
import HotSecretsOperations

extension HotSecrets {
  /// Writes the working copies from the vault.
  struct Render: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "render",
      abstract: "Write DIR/<service>/ENV.env from the vault (atomic, 0600; unchanged files untouched).",
      discussion: """
        Refuses to write into a git work tree unless git ignores the files. The read of the \
        values is recorded in the audit trail.

        \(ExitStatus.helpText)
        """
    ).parsedDirectly()

    @OptionGroup var vault: VaultOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "Environment, e.g. prod.") var environment: String
    @Option(help: ArgumentHelp("Folder of service folders (default: ROOT/vault/occ).", valueName: "dir"))
    var to: String?

    struct Report: Encodable {
      let environment: String
      let written, unchanged, tightened: [String]
      let keys: Int
    }

    func run() throws {
      try SecretAddress.validateEnvironment(environment)
      let folder = MirrorFolder.resolve(to, root: vault.root)
      let session = try vault.unlock()
      try KnownEnvironment.require(environment, session: session, root: vault.root)
      var values = try session.currentValues(
        environment: environment, action: .render, detail: ["to": .string(folder)])
      defer { for i in values.indices { wipe(&values[i].value) } }
      let result = try MirrorWriter.render(
        values, environment: environment, directory: folder, header: Self.fileHeader(environment: environment))
      try output.write(
        Report(
          environment: environment, written: result.written, unchanged: result.unchanged, tightened: result.tightened,
          keys: result.keys)
      ) {
        var lines = result.written.map { "  wrote \($0)" }
        lines += result.tightened.map { "  chmod \($0) (was readable by other users)" }
        lines.append(
          "render \(environment): \(result.keys) keys, \(result.written.count) files written, \(result.unchanged.count) unchanged"
        )
        return lines.joined(separator: "\n")
      }
    }

    /// The comment heading every rendered file.
    static func fileHeader(environment: String) -> String {
      "Rendered by hotsecrets from the vault (\(environment)). Plaintext secrets: keep this file out of git.\nEdit, then run `hotsecrets import \(environment)` to store the change."
    }
  }
}
