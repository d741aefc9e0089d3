import ArgumentParser
import Foundation
import HotSecretsModel
import HotSecretsPolicy
import HotSecretsOperations
import HotSecretsVault

extension HotSecrets {
  /// Stores a value read from stdin as the secret's new current version.
  struct SetValue: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "set",
      abstract: "Store a secret's value, read from stdin (never from the command line).",
      discussion: """
        Reads all of stdin and removes one trailing newline; on a terminal, reads one line \
        without echo. An unchanged value writes no new version.

        A new secret whose service or key the environment's policy does not declare is refused \
        when the policy declares a close name (a typo, exit 2, before the value is read), unless \
        --new; otherwise it is stored with a warning on stderr.

        \(ExitStatus.help())
        """)

    @OptionGroup var vault: VaultOptions
    @OptionGroup var name: SecretAddressArguments
    @OptionGroup var policy: PolicyOptions
    @Flag(help: "Store a secret the policy does not declare even when it declares a close name.")
    var new = false

    func run() throws {
      let address = try name.address()
      let session = try vault.unlock()
      try checkAgainstPolicy(address, session: session)
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

    /// Refuses (or warns about) a new name the policy does not declare: see the discussion.
    private func checkAgainstPolicy(_ address: SecretAddress, session: VaultSession) throws {
      let loaded: Policy
      do {
        loaded = try policy.load(environment: address.environment, root: vault.root)
      } catch let error as PolicyError where error.problem == PolicyError.noSuchFile && policy.policy == nil {
        return  // no policy: nothing to check against
      } catch {
        StandardStreams.error("warning: the policy was not checked: \(ErrorMessage.describe(error))")
        return
      }
      let name = ServiceKey(service: address.service, key: address.key)
      let declared = loaded.services.flatMap { service in
        service.keys.map { ServiceKey(service: service.name, key: $0.name) }
      }
      if declared.contains(name) || name.service == PolicyCheck.managementService { return }
      let exists = try session.database.read { tx in
        try tx.secrets.rows(at: address, ciphertexts: false).contains { $0.current != nil }
      }
      if exists { return }
      if !new, let near = Suggestion.closest(to: name, among: declared) {
        throw CLIError.notInPolicy("\(address)", policy: loaded.file, suggestion: "\(address.environment)/\(near)")
      }
      StandardStreams.error(
        "warning: \(address) is not in \(loaded.file): verify reports it as undeclared until the policy declares it")
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
      discussion: "Every read is recorded in the audit trail.\n\n\(ExitStatus.help())"
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
      discussion: """
        Asks for confirmation on a terminal; elsewhere needs --yes (exit 64 without it, nothing \
        removed). Declining at the prompt exits 1.

        \(ExitStatus.help("declined at the prompt"))
        """)

    @OptionGroup var vault: VaultOptions
    @OptionGroup var name: SecretAddressArguments
    @Flag(name: [.short, .long], help: "Remove without asking.") var yes = false

    func run() throws {
      let address = try name.address()
      let session = try vault.unlock()
      try KnownEnvironment.explaining(address, session: session, root: vault.root) {
        let versions = try session.history(address).filter { $0.state != .removed }.count
        guard versions > 0 else { throw VaultError.secretNotFound(subject: address.description) }
        try Confirmation.require("remove \(address) and its \(Plural.count(versions, "version"))?", yes: yes)
        try session.remove(address)
      }
      StandardStreams.output("removed \(address)")
    }
  }
}
