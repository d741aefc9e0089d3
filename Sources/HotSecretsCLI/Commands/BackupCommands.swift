import ArgumentParser
import Foundation
import HotSecretsModel
import HotSecretsOperations
import HotSecretsPolicy
import HotSecretsVault
import VaultSQLite

extension HotSecrets {
  /// A consistent copy of the vault and its signed manifest.
  struct Backup: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "backup",
      abstract: "Write a consistent copy of the vault to FILE, with a signed manifest beside it.",
      discussion: """
        The copy is the vault itself in one SQLite file — every value as encrypted as in the \
        vault — taken while others go on reading and writing (SQLite's online backup API; a \
        PostgreSQL vault is copied row for row as `vault copy` does). FILE.manifest records the \
        copy's SHA-256 and size, the vault id, the audit head, every table's row count and \
        digest, and the date, signed with the vault's signing key (the key of the audit \
        checkpoints). Refuses to overwrite either file. Audited as `backup`.

        Prove it restores with `hotsecrets drill --from FILE`; restore it with `hotsecrets \
        restore FILE --to PATH` (docs/incident.md).

        \(ExitStatus.help())
        """)

    @OptionGroup var vault: VaultOptions
    @OptionGroup var output: OutputOptions
    @Option(help: ArgumentHelp("The backup file (FILE.manifest is written beside it).", valueName: "file"), completion: .file())
    var out: String

    func run() throws {
      let session = try vault.unlock()
      let manifest = try BackupFiles.write(session: session, to: out)
      try session.recordBackup(manifest)
      try output.print(
        CommandReport(manifest, summary: "backup: \(out) (\(manifest.bytes) bytes, sha256 \(manifest.sha256))") {
          "backup: \(out) and \(VaultBackup.manifestPath(of: out))\n  sha256 \(manifest.sha256), \(manifest.bytes) bytes, audit head seq \(manifest.audit_head_seq.map(String.init) ?? "-"), \(manifest.tables.reduce(0) { $0 + $1.rows }) rows"
        })
    }
  }

  /// Restores a backup to a new location after checking it.
  struct Restore: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "restore",
      abstract: "Restore a backup to a new vault at PATH after checking its manifest.",
      discussion: """
        Checks FILE against FILE.manifest — the signature (with the signing key of the \
        checkpoints file, ROOT/vault/audit-checkpoints.log or --checkpoints, when there is one: \
        a backup signed by another key is refused), the size, the SHA-256, then the vault id, \
        audit head and every table's rows and digest — and copies it to PATH, a new file or a \
        postgresql:// URI (with --schema), row for row; PATH must not hold a vault. The \
        restored vault is checked against the manifest again. Needs no unlock: only ciphertexts \
        move. Nothing is written when a check fails. Without a checkpoints file the backup's \
        signer cannot be checked: restore refuses unless --trust-manifest-key.

        \(ExitStatus.help("the backup failed a check"))
        """)

    @OptionGroup var output: OutputOptions
    @Argument(help: "The backup file.", completion: .file()) var file: String
    @Option(name: .customLong("to"), help: ArgumentHelp("Where to restore: a new vault file or a postgresql:// URI.", valueName: "path"))
    var destination: String
    @Option(help: ArgumentHelp("PostgreSQL destination: the schema (default hotsecrets).", valueName: "name")) var schema: String?
    @Option(help: "Project root (for the checkpoints file).", completion: .directory) var root: String = "."
    @Option(help: ArgumentHelp("Checkpoints file whose key must have signed the backup (default: ROOT/vault/audit-checkpoints.log).", valueName: "file"), completion: .file())
    var checkpoints: String?
    @Flag(help: "Without a checkpoints file: trust the signing key the manifest names (anyone can sign a forged backup with their own key).")
    var trustManifestKey = false

    func run() throws {
      let manifest = try VaultBackup.manifest(of: file)
      let checkpointsPath = AuditCheckpoints.path(explicit: checkpoints, root: root)
      let anchor = try VaultSignature.anchoredKey(checkpoints: checkpointsPath).map { ($0, "the checkpoints file \(checkpointsPath)") }
      if anchor == nil {
        guard trustManifestKey else {
          throw CLIError.invalidInput(
            "no checkpoints file at \(checkpointsPath) to say which key signs this vault's backups: give --checkpoints FILE (the committed vault/audit-checkpoints.log), or --trust-manifest-key to accept the key the manifest names")
        }
        StandardStreams.warning("no checkpoints file: the signature is checked with the key the manifest names only")
      }
      var checks = VaultBackup.checkFile(file, manifest: manifest, anchor: anchor)
      if checks.allSatisfy(\.passed) {
        try BackupFiles.withDuplicate(of: file) { copy in
          checks += VaultBackup.checkContents(try VaultBackup.contents(of: copy), manifest: manifest)
          guard checks.allSatisfy(\.passed) else { return }
          let target = try VaultOptions.store(
            at: destination, schema: schema, creating: true, busyTimeout: VaultOptions.environmentBusyTimeout)
          do {
            _ = try VaultCopy.copy(from: copy, to: target)
          } catch {
            target.discard()  // nothing half-restored is left behind
            throw error
          }
          checks += VaultBackup.checkContents(try VaultBackup.contents(of: target), manifest: manifest).map {
            BackupCheck("restored \($0.name)", $0.passed, $0.detail)
          }
        }
      }
      try output.print(BackupFiles.report(checks: checks, sha256: manifest.sha256, action: "restore \(file) to \(destination)"))
    }
  }

  /// Proves a backup restores.
  struct Drill: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "drill",
      abstract: "Prove a backup restores: restore it to a temporary place and check everything.",
      discussion: """
        Takes a fresh backup (or --from FILE), then checks: the manifest's signature, made with \
        this vault's signing key; the copy's size and SHA-256; its vault id, audit head and \
        every table's rows and digest against the manifest; restored to a temporary folder and \
        unlocked with your identity or passphrase, that every stored value of every version \
        decrypts, that the audit chain (hashes and MACs) and the checkpoints file verify, and \
        that `verify ENV` (each policies/ENV.yaml, or --env) gives the same findings as on the \
        live vault — compared only when the live vault has not changed since the backup. \
        Prints a report, records a `drill` audit entry in the live vault (for the compliance \
        export's recovery-testing evidence), and removes the temporary copy.

        \(ExitStatus.help("a check failed"))
        """)

    @OptionGroup var vault: VaultOptions
    @OptionGroup var output: OutputOptions
    @Option(help: ArgumentHelp("The backup to drill (default: a fresh one, removed afterwards).", valueName: "file"), completion: .file())
    var from: String?
    @Option(name: .customLong("env"), help: ArgumentHelp("Compare verify of this environment (repeatable; default: every policies/*.yaml).", valueName: "env"))
    var environments: [String] = []

    func run() async throws {
      let live = try vault.unlock()
      let scratch = try BackupFiles.scratchFolder()
      defer { try? FileManager.default.removeItem(atPath: scratch) }
      let file: String
      if let from {
        file = from
      } else {
        file = VaultLocation.join(scratch, "fresh-backup.db")
        _ = try BackupFiles.write(session: live, to: file)
      }
      let (report, manifest) = try await drill(file, live: live, scratch: scratch)
      // Every drill that got as far as a report is evidence, a failed one too.
      try live.recordDrill(report, backup: manifest)
      let result = BackupFiles.report(
        checks: report.checks, sha256: manifest?.sha256, action: "drill of \(from ?? "a fresh backup")")
      try output.print(
        CommandReport(
          DrillJSON(
            backup: .init(file: from ?? "(fresh, removed)", sha256: manifest?.sha256, created_at: manifest?.created_at),
            passed: report.passed, checks: report.checks, values_decrypted: report.valuesDecrypted,
            verify: report.verify),
          summary: result.summary, exitStatus: result.exitStatus, text: result.text))
    }

    /// The drill's checks of `file`, as far as they get: each stage runs only when every check
    /// before it passed. The manifest is nil when it could not be read.
    private func drill(_ file: String, live: VaultSession, scratch: String) async throws -> (DrillReport, BackupManifest?) {
      var report = DrillReport()
      let manifest: BackupManifest
      do {
        manifest = try VaultBackup.manifest(of: file)
      } catch {
        report.checks = [BackupCheck("manifest", false, ErrorMessage.describe(error))]
        return (report, nil)
      }
      // The key derived from the live vault's sealed signing key, not the public key stored beside
      // it, which someone who can write the file without its key could replace.
      report.checks = VaultBackup.checkFile(file, manifest: manifest, anchor: (try live.signingPublicKey(), "this vault"))
      report.checks.append(
        BackupCheck(
          "same vault", manifest.vault_id == live.vaultID,
          manifest.vault_id == live.vaultID
            ? "a backup of this vault" : "a backup of vault \(manifest.vault_id), not of this one (\(live.vaultID))"))
      guard report.passed else { return (report, manifest) }
      let copy = try BackupFiles.duplicate(of: file, into: scratch)
      report.checks += VaultBackup.checkContents(try VaultBackup.contents(of: copy), manifest: manifest)
      guard report.passed else { return (report, manifest) }
      let restored: VaultSession
      do {
        restored = try VaultAccess.unlock(copy, with: try vault.unlockMethod(), user: ProcessEnvironment.userName)
      } catch {
        report.checks.append(
          BackupCheck("unlock", false, "the restored copy does not open with your key: \(ErrorMessage.describe(error))"))
        return (report, manifest)
      }
      let checked = try await RestoreDrill.run(
        restored: restored, live: live, checkpoints: AuditCheckpoints.path(explicit: nil, root: vault.root),
        policies: try policies(), backupHead: (manifest.audit_head_seq, manifest.audit_head_hash))
      report.checks += checked.checks
      report.valuesDecrypted = checked.valuesDecrypted
      report.verify = checked.verify
      return (report, manifest)
    }

    struct DrillJSON: Encodable {
      struct Backup: Encodable {
        let file: String
        /// Null when the manifest could not be read.
        @NullEncoded var sha256: String?
        @NullEncoded var created_at: String?
      }
      let backup: Backup
      let passed: Bool
      let checks: [BackupCheck]
      let values_decrypted: Int
      let verify: [DrillVerify]
    }

    /// The policies to compare: --env, else every policies/*.yaml under ROOT.
    private func policies() throws -> [Policy] {
      var names = environments
      if names.isEmpty {
        let folder = VaultLocation.join(vault.root, "policies")
        names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
          .filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }.sorted()
      }
      return try names.map { try PolicyParser.load(path: VaultLocation.join(vault.root, "policies/\($0).yaml")) }
    }
  }
}

/// What backup, restore and drill share: writing a backup, a private duplicate to open, a scratch
/// folder, and the report.
enum BackupFiles {
  /// Writes the backup of `session`'s vault to `file` and its signed manifest beside it. A file
  /// vault is copied with SQLite's backup API; a PostgreSQL one row for row into a scratch file
  /// first. Refuses to overwrite either file.
  static func write(session: VaultSession, to file: String) throws -> BackupManifest {
    let manifestPath = VaultBackup.manifestPath(of: file)
    for path in [file, manifestPath] where FileManager.default.fileExists(atPath: path) {
      throw VaultError.vaultExists(path: path)
    }
    // The copy must hold the key that signs its manifest.
    _ = try session.signingPublicKey()
    let source: String
    if let store = session.database as? SQLiteStore {
      try store.backup(toNewFile: file)
      source = "file"
    } else {
      let scratch = try scratchFolder()
      defer { try? FileManager.default.removeItem(atPath: scratch) }
      let staging = try SQLiteStore.create(path: VaultLocation.join(scratch, "staging.db"))
      _ = try VaultCopy.copy(from: session.database, to: staging)
      try staging.backup(toNewFile: file)
      source = "postgresql"
    }
    do {
      let contents = try withDuplicate(of: file) { try VaultBackup.contents(of: $0) }
      return try VaultBackup.seal(file: file, contents: contents, source: source, session: session)
    } catch {
      try? FileManager.default.removeItem(atPath: file)
      throw error
    }
  }

  /// Runs `body` with the vault in a private duplicate of `file`, never `file` itself (opening a
  /// vault may bring its schema up to date, and a backup's bytes must stay as signed).
  static func withDuplicate<T>(of file: String, _ body: (SQLiteStore) throws -> T) throws -> T {
    let scratch = try scratchFolder()
    defer { try? FileManager.default.removeItem(atPath: scratch) }
    return try body(try duplicate(of: file, into: scratch))
  }

  /// The vault in a duplicate of `file` made in `folder` (see `withDuplicate`).
  static func duplicate(of file: String, into folder: String) throws -> SQLiteStore {
    let path = VaultLocation.join(folder, "duplicate.db")
    guard let bytes = FileManager.default.contents(atPath: file) else {
      throw VaultError.io(path: file, reason: "cannot read the backup")
    }
    try bytes.write(to: URL(fileURLWithPath: path))
    return try SQLiteStore.open(path: path)
  }

  /// A new private folder under the temporary directory.
  static func scratchFolder() throws -> String {
    var template = Array((FileManager.default.temporaryDirectory.path + "/hotsecrets-backup-XXXXXX").utf8CString)
    guard let made = mkdtemp(&template) else {
      throw VaultError.io(path: FileManager.default.temporaryDirectory.path, reason: "cannot create a temporary folder")
    }
    return String(cString: made)
  }

  struct ReportJSON: Encodable {
    let passed: Bool
    let checks: [BackupCheck]
    @NullEncoded var sha256: String?
  }

  /// One line per check (`ok` or `FAIL`, its name, what it found), then a verdict; `sha256` is the
  /// backup's, as its manifest gives it.
  static func report(checks: [BackupCheck], sha256: String?, action: String) -> CommandReport {
    let passed = checks.allSatisfy(\.passed)
    let failed = checks.filter { !$0.passed }.map(\.name)
    let summary =
      passed
      ? "\(action): passed (\(Plural.count(checks.count, "check")))"
      : "\(action): FAILED (\(failed.joined(separator: ", ")))"
    return CommandReport(
      ReportJSON(passed: passed, checks: checks, sha256: sha256), summary: summary,
      exitStatus: passed ? ExitStatus.success : ExitStatus.checkFailed
    ) {
      let width = checks.map(\.name.count).max() ?? 0
      return
        (checks.map {
          "  " + ($0.passed ? Colour.paint("ok  ", .green, fd: 1) : Colour.paint("FAIL", .red, fd: 1)) + "  "
            + $0.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.detail
        } + [summary]).joined(separator: "\n")
    }
  }
}
