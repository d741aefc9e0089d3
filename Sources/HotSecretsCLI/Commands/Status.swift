import ArgumentParser
import HotSecretsCompliance
import HotSecretsOperations

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
      let folder: String
      let snapshot: MirrorSnapshot
      do {
        (folder, snapshot) = try MirrorFolder.read(from, root: vault.root, environment: environment)
      } catch MirrorError.noFolder(let path) {
        // No folder at all: a mistyped environment says so rather than blame the folder.
        try KnownEnvironment.require(environment, session: try vault.unlock(), root: vault.root)
        throw MirrorError.noFolder(path: path)
      }
      let session = try vault.unlock()
      let drift = try session.mirrorDrift(snapshot, environment: environment)
      if snapshot.values.isEmpty, drift.inSync {
        try KnownEnvironment.require(environment, session: session, root: vault.root)
      }
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
