import ArgumentParser
import HotSecretsCompliance
import HotSecretsModel
import HotSecretsOperations
import HotSecretsVault

extension HotSecrets {
  /// Drift between the working copies and the vault.
  struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "status",
      abstract: "Compare DIR/<service>/ENV.env with the vault by name and fingerprint (exit 1 on drift).",
      discussion: """
        Lists keys added in the files, changed, and missing from the files, each with the side \
        that changed it since the files last matched the vault (the folder's base, written by \
        import and render): file changed, vault changed, both changed (a conflict), only in file, \
        only in vault. Never prints values and decrypts nothing.

        \(ExitStatus.help("the files and the vault differ"))
        """
    ).parsedDirectly()

    @OptionGroup var vault: VaultOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "Environment, e.g. prod.", completion: Completions.environment) var environment: String
    @Option(help: ArgumentHelp("Folder of service folders (default: ROOT/vault/occ).", valueName: "dir"), completion: .directory)
    var from: String?

    struct Report: Encodable {
      let in_sync: Bool
      let added, changed, missing: [MirrorWords.DifferenceJSON]
      let warnings: [String]
    }

    func run() throws {
      try output.print(try report())
    }

    /// The drift report. `session` is the vault already unlocked (`hotsecrets mcp`); without it the
    /// vault is unlocked here.
    func report(session unlocked: VaultSession? = nil) throws -> CommandReport {
      let unlock = { try unlocked ?? vault.unlock() }
      let folder: String
      let snapshot: MirrorSnapshot
      do {
        (folder, snapshot) = try MirrorFolder.read(from, root: vault.root, environment: environment)
      } catch MirrorError.noFolder(let path) {
        // No folder at all: a mistyped environment says so rather than blame the folder.
        try KnownEnvironment.require(environment, session: try unlock(), root: vault.root)
        throw MirrorError.noFolder(path: path)
      }
      let session = try unlock()
      let drift = try session.mirrorDrift(snapshot, environment: environment)
      if snapshot.values.isEmpty, drift.inSync {
        try KnownEnvironment.require(environment, session: session, root: vault.root)
      }
      let json = { (kind: MirrorDifference.Kind) in
        drift.differences.filter { $0.kind == kind }.map(MirrorWords.DifferenceJSON.init)
      }
      let document = Report(
        in_sync: drift.inSync, added: json(.added), changed: json(.changed), missing: json(.missing),
        warnings: snapshot.warnings)
      let environment = environment
      let summary =
        drift.inSync
        ? "\(environment): files and vault in sync (\(Plural.count(snapshot.values.count, "key")) in \(folder))"
        : "\(environment): files and vault differ (\(Plural.count(drift.differences.count, "difference")))"
      return CommandReport(document, summary: summary, exitStatus: drift.inSync ? ExitStatus.success : ExitStatus.checkFailed) {
        if drift.inSync { return summary }
        var lines = ["\(environment): files and vault differ"]
        let width = drift.differences.map(\.name.description.count).max() ?? 0
        lines += drift.differences.map { "  " + MirrorWords.line($0, width: width) }
        lines += MirrorWords.hints(drift, environment: environment)
        return lines.joined(separator: "\n")
      }
    }
  }
}
