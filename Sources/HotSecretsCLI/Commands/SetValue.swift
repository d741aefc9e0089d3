import ArgumentParser
import Foundation
import HotSecretsModel

extension HotSecrets {
  /// Stores a value read from stdin as the secret's new current version.
  struct SetValue: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "set",
      abstract: "Store a secret's value, read from stdin (never from the command line).",
      discussion: """
        Reads all of stdin and removes one trailing newline; on a terminal, reads one line \
        without echo. An unchanged value writes no new version.

        \(ExitStatus.helpText)
        """)

    @OptionGroup var vault: VaultOptions
    @OptionGroup var name: SecretAddressArguments

    func run() throws {
      let address = try name.address()
      let session = try vault.unlock()
      var value = try readValue(for: address)
      defer { wipe(&value) }
      switch try session.set(address, value: value) {
      case .added(let version, let fp):
        StandardStreams.output("added \(address) version \(version) (fingerprint \(Short.fingerprint(fp)))")
      case .changed(let version, let fp):
        StandardStreams.output("set \(address) version \(version) (fingerprint \(Short.fingerprint(fp)))")
      case .unchanged(let version, _):
        StandardStreams.output("unchanged \(address) (version \(version) already holds this value)")
      }
    }

    private func readValue(for address: SecretAddress) throws -> [UInt8] {
      if StandardStreams.stdinIsTerminal,
        let secret = try Terminal.readSecret(prompt: "Value for \(address): ")
      {
        return secret.copyBytes()
      }
      guard var data = FileDescriptorIO.readAll(0) else {
        throw CLIError.io(path: "standard input", reason: "cannot read")
      }
      defer { wipe(&data) }
      return Array(InputText.droppingOneTrailingNewline(data))
    }
  }

  /// Prints a secret's current value.
  struct GetValue: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "get",
      abstract: "Print a secret's current value (exactly; a newline is added only on a terminal).",
      discussion: "Every read is recorded in the audit trail.\n\n\(ExitStatus.helpText)"
    ).parsedDirectly()

    @OptionGroup var vault: VaultOptions
    @OptionGroup var name: SecretAddressArguments

    func run() throws {
      let address = try name.address()
      let session = try vault.unlock()
      let value = try KnownEnvironment.explaining(address, session: session, root: vault.root) {
        try session.get(address)
      }
      value.withUnsafeBytes { StandardStreams.outputBytes($0) }
      if StandardStreams.stdoutIsTerminal { StandardStreams.output("") }
    }
  }

  /// Deletes a secret and all its versions.
  struct Remove: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "rm",
      abstract: "Delete a secret and all its versions.",
      discussion: ExitStatus.helpText)

    @OptionGroup var vault: VaultOptions
    @OptionGroup var name: SecretAddressArguments

    func run() throws {
      let address = try name.address()
      let session = try vault.unlock()
      try KnownEnvironment.explaining(address, session: session, root: vault.root) { try session.remove(address) }
      StandardStreams.output("removed \(address)")
    }
  }
}
