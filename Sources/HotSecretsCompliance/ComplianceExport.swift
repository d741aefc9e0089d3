import Foundation
import HotSecretsModel
import HotSecretsOperations
import HotSecretsPolicy
import HotSecretsVault
import Sodium

/// `export compliance`: writes a signed evidence bundle for one environment (docs/compliance.md).
///
/// The bundle is built in a hidden sibling folder and renamed into place, so `--out` either gets a
/// whole bundle or nothing. It is audited (`export-compliance`, before the evidence is read, so the
/// bundle's audit head covers its own export) and anchored by a checkpoint of that head.
public struct ComplianceExport: Sendable {
  public struct Options: Sendable {
    /// Start of the period; nil means the vault's creation.
    public var since: Date?
    /// End of the period; nil means now.
    public var until: Date?
    /// The mirror folder `verify` checks for drift (when it exists).
    public var mirrorDirectory: String?
    public var checkpointsFile: String
    public var toolVersion: String
    /// A finding of the policy results in one line (the caller's words for what to run about it).
    public var findingWords: @Sendable (Finding) -> String
    /// The command that checks a bundle (`DIR` standing for its folder), for the report's footer.
    public var verifyCommand: String

    public init(
      since: Date?, until: Date?, mirrorDirectory: String?, checkpointsFile: String, toolVersion: String,
      findingWords: @escaping @Sendable (Finding) -> String = { $0.message }, verifyCommand: String
    ) {
      self.since = since
      self.until = until
      self.mirrorDirectory = mirrorDirectory
      self.checkpointsFile = checkpointsFile
      self.toolVersion = toolVersion
      self.findingWords = findingWords
      self.verifyCommand = verifyCommand
    }
  }

  /// What was written.
  public struct Result: Sendable {
    public let directory: String
    public let manifest: ComplianceManifest
    /// Bytes per file, manifest and signature included.
    public let sizes: [String: Int]
    /// SHA-256 (hex) per file, manifest and signature included.
    public let hashes: [String: String]
    public let auditEntriesInPeriod: Int
    public let inventoryRows: Int
    public let rotationRows: Int
    /// Rows of `reads.csv`, and the reads they count.
    public let readRows: Int
    public let reads: Int
    public let signingKeyCreated: Bool
    /// The checkpoint appended for the bundle's audit head, or why it could not be (the bundle is
    /// complete either way).
    public let checkpoint: AuditCheckpoint?
    public let checkpointError: String?
  }

  let session: VaultSession
  let policy: Policy
  let options: Options

  public init(session: VaultSession, policy: Policy, options: Options) {
    self.session = session
    self.policy = policy
    self.options = options
  }

  /// Writes the bundle to `directory`, which must not exist or be an empty folder. Throws
  /// `VaultError.io` naming the path when it cannot be written (nothing is left behind),
  /// `invalidValue` for a period that ends before it starts, `ComplianceError.periodEndsLater`
  /// for one that ends after the generation time (then nothing is written or audited).
  public func write(to directory: String) async throws -> Result {
    let target = try Self.prepare(directory)
    let start = session.now()
    let period = try resolvePeriod(now: start)
    try Self.checkCheckpointsFile(options.checkpointsFile)
    // Staged before anything is audited: a folder that cannot be written fails here, leaving no
    // trace. Failures after the audit entry (I/O while writing) remove the staging folder; the
    // entry then records an export that was attempted.
    let staging = try BundleFolder.stage(for: target)
    do {
      return try await write(into: staging, target: target, start: start, period: period)
    } catch {
      BundleFolder.discard(staging)
      throw error
    }
  }

  private func write(into staging: String, target: BundleFolder.Target, start: Date, period: CompliancePeriod)
    async throws -> Result
  {
    let (keyPair, created) = try session.database.write { tx in
      let pair = try SigningKey.loadOrCreate(
        keys: session.keys, vaultID: session.vaultID, actor: session.actor, at: start, in: tx)
      try AuditChain.append(
        AuditEvent(
          action: .exportCompliance, subject: policy.environment,
          detail: .object([
            "since": .string(period.since), "until": .string(period.until), "out": .string(target.path),
          ])),
        actor: session.actor, keys: session.keys, at: start, in: tx)
      return pair
    }
    // As `PolicyCheck` decides: drift is checked when the folder exists.
    let mirrorChecked = options.mirrorDirectory.flatMap { FileManager.default.fileExists(atPath: $0) ? $0 : nil }
    let report = try await PolicyCheck(
      session: session, policy: policy, probe: nil,
      options: .init(live: false, mirrorDirectory: mirrorChecked, asOf: start)
    ).run()
    let evidence = try EvidenceCollector(
      session: session, policy: policy, period: period, generatedAt: start, checkpointsFile: options.checkpointsFile,
      policyResults: VerifyReportJSON(report, policy: policy, strict: false, words: options.findingWords),
      mirrorChecked: mirrorChecked
    ).collect()

    let signer = Base64.encode(keyPair.publicKey)
    var contents: [(String, [UInt8])] = [
      ("inventory.csv", Array(ComplianceTables.inventory(evidence.inventory).utf8)),
      ("rotations.csv", Array(ComplianceTables.rotations(evidence.rotations).utf8)),
      ("access.csv", Array(ComplianceTables.access(evidence.access, period: period).utf8)),
      ("reads.csv", Array(ComplianceTables.reads(evidence.reads).utf8)),
      ("drills.csv", Array(ComplianceTables.drills(evidence.drills).utf8)),
      ("policy-results.json", Array(try StableJSON.encode(evidence.policyResults)) + [10]),
      ("audit.jsonl", evidence.auditJSONL),
      (
        "audit-verification.json",
        Array(try StableJSON.encode(AuditVerificationFile(evidence: evidence))) + [10]
      ),
      (
        "report.html",
        Array(
          ComplianceReportHTML.render(
            evidence, toolVersion: options.toolVersion, verifyCommand: options.verifyCommand
          ).utf8)
      ),
      (ComplianceManifest.signerFile, Array((signer + "\n").utf8)),
    ]
    let manifest = ComplianceManifest(
      format: ComplianceManifest.formatName,
      files: Dictionary(uniqueKeysWithValues: contents.map { ($0.0, ComplianceManifest.sha256($0.1)) }),
      vaultID: session.vaultID, environment: policy.environment, period: period, generatedAt: evidence.generatedAt,
      toolVersion: options.toolVersion, auditHead: evidence.auditHead, controls: evidence.controls, signer: signer,
      checksumsFile: ComplianceManifest.checksumsFile)
    let manifestBytes = Array(try StableJSON.encode(manifest)) + [10]
    let signature = try Ed25519.sign(manifestBytes, secretKey: keyPair.secretKey)
    contents.append((ComplianceManifest.manifestFile, manifestBytes))
    contents.append((ComplianceManifest.signatureFile, Array((Base64.encode(signature) + "\n").utf8)))
    contents.append(
      (
        ComplianceManifest.checksumsFile,
        Array(ComplianceManifest.sha256sums(contents.map { ($0.0, ComplianceManifest.sha256($0.1)) }).utf8)
      ))
    try BundleFolder.write(contents, into: staging)
    try BundleFolder.commit(staging, to: target)

    var checkpoint: AuditCheckpoint?
    var checkpointError: String?
    do {
      let line = try AuditCheckpoint(
        seq: evidence.auditHead.seq, hash: evidence.auditHead.hash, time: evidence.generatedAt,
        vaultID: session.vaultID, keyPair: keyPair)
      try AuditCheckpoints.append(line: line.line, to: options.checkpointsFile)
      checkpoint = line
    } catch {
      checkpointError = (error as? LocalizedError)?.errorDescription ?? "\(error)"
    }
    return Result(
      directory: target.path, manifest: manifest,
      sizes: Dictionary(uniqueKeysWithValues: contents.map { ($0.0, $0.1.count) }),
      hashes: Dictionary(uniqueKeysWithValues: contents.map { ($0.0, ComplianceManifest.sha256($0.1)) }),
      auditEntriesInPeriod: evidence.auditEntriesInPeriod, inventoryRows: evidence.inventory.count,
      rotationRows: evidence.rotations.count, readRows: evidence.reads.count,
      reads: evidence.reads.reduce(0) { $0 + $1.reads }, signingKeyCreated: created, checkpoint: checkpoint,
      checkpointError: checkpointError)
  }

  private func resolvePeriod(now: Date) throws -> CompliancePeriod {
    let since =
      try options.since.map(Timestamp.string(from:))
      ?? session.database.read { tx in
        try tx.header.read()?.createdAt ?? ""
      }
    let generated = Timestamp.string(from: now)
    let until = Timestamp.string(from: options.until ?? now)
    // A bundle cannot vouch for time that has not happened yet.
    guard until <= generated else { throw ComplianceError.periodEndsLater(until: until, generatedAt: generated) }
    guard since <= until else {
      throw VaultError.invalidValue(
        subject: "the export period", reason: "it ends (\(until)) before it starts (\(since))")
    }
    return CompliancePeriod(since: since, until: until)
  }

  /// Checks `directory` can receive a bundle: absent, or an empty folder (not a symbolic link).
  static func prepare(_ directory: String) throws -> BundleFolder.Target {
    var path = directory
    while path.count > 1, path.hasSuffix("/") { path.removeLast() }
    guard !path.isEmpty else { throw VaultError.io(path: directory, reason: "the bundle folder needs a name") }
    var info = stat()
    guard lstat(path, &info) == 0 else {
      guard errno == ENOENT else {
        throw VaultError.io(path: path, reason: "cannot be checked (\(String(cString: strerror(errno))))")
      }
      return BundleFolder.Target(path: path)
    }
    guard (info.st_mode & S_IFMT) == S_IFDIR else {
      let what = (info.st_mode & S_IFMT) == S_IFLNK ? "is a symbolic link" : "exists and is not a folder"
      throw VaultError.io(path: path, reason: "\(what); choose a new folder for the bundle")
    }
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: path) else {
      throw VaultError.io(path: path, reason: "cannot be listed, so it cannot be checked to be empty")
    }
    guard entries.isEmpty else {
      throw VaultError.io(
        path: path, reason: "is not empty; a bundle is never written over another: choose a new folder")
    }
    return BundleFolder.Target(path: path)
  }

  /// The checkpoints file must be a regular file when it exists (it is read, then appended to).
  static func checkCheckpointsFile(_ path: String) throws {
    var info = stat()
    guard stat(path, &info) == 0 else {
      guard errno == ENOENT else {
        throw VaultError.io(
          path: path, reason: "the checkpoints file cannot be reached (\(String(cString: strerror(errno))))")
      }
      return
    }
    guard (info.st_mode & S_IFMT) == S_IFREG else {
      throw VaultError.io(path: path, reason: "the checkpoints file is not a regular file")
    }
  }
}

/// Why a compliance bundle cannot be written, besides storage and I/O (`VaultError`).
public enum ComplianceError: LocalizedError, Equatable {
  /// The period asked for ends after the generation time: the bundle would claim a time to come.
  case periodEndsLater(until: String, generatedAt: String)

  public var errorDescription: String? {
    switch self {
    case .periodEndsLater(let until, let generatedAt):
      "the export period ends at \(until), later than the generation time \(generatedAt): a bundle cannot cover time that has not happened"
    }
  }
}

/// `audit-verification.json`: `audit verify --format json` of the whole chain and the checkpoints
/// file, plus the period's entries.
struct AuditVerificationFile: Encodable {
  let evidence: ComplianceEvidence

  enum CodingKeys: String, CodingKey {
    case checkpointsFile = "checkpoints_file"
    case periodEntries = "period_entries"
    case auditHead = "audit_head"
  }

  func encode(to encoder: Encoder) throws {
    try evidence.auditVerification.encode(to: encoder)
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(evidence.checkpointsFile, forKey: .checkpointsFile)
    try c.encode(evidence.auditEntriesInPeriod, forKey: .periodEntries)
    try c.encode(evidence.auditHead, forKey: .auditHead)
  }
}

/// Writes a folder of files all at once: into a hidden staging folder next to the target (a
/// fresh unique name, never an existing one), each file fsynced, then renamed into place.
enum BundleFolder {
  struct Target {
    /// Absent, or an empty folder (which the rename replaces atomically).
    let path: String
  }

  /// Creates the staging folder (0755) next to `target`, and its parent folders when missing.
  static func stage(for target: Target) throws -> String {
    try PathName.createFolder(of: target.path, private: false)
    let parent = PathName.folder(of: target.path)
    let base = (target.path as NSString).lastPathComponent
    var template = Array(VaultLocation.join(parent.isEmpty ? "." : parent, ".\(base).partial-XXXXXX").utf8CString)
    guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
      throw VaultError.io(
        path: target.path, reason: "cannot create a staging folder next to it (\(String(cString: strerror(errno))))")
    }
    let staging = String(cString: made)
    chmod(staging, 0o755)
    return staging
  }

  /// Writes `files` (name, bytes) into `staging`, each created 0644 and fsynced.
  static func write(_ files: [(String, [UInt8])], into staging: String) throws {
    for (name, bytes) in files {
      let path = VaultLocation.join(staging, name)
      let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
      guard fd >= 0 else {
        throw VaultError.io(path: path, reason: "cannot create the file (\(String(cString: strerror(errno))))")
      }
      defer { close(fd) }
      // The process umask (077) would leave it 0600; a bundle holds no secret and goes to auditors.
      fchmod(fd, 0o644)
      guard FileDescriptorIO.writeAll(fd, bytes), fsync(fd) == 0 else {
        throw VaultError.io(path: path, reason: "cannot write the file (\(String(cString: strerror(errno))))")
      }
    }
  }

  /// Renames `staging` to the target (replacing an empty folder) and syncs the parent folder.
  static func commit(_ staging: String, to target: Target) throws {
    let dir = open(staging, O_RDONLY | O_CLOEXEC)
    if dir >= 0 {
      fsync(dir)
      close(dir)
    }
    guard rename(staging, target.path) == 0 else {
      let reason =
        errno == ENOTEMPTY || errno == EEXIST
        ? "was filled by something else meanwhile" : String(cString: strerror(errno))
      throw VaultError.io(path: target.path, reason: "cannot move the bundle into place (\(reason))")
    }
    let parent = PathName.folder(of: target.path)
    let parentFD = open(parent.isEmpty ? "." : parent, O_RDONLY | O_CLOEXEC)
    if parentFD >= 0 {
      fsync(parentFD)
      close(parentFD)
    }
  }

  /// Removes a staging folder this process created (its files only; nothing else is touched).
  static func discard(_ staging: String) {
    for name in (try? FileManager.default.contentsOfDirectory(atPath: staging)) ?? [] {
      unlink(VaultLocation.join(staging, name))
    }
    rmdir(staging)
  }
}
