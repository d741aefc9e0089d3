import ArgumentParser
import HotSecretsModel

extension HotSecrets {
  /// Stores the working copies `DIR/<service>/ENV.env` in the vault.
  struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "import",
      abstract: "Store DIR/<service>/ENV.env files in the vault (one transaction: all or nothing).",
      discussion: """
        New keys are added, changed values get a new version, unchanged ones are left alone. \
        Keys in the vault but in no file are reported and kept, unless --prune. One bad file \
        (reported as FILE:LINE:COL) means nothing is imported.

        \(ExitStatus.helpText)
        """)

    @OptionGroup var vault: VaultOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "Environment, e.g. prod (reads <service>/prod.env).") var environment: String
    @Option(help: ArgumentHelp("Folder of service folders (default: ROOT/vault/occ).", valueName: "dir"))
    var from: String?
    @Flag(help: "Show what would change; write nothing.") var dryRun = false
    @Flag(help: "Remove keys that are in the vault but in no file.") var prune = false

    struct Report: Encodable {
      let environment: String
      let dry_run, pruned: Bool
      let added, changed, only_in_store: [ServiceKeyJSON]
      let unchanged: Int
      let warnings: [String]
    }

    func run() throws {
      let (folder, snapshot) = try MirrorFolder.read(from, root: vault.root, environment: environment)
      let report = try vault.unlock().importMirror(
        snapshot, environment: environment, prune: prune, dryRun: dryRun, directory: folder)
      let json = Report(
        environment: environment, dry_run: dryRun, pruned: prune && !dryRun && !report.prunable.isEmpty,
        added: report.added.map(ServiceKeyJSON.init), changed: report.changed.map(ServiceKeyJSON.init),
        only_in_store: report.onlyInStore.map(ServiceKeyJSON.init), unchanged: report.unchanged.count,
        warnings: snapshot.warnings)
      try output.write(json) {
        var lines: [String] = []
        let verb = dryRun ? "would " : ""
        for name in report.added { lines.append("  \(verb)add     \(name)") }
        for name in report.changed { lines.append("  \(verb)change  \(name)") }
        for name in report.onlyInStore {
          if prune && report.prunable.contains(name) {
            lines.append("  \(verb)remove  \(name) (in no file)")
          } else if report.prunable.contains(name) {
            lines.append("  only in vault: \(name) (kept; --prune removes)")
          } else {
            lines.append("  only in vault: \(name) (kept: no \(name.service)/\(environment).env file was read)")
          }
        }
        let prefix = dryRun ? "import \(environment) (dry run, nothing written)" : "import \(environment)"
        lines.append(
          "\(prefix): \(report.added.count) added, \(report.changed.count) changed, \(report.unchanged.count) unchanged, "
            + "\(report.onlyInStore.count) only in vault"
            + (prune && !report.prunable.isEmpty
              ? " (\(report.prunable.count) \(dryRun ? "would be " : "")removed)" : ""))
        return lines.joined(separator: "\n")
      }
    }
  }
}

/// `{"service", "key"}` in JSON output.
struct ServiceKeyJSON: Encodable {
  let service, key: String
  init(_ name: ServiceKey) {
    service = name.service
    key = name.key
  }
}
