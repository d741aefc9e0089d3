import Foundation
import HotSecretsModel
import HotSecretsOperations
import HotSecretsVault

/// The reporting period of a compliance bundle, as UTC ISO 8601 (both ends inclusive).
public struct CompliancePeriod: Sendable, Equatable, Codable {
  public let since: String
  public let until: String

  public init(since: String, until: String) {
    self.since = since
    self.until = until
  }

  /// Whether the timestamp `time` (same format) falls in the period.
  public func contains(_ time: String) -> Bool { time >= since && time <= until }
}

/// The audit chain's newest entry when the bundle was made.
public struct AuditHead: Sendable, Equatable, Codable {
  public let seq: Int64
  public let hash: String

  public init(seq: Int64, hash: String) {
    self.seq = seq
    self.hash = hash
  }
}

/// One secret of the inventory: what the policy says about it and what the vault holds. No value.
public struct InventoryRow: Sendable, Equatable {
  public enum Status: String, Sendable, CaseIterable {
    /// Present and within its maximum age.
    case ok
    /// Present; reaches its maximum age within 14 days.
    case dueSoon = "due-soon"
    /// Present and older than its maximum age.
    case overdue
    /// Required by the policy and not in the vault.
    case missing
    /// Optional in the policy and not in the vault.
    case absent
    /// In the vault and not in the policy.
    case undeclared
    /// hotsecrets' own management tokens (service `hotsecrets`: Fly, GitHub and provider admin
    /// tokens), which no policy declares and `verify` does not warn about.
    case management
  }

  public let service: String
  public let key: String
  /// Whether the policy declares the key.
  public let declared: Bool
  /// Policy `secret` (true for undeclared keys: treated as secret).
  public let secret: Bool
  /// Policy `required` (false for undeclared keys).
  public let required: Bool
  /// The current version; nil when the vault does not hold the key.
  public let version: Int?
  public let createdAt: String?
  /// Whole days since the current version was created, at the export time.
  public let ageDays: Int?
  /// The effective maximum age; nil for non-secrets and when the policy sets none.
  public let maxAgeDays: Int?
  /// `provider`, `generate`, `manual`, or empty for undeclared keys.
  public let rotation: String
  /// `fly:APP` and `github:OWNER/REPO:ENVIRONMENT` the key is deployed to.
  public let targets: [String]
  /// The first 16 hex digits of the keyed fingerprint (BLAKE2b under a vault subkey: reveals
  /// nothing about the value, and equal prefixes across versions mean equal values).
  public let fingerprintPrefix: String?
  public let status: Status
}

/// One key of one rotation run.
public struct RotationRow: Sendable, Equatable {
  public let run: Int64
  public let service: String
  public let key: String
  /// `openai`, `supabase`, `chatwoot`, `shopify`, `generate` or `manual`.
  public let mode: String
  public let startedAt: String
  public let finishedAt: String?
  /// What happened to this key: `rotated`, `failed`, `rolled-back`, `in-progress` (the run is still
  /// unfinished) or `not-rotated` (the run ended before reaching it).
  public let result: String
  /// The run's own state: `completed`, `failed`, `rolled-back` or `running`.
  public let runResult: String
  public let oldVersion: Int?
  public let newVersion: Int?
  /// The steps the audit trail records for this key in this run, in order (`create`, `test`, …).
  public let steps: [String]
  /// The user who started the run, and the recipient (`ID:NAME`) they unlocked with, from the audit trail.
  public let ranBy: String
  public let recipient: String?
  /// What happened to the old credential: `revoked`, `kept`, `pending-operator`, … (nil before promote).
  public let oldCredential: String?
  public let error: String?
}

/// One recipient who could unlock the vault at some point of the period.
public struct AccessRow: Sendable, Equatable {
  public let id: Int64
  /// `passphrase` or `x25519`.
  public let kind: String
  public let name: String
  /// The public recipient string (`hsr1…`) of an X25519 identity; nil for a passphrase.
  public let recipient: String?
  public let addedAt: String
  public let addedBy: String?
  public let removedAt: String?
  public let removedBy: String?
  /// The environment's secrets this (removed) recipient could have read, and whether each was
  /// rotated since (offboarding evidence).
  public var exposures: [ExposureRecord] = []

  /// Exposed secrets whose current value the recipient could still have read.
  public var openExposures: Int { exposures.count(where: \.isOpen) }
  /// When the last exposure was closed, once every one is (nil while any is open or none exists).
  public var exposuresClosedAt: String? {
    guard !exposures.isEmpty, openExposures == 0 else { return nil }
    return exposures.compactMap(\.closedAt).max()
  }

  /// Whether the recipient could still unlock at `time` (UTC ISO 8601): not removed by then.
  public func isActive(at time: String) -> Bool { removedAt.map { $0 > time } ?? true }
}

/// Who read values of the environment's secrets during the period, from the audit trail's read
/// entries: one row per reader (user and recipient), action and what was read. Names, counts,
/// versions and dates; never a value.
public struct ReadRow: Sendable, Equatable {
  /// What handed the values out, as the audit trail names it.
  public enum Action: String, Sendable, CaseIterable {
    /// One secret, printed.
    case get
    /// The environment's values (or some services'), put in a child process's environment.
    case run
    /// The environment's values, written to the mirror files.
    case render
    /// Credentials sent to their provider (or URLs connected to) by a live check.
    case verifyLive = "verify-live"
  }

  /// The OS user the audit entry names.
  public let user: String
  /// The recipient (`ID:NAME`) that unlocked, as the audit trail records it; nil when it names none.
  public let recipient: String?
  public let action: Action
  /// `SERVICE/KEY` for one secret; `*` for every key of the environment; `SERVICE/*` names
  /// (sorted) for a read limited to services.
  public let secrets: [String]
  /// Keys one read handed out: 1 for one secret; for a whole-environment or services read, the
  /// most any of these reads handed out (the entry records its count).
  public var keys: Int
  /// How many times, in the period.
  public var reads: Int
  /// The versions read (sorted, distinct): `get` records the version; other reads do not.
  public var versions: [Int]
  public var firstAt: String
  public var lastAt: String
}

/// One restore drill of the period (`hotsecrets drill`), from its `drill` audit entry.
public struct DrillRow: Sendable, Equatable {
  public let time: String
  public let user: String
  public let recipient: String?
  /// `passed` or `failed`.
  public let result: String
  /// The drilled backup's SHA-256 and creation time (nil for an entry without them).
  public let backupSHA256: String?
  public let backupCreatedAt: String?
  /// The names of the checks that failed.
  public let failedChecks: [String]
  public let valuesDecrypted: Int?
}

/// A control the report evaluates, with the SOC 2 criteria it supports.
public struct ComplianceControl: Sendable, Equatable, Codable {
  public enum Status: String, Sendable, Codable {
    case pass, fail
    /// Nothing to evaluate (e.g. no key has a maximum age): neither a pass nor a failure.
    case notApplicable = "not-applicable"
  }

  public let id: String
  public let title: String
  public let criteria: [String]
  /// False exactly when the control fails (true when it is not applicable: nothing fails). Read
  /// `status` to tell a pass from a control with nothing to evaluate.
  public let passed: Bool
  public let status: Status
  /// One line saying why, naming what failed.
  public let detail: String

  /// A control that was evaluated: it passes or fails.
  public init(id: String, title: String, criteria: [String], passed: Bool, detail: String) {
    self.init(id: id, title: title, criteria: criteria, status: passed ? .pass : .fail, detail: detail)
  }

  public init(id: String, title: String, criteria: [String], status: Status, detail: String) {
    self.id = id
    self.title = title
    self.criteria = criteria
    self.passed = status != .fail
    self.status = status
    self.detail = detail
  }

  enum CodingKeys: String, CodingKey {
    case id, title, criteria, passed, status, detail
  }

  /// Reads a control of any bundle: one written before `status` existed has `passed` only.
  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    id = try c.decode(String.self, forKey: .id)
    title = try c.decode(String.self, forKey: .title)
    criteria = try c.decode([String].self, forKey: .criteria)
    passed = try c.decode(Bool.self, forKey: .passed)
    detail = try c.decode(String.self, forKey: .detail)
    status = try c.decodeIfPresent(Status.self, forKey: .status) ?? (passed ? .pass : .fail)
  }
}

/// Everything a compliance bundle reports, read from the vault in one snapshot. Holds no secret
/// value: names, versions, dates, fingerprint prefixes and the audit trail (which never holds values).
public struct ComplianceEvidence: Sendable {
  public let environment: String
  public let vaultID: String
  public let generatedAt: String
  public let period: CompliancePeriod
  public let policyFile: String
  public let inventory: [InventoryRow]
  public let rotations: [RotationRow]
  public let access: [AccessRow]
  /// `verify ENV` at export time (no network checks), as `verify --format json` prints it.
  public let policyResults: VerifyReportJSON
  /// The whole chain and the checkpoints file, checked with MACs.
  public let auditVerification: AuditChain.Verification
  /// The path of the checkpoints file that was checked.
  public let checkpointsFile: String
  public let auditHead: AuditHead
  /// Audit entries in the period, one canonical JSON object per line (docs/compliance.md).
  public let auditJSONL: [UInt8]
  public let auditEntriesInPeriod: Int
  /// Who read which secrets of the environment in the period (`reads.csv`).
  public var reads: [ReadRow] = []
  /// The mirror folder the policy results compared with the vault (drift), nil when there was none.
  public var mirrorChecked: String? = nil
  /// The restore drills of the period, oldest first (`drills.csv`).
  public var drills: [DrillRow] = []

  /// The policy results' drift findings: where the mirror files and the vault differ.
  public var drift: [VerifyReportJSON.FindingJSON] {
    policyResults.findings.filter { $0.check == Finding.Check.drift.rawValue }
  }

  /// Keys past their maximum age.
  public var overdue: [InventoryRow] { inventory.filter { $0.status == .overdue } }

  /// Whether any key has a maximum age (its own or the policy's default): without one, the
  /// max-age control has nothing to evaluate.
  public var maxAgeApplies: Bool { inventory.contains { $0.maxAgeDays != nil } }

  /// The five controls the report summarises, in report order.
  public var controls: [ComplianceControl] {
    let undeclared = inventory.filter { $0.status == .undeclared }
    let presenceChecks: Set<String> = ["missing", "empty", "placeholder", "format"]
    let presence = policyResults.findings.filter { $0.severity == "error" && presenceChecks.contains($0.check) }
    let names = { (rows: [String]) in rows.prefix(5).joined(separator: ", ") + (rows.count > 5 ? ", …" : "") }
    let overdue = self.overdue
    let audit = auditVerification
    return [
      ComplianceControl(
        id: "inventory-complete", title: "Inventory complete", criteria: ["CC6.1"], passed: undeclared.isEmpty,
        detail: undeclared.isEmpty
          ? "every secret in \(environment) is declared in \(policyFile)"
          : "\(Plural.count(undeclared.count, "secret")) not declared in \(policyFile): \(names(undeclared.map { "\($0.service)/\($0.key)" }))"
      ),
      ComplianceControl(
        id: "required-keys-present", title: "All required keys present", criteria: ["CC6.1"],
        passed: presence.isEmpty,
        detail: presence.isEmpty
          ? "every required key is present, non-empty, not a placeholder and in its format"
          : "\(presence.count) problem(s): \(names(presence.map { "\($0.service)/\($0.key) (\($0.check))" }))"),
      maxAgeApplies
        ? ComplianceControl(
          id: "rotation-within-max-age", title: "Rotation within max age", criteria: ["CC6.1", "CC8.1"],
          passed: overdue.isEmpty,
          detail: overdue.isEmpty
            ? "no secret is older than its maximum age"
            : "\(Plural.count(overdue.count, "secret")) past their maximum age: \(names(overdue.map { "\($0.service)/\($0.key)" }))")
        : ComplianceControl(
          id: "rotation-within-max-age", title: "Rotation within max age", criteria: ["CC6.1", "CC8.1"],
          status: .notApplicable,
          detail: "no key has a maximum age: \(policyFile) sets no max_age_days for a secret, nor a default"),
      ComplianceControl(
        id: "audit-chain-intact", title: "Audit chain intact", criteria: ["CC7.2"], passed: audit.intact,
        detail: audit.intact
          ? "\(audit.entries) entries: hashes, links and MACs check; \(Plural.count(audit.checkpoints, "signed checkpoint")) verified"
          : "broken at seq \(audit.firstBadSeq.map(String.init) ?? "?"): \(audit.reason ?? "unknown")"),
      recoveryTested,
    ]
  }

  /// A1.3: a backup was proven to restore in the period — the last drill passed.
  var recoveryTested: ComplianceControl {
    let title = "Backups proven by a restore drill"
    guard let last = drills.last else {
      return ComplianceControl(
        id: "recovery-tested", title: title, criteria: ["A1.3"], passed: false,
        detail: "no restore drill in the period: no backup was proven to restore")
    }
    let passedCount = drills.filter { $0.result == "passed" }.count
    return ComplianceControl(
      id: "recovery-tested", title: title, criteria: ["A1.3"], passed: last.result == "passed",
      detail: last.result == "passed"
        ? "\(Plural.count(drills.count, "drill")) in the period, \(passedCount) passed; the last, \(last.time), restored backup \(last.backupSHA256.map { String($0.prefix(12)) } ?? "?") and passed every check"
        : "the last drill, \(last.time), failed: \(last.failedChecks.joined(separator: ", "))")
  }
}
