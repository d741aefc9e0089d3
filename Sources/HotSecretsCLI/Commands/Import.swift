import ArgumentParser
import HotSecretsModel
import HotSecretsOperations

extension HotSecrets {
  /// Stores the working copies `DIR/<service>/ENV.env` in the vault.
  struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "import",
      abstract: "Store DIR/<service>/ENV.env files in the vault (one transaction: all or nothing).",
      discussion: """
        New keys are added, changed values get a new version, unchanged ones are left alone. \
        Keys in the vault but in no file are reported and kept, unless --prune. One bad file \
        (reported as FILE:LINE:COL) means nothing is imported. --prune asks before removing \
        anything on a terminal; elsewhere it needs --yes (exit 64 without it, nothing changed).

        The folder's base (.hotsecrets-base-ENV.env, written by import and render) says which \
        side changed each key since the files last matched the vault. A key changed in the vault \
        since then (or on both sides) is a conflict: the import refuses (exit 1, nothing written) \
        and names them, unless --take file (or --force) stores the files' values anyway, or \
        --take vault stores only the files' changes and keeps the vault's (then run render).

        \(ExitStatus.help("refused: a vault-side change would be undone; or declined at the prompt"))
        """)

    @OptionGroup var vault: VaultOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "Environment, e.g. prod (reads <service>/prod.env).", completion: Completions.environment) var environment: String
    @Option(help: ArgumentHelp("Folder of service folders (default: ROOT/vault/occ).", valueName: "dir"), completion: .directory)
    var from: String?
    @Flag(help: "Show what would change; write nothing.") var dryRun = false
    @Flag(help: "Remove keys that are in the vault but in no file.") var prune = false
    @Option(
      help: ArgumentHelp(
        "On a key the vault changed since the base: 'file' stores the file's value anyway, 'vault' keeps the vault's.",
        valueName: "side"))
    var take: TakeSide?
    @Flag(help: "Same as --take file.") var force = false
    @Flag(name: [.short, .long], help: "With --prune: remove without asking.") var yes = false

    func validate() throws {
      if force, take == .vault { throw ValidationError("--force means --take file; pass one of them") }
    }

    struct Report: Encodable {
      let environment: String
      let dry_run, pruned: Bool
      let added, changed, only_in_store, kept_vault: [ServiceKeyJSON]
      let unchanged: Int
      let warnings: [String]
    }

    func run() throws {
      let (folder, snapshot) = try MirrorFolder.read(from, root: vault.root, environment: environment)
      let report: ImportReport
      let session = try vault.unlock()
      let choice: MirrorTake = force ? .file : take?.mirrorTake ?? .refuse
      do {
        if prune && !dryRun && !yes {
          let plan = try session.importMirror(snapshot, environment: environment, prune: true, dryRun: true, take: choice)
          if !plan.prunable.isEmpty {
            try Confirmation.require(
              "remove \(Plural.count(plan.prunable.count, "key")) in no file (\(plan.prunable.map(\.description).joined(separator: ", ")))?",
              yes: yes)
          }
        }
        report = try session.importMirror(
          snapshot, environment: environment, prune: prune, dryRun: dryRun, take: choice)
      } catch MirrorError.conflict(_, let keys) {
        try MirrorWords.reportConflicts(keys, direction: .toVault, environment: environment, output: output)
        throw ExitCode(ExitStatus.checkFailed)
      }
      if let warning = report.baseWarning { StandardStreams.warning("\(warning)") }
      let json = Report(
        environment: environment, dry_run: dryRun, pruned: prune && !dryRun && !report.prunable.isEmpty,
        added: report.added.map(ServiceKeyJSON.init), changed: report.changed.map(ServiceKeyJSON.init),
        only_in_store: report.onlyInStore.map(ServiceKeyJSON.init),
        kept_vault: report.keptVault.map(ServiceKeyJSON.init), unchanged: report.unchanged.count,
        warnings: snapshot.warnings)
      try output.write(json) {
        var lines: [String] = []
        let verb = dryRun ? "would " : ""
        for name in report.added { lines.append("  \(verb)add     \(name)") }
        for name in report.changed { lines.append("  \(verb)change  \(name)") }
        for name in report.keptVault { lines.append("  kept    \(name) (changed in the vault: the vault's value stays)") }
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
            + (report.keptVault.isEmpty ? "" : ", \(report.keptVault.count) kept from the vault")
            + (prune && !report.prunable.isEmpty
              ? " (\(report.prunable.count) \(dryRun ? "would be " : "")removed)" : ""))
        if !report.keptVault.isEmpty && !dryRun {
          lines.append("run `hotsecrets render \(environment)` to write the vault's changes into the files")
        }
        return lines.joined(separator: "\n")
      }
    }
  }
}

/// The side `--take` names.
enum TakeSide: String, ExpressibleByArgument, CaseIterable {
  case file, vault
  var mirrorTake: MirrorTake { self == .file ? .file : .vault }
}

/// `{"service", "key"}` in JSON output.
struct ServiceKeyJSON: Encodable {
  let service, key: String
  init(_ name: ServiceKey) {
    service = name.service
    key = name.key
  }
}
