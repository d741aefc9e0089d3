import ArgumentParser
import HotSecretsCompliance

extension HotSecrets {
  /// Drift between the working copies and the vault.
  struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "status",
      abstract: "Compare DIR/<service>/ENV.env with the vault by name and fingerprint (exit 1 on drift).",
      discussion: """
        Lists keys added in the files, changed, and missing from the files. Never prints values \
        and decrypts nothing.

        \(ExitStatus.helpText)
        """
    ).parsedDirectly()

    @OptionGroup var vault: VaultOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "Environment, e.g. prod.") var environment: String
    @Option(help: ArgumentHelp("Folder of service folders (default: ROOT/vault/occ).", valueName: "dir"))
    var from: String?

    struct Report: Encodable {
      let in_sync: Bool
      let added, changed, missing: [ServiceKeyJSON]
      let warnings: [String]
    }

    func run() throws {
      let (folder, snapshot) = try MirrorFolder.read(from, root: vault.root, environment: environment)
      let drift = try vault.unlock().mirrorDrift(snapshot, environment: environment)
      let report = Report(
        in_sync: drift.inSync, added: drift.added.map(ServiceKeyJSON.init),
        changed: drift.changed.map(ServiceKeyJSON.init),
        missing: drift.missing.map(ServiceKeyJSON.init), warnings: snapshot.warnings)
      try output.write(report) {
        if drift.inSync {
          return "\(environment): files and vault in sync (\(snapshot.values.count) keys in \(folder))"
        }
        var lines = ["\(environment): files and vault differ"]
        for name in drift.added { lines.append("  added in files:     \(name)") }
        for name in drift.changed { lines.append("  changed in files:   \(name)") }
        for name in drift.missing { lines.append("  missing from files: \(name)") }
        lines.append(
          "run `hotsecrets import \(environment)` to store the files, or `hotsecrets render \(environment)` to rewrite them"
        )
        return lines.joined(separator: "\n")
      }
      if !drift.inSync { throw ExitCode(ExitStatus.checkFailed) }
    }
  }
}
