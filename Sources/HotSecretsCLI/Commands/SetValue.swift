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
    @OptionGroup var output: OutputOptions
    @Flag(help: "Store a secret the policy does not declare even when it declares a close name.")
    var new = false

    /// `set --format json`: what happened, never the value.
    struct SetJSON: Encodable {
      let environment, service, key: String
      /// `added`, `changed` or `unchanged`.
      let outcome: String
      let version: Int
      let fingerprint: String
    }

    func run() throws {
      let address = try name.address()
      let session = try vault.unlock()
      try checkAgainstPolicy(address, session: session)
      var value = try readValue(for: address)
      defer { wipe(&value) }
      let (outcome, version, fingerprint): (String, Int, String)
      switch try session.set(address, value: value) {
      case .added(let v, let fp): (outcome, version, fingerprint) = ("added", v, fp)
      case .changed(let v, let fp): (outcome, version, fingerprint) = ("changed", v, fp)
      case .unchanged(let v, let fp): (outcome, version, fingerprint) = ("unchanged", v, fp)
      }
      let json = SetJSON(
        environment: address.environment, service: address.service, key: address.key, outcome: outcome,
        version: version, fingerprint: fingerprint)
      try output.write(json) {
        switch outcome {
        case "added": "added \(address) version \(version) (fingerprint \(Short.fingerprint(fingerprint)))"
        case "changed": "set \(address) version \(version) (fingerprint \(Short.fingerprint(fingerprint)))"
        default: "unchanged \(address) (version \(version) already holds this value)"
        }
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
        StandardStreams.warning("the policy was not checked: \(ErrorMessage.describe(error))")
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
      StandardStreams.warning(
        "\(address) is not in \(loaded.file): verify reports it as undeclared until the policy declares it")
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
    @Option(
      help: "Output format: text (the value's bytes, exactly) or json (with its version and fingerprint; docs/json.md).")
    var format: OutputFormat = .text

    /// `get --format json`: the value with its version and fingerprint.
    struct GetJSON: Encodable {
      let environment, service, key: String
      let version: Int
      let fingerprint: String
      let value: String
    }

    func run() throws {
      let address = try name.address()
      let session = try vault.unlock()
      let value = try KnownEnvironment.explaining(address, session: session, root: vault.root) {
        try session.get(address)
      }
      if format == .json {
        let current = try session.history(address).first { $0.state == .current }
        var json = try StableJSON.encode(
          GetJSON(
            environment: address.environment, service: address.service, key: address.key,
            version: current?.version ?? 0, fingerprint: current?.fingerprint ?? "",
            value: value.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }))
        defer { json.resetBytes(in: 0..<json.count) }
        json.append(UInt8(ascii: "\n"))
        json.withUnsafeBytes { StandardStreams.outputBytes($0) }
        return
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
    @OptionGroup var output: OutputOptions

    /// `rm --format json`.
    struct RemoveJSON: Encodable {
      let environment, service, key: String
      let removed: Bool
      /// The versions whose ciphertexts were erased.
      let versions: Int
    }

    func run() throws {
      let address = try name.address()
      let session = try vault.unlock()
      let versions = try KnownEnvironment.explaining(address, session: session, root: vault.root) {
        let versions = try session.history(address).filter { $0.state != .removed }.count
        guard versions > 0 else { throw VaultError.secretNotFound(subject: address.description) }
        try Confirmation.require("remove \(address) and its \(Plural.count(versions, "version"))?", yes: yes)
        try session.remove(address)
        return versions
      }
      let json = RemoveJSON(
        environment: address.environment, service: address.service, key: address.key, removed: true, versions: versions)
      try output.write(json) { "removed \(address)" }
    }
  }
}
