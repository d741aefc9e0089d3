import ArgumentParser
import HotSecretsModel
import HotSecretsVault

extension HotSecrets {
  /// Lists secrets with their current versions, never their values.
  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "list",
      abstract: "List secrets: environment, service, key, version, age, fingerprint (never values).",
      discussion: ExitStatus.help()
    ).parsedDirectly()

    @OptionGroup var vault: VaultOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "Only this environment.", completion: Completions.environment) var environment: String?

    struct Row: Encodable {
      let environment, service, key: String
      let version: Int
      let created_at: String
      let age_days: Int
      let fingerprint: String
      /// Removed recipients who could have read this value (rotate it: `rotate ENV --exposed`).
      let exposed_to: [ExposedTo]
    }

    struct ExposedTo: Encodable {
      let recipient: Int64
      let name, removed_at: String
    }

    func run() throws {
      try output.print(try report())
    }

    /// The secrets' current versions. `session` is the vault already unlocked (`hotsecrets mcp`);
    /// without it the vault is unlocked here.
    func report(session unlocked: VaultSession? = nil) throws -> CommandReport {
      if let environment { try SecretAddress.validateEnvironment(environment) }
      let session = try unlocked ?? vault.unlock()
      let secrets = try session.list(environment: environment)
      if secrets.isEmpty, let environment {
        try KnownEnvironment.require(environment, session: session, root: vault.root)
      }
      let rows = secrets.map {
        Row(
          environment: $0.address.environment, service: $0.address.service, key: $0.address.key, version: $0.version,
          created_at: $0.createdAt, age_days: $0.ageDays, fingerprint: $0.fingerprint,
          exposed_to: $0.exposedTo.map { ExposedTo(recipient: $0.recipientID, name: $0.name, removed_at: $0.removedAt) }
        )
      }
      let scope = environment.map { " in \($0)" } ?? ""
      let exposed = rows.filter { !$0.exposed_to.isEmpty }.count
      let summary =
        rows.isEmpty
        ? "no secrets\(scope)"
        : Plural.count(rows.count, "secret") + scope
          + (exposed > 0 ? ", \(exposed) exposed to a removed recipient (rotate --exposed)" : "")
      return CommandReport(["secrets": rows], summary: summary) {
        if rows.isEmpty { return summary }
        // The exposure column appears only when a removed recipient could have read a current value.
        let showExposure = exposed > 0
        var columns = ["ENV", "SERVICE", "KEY", "VERSION", "CREATED", "AGE", "FINGERPRINT"]
        if showExposure { columns.append("EXPOSED TO") }
        var table = TextTable(columns)
        for r in rows {
          var cells = [
            r.environment, r.service, r.key, String(r.version), r.created_at, "\(r.age_days)d",
            Short.fingerprint(r.fingerprint),
          ]
          if showExposure {
            cells.append(r.exposed_to.isEmpty ? "-" : r.exposed_to.map(\.name).joined(separator: ", "))
          }
          table.add(cells)
        }
        return table.rendered
      }
    }
  }

  /// Shows every version of one secret.
  struct History: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "history",
      abstract: "Show every version of a secret: version, state, created, source, fingerprint.",
      discussion: ExitStatus.help()
    ).parsedDirectly()

    @OptionGroup var vault: VaultOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var name: SecretAddressArguments

    struct Version: Encodable {
      let version: Int
      let state, created_at, source, fingerprint: String
    }
    struct Report: Encodable {
      let environment, service, key: String
      let versions: [Version]
    }

    func run() throws {
      try output.print(try report())
    }

    /// Every version of the secret. `session` is the vault already unlocked (`hotsecrets mcp`);
    /// without it the vault is unlocked here.
    func report(session unlocked: VaultSession? = nil) throws -> CommandReport {
      let address = try name.address()
      let session = try unlocked ?? vault.unlock()
      let versions = try KnownEnvironment.explaining(address, session: session, root: vault.root) {
        try session.history(address)
      }.map {
        Version(
          version: $0.version, state: $0.state.rawValue, created_at: $0.createdAt, source: $0.source.rawValue,
          fingerprint: $0.fingerprint)
      }
      let document = Report(
        environment: address.environment, service: address.service, key: address.key, versions: versions)
      let current = versions.first { $0.state == VersionState.current.rawValue }
      let summary =
        "\(address): \(Plural.count(versions.count, "version"))"
        + (current.map { ", current version \($0.version) of \($0.created_at)" } ?? ", none current (removed)")
      return CommandReport(document, summary: summary) {
        var table = TextTable("VERSION", "STATE", "CREATED", "SOURCE", "FINGERPRINT")
        for v in versions {
          table.add(String(v.version), v.state, v.created_at, v.source, Short.fingerprint(v.fingerprint))
        }
        return table.rendered
      }
    }
  }
}
