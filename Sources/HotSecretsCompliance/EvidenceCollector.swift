import Foundation
import HotSecretsModel
import HotSecretsOperations
import HotSecretsPolicy
import HotSecretsVault

/// Reads a compliance bundle's evidence from the vault, in one read transaction (one snapshot).
struct EvidenceCollector {
  let session: VaultSession
  let policy: Policy
  let period: CompliancePeriod
  let generatedAt: Date
  let checkpointsFile: String
  let policyResults: VerifyReportJSON
  /// The mirror folder the policy results compared with the vault, nil when there was none.
  var mirrorChecked: String? = nil

  /// Days before the maximum age at which a key counts as due soon (as `verify` warns).
  static let dueSoonDays = 14

  func collect() throws -> ComplianceEvidence {
    try session.database.read { tx in
      let environment = policy.environment
      var audit = AuditScan(period: period, environment: environment)
      let verification = try session.verifyAudit(checkpoints: checkpointsFile, in: tx) { audit.visit($0) }
      if !verification.intact {
        // The chain check stopped at a bad entry; the entries after it are evidence too.
        try tx.audit.scan(after: audit.lastSeq) {
          audit.visit($0)
          return true
        }
      }
      guard let head = try tx.audit.head() else {
        throw VaultError.corruptVault("the audit trail is empty")
      }
      return ComplianceEvidence(
        environment: environment, vaultID: session.vaultID, generatedAt: Timestamp.string(from: generatedAt),
        period: period, policyFile: policy.file, inventory: try inventory(tx), rotations: try rotations(tx, audit),
        access: try access(tx, audit), policyResults: policyResults, auditVerification: verification,
        checkpointsFile: checkpointsFile, auditHead: AuditHead(seq: head.seq, hash: head.hash),
        auditJSONL: audit.jsonl, auditEntriesInPeriod: audit.inPeriod, reads: audit.readRows,
        mirrorChecked: mirrorChecked, drills: audit.drills)
    }
  }

  // MARK: - Inventory

  private func inventory(_ tx: any StoreTransaction) throws -> [InventoryRow] {
    let environment = policy.environment
    let stored = try session.currentSecrets(environment: environment, decrypting: { _ in false }, tx: tx)
    var targetsByService: [String: [String]] = [:]
    for target in policy.flyTargets {
      for service in target.services { targetsByService[service, default: []].append("fly:\(target.app)") }
    }
    for target in policy.githubTargets {
      for service in target.services {
        targetsByService[service, default: []].append("github:\(target.repository):\(target.environment)")
      }
    }
    var rows: [InventoryRow] = []
    var declared = Set<ServiceKey>()
    for service in policy.services {
      for key in service.keys {
        let name = ServiceKey(service: service.name, key: key.name)
        declared.insert(name)
        rows.append(
          row(
            name, secret: stored[name], declared: true, isSecret: key.secret, required: key.required,
            maxAge: key.effectiveMaxAgeDays(in: policy), rotation: key.rotate.name,
            targets: targetsByService[service.name] ?? []))
      }
    }
    for name in stored.keys.sorted() where !declared.contains(name) {
      // `sync` deploys every key of a target's services, declared or not.
      rows.append(
        row(
          name, secret: stored[name], declared: false, isSecret: true, required: false, maxAge: nil, rotation: "",
          targets: targetsByService[name.service] ?? []))
    }
    return rows
  }

  private func row(
    _ name: ServiceKey, secret: StoredSecret?, declared: Bool, isSecret: Bool, required: Bool, maxAge: Int?,
    rotation: String, targets: [String]
  ) -> InventoryRow {
    let age = secret.flatMap { Timestamp.date(from: $0.createdAt) }.map { Timestamp.days(from: $0, to: generatedAt) }
    let status: InventoryRow.Status
    if secret == nil {
      status = required ? .missing : .absent
    } else if !declared {
      status = name.service == PolicyCheck.managementService ? .management : .undeclared
    } else if let maxAge, let age, age > maxAge {
      status = .overdue
    } else if let maxAge, let age, age > maxAge - Self.dueSoonDays {
      status = .dueSoon
    } else {
      status = .ok
    }
    return InventoryRow(
      service: name.service, key: name.key, declared: declared, secret: isSecret, required: required,
      version: secret?.version, createdAt: secret?.createdAt, ageDays: age, maxAgeDays: maxAge, rotation: rotation,
      targets: targets, fingerprintPrefix: secret.map { String($0.fingerprint.prefix(16)) }, status: status)
  }

  // MARK: - Rotations

  private func rotations(_ tx: any StoreTransaction, _ audit: AuditScan) throws -> [RotationRow] {
    try tx.journal.history(environment: policy.environment, since: period.since, until: period.until).map { row in
      let result =
        switch row.item.state {
        case .done, .promoted: "rotated"
        case .failed: "failed"
        case .rolledBack: "rolled-back"
        default: row.runState == "running" ? "in-progress" : "not-rotated"
        }
      let subject = "\(policy.environment)/\(row.item.service)/\(row.item.key)"
      return RotationRow(
        run: row.run, service: row.item.service, key: row.item.key, mode: row.item.mode.rawValue,
        startedAt: row.startedAt, finishedAt: row.finishedAt, result: result, runResult: row.runState,
        oldVersion: row.item.oldVersion, newVersion: row.item.newVersion,
        steps: audit.steps[AuditScan.StepKey(run: row.run, subject: subject)] ?? [], ranBy: row.actorUser,
        recipient: audit.runRecipients[row.run] ?? nil, oldCredential: row.item.revocation?.rawValue,
        error: row.item.error)
    }
  }

  // MARK: - Access

  private func access(_ tx: any StoreTransaction, _ audit: AuditScan) throws -> [AccessRow] {
    let exposures = Dictionary(
      grouping: try session.exposureRecords(environment: policy.environment, tx: tx), by: \.exposure.recipientID)
    return try tx.recipients.all().compactMap { record in
      guard let id = record.id, record.addedAt <= period.until else { return nil }
      if let removed = record.removedAt, removed < period.since { return nil }
      var row = AccessRow(
        id: id, kind: record.kind, name: record.name,
        recipient: record.kind == Recipient.Kind.x25519.rawValue ? record.publicKey : nil, addedAt: record.addedAt,
        addedBy: audit.recipientAdded[id], removedAt: record.removedAt, removedBy: audit.recipientRemoved[id])
      row.exposures = exposures[id] ?? []
      return row
    }
  }
}

/// One pass over the audit trail: the period's entries as JSON lines, and the facts the other
/// tables take from the trail (rotation steps, who ran a run, who added or removed a recipient).
struct AuditScan {
  struct StepKey: Hashable {
    let run: Int64
    let subject: String
  }

  let period: CompliancePeriod
  let environment: String
  var jsonl: [UInt8] = []
  var inPeriod = 0
  /// The last seq seen; 0 before any.
  var lastSeq: Int64 = 0
  var steps: [StepKey: [String]] = [:]
  /// The recipient (`ID:NAME`) that started each run, nil when the entry names none.
  var runRecipients: [Int64: String?] = [:]
  var recipientAdded: [Int64: String] = [:]
  var recipientRemoved: [Int64: String] = [:]
  /// The period's reads of the environment's values, by reader, action and what was read.
  var reads: [ReadKey: ReadRow] = [:]
  /// The period's restore drills (of the whole vault: a backup holds every environment).
  var drills: [DrillRow] = []

  struct ReadKey: Hashable {
    let user: String
    let recipient: String?
    let action: ReadRow.Action
    let secrets: [String]
  }

  /// `reads` in a stable order: by user, recipient, action, then what was read.
  var readRows: [ReadRow] {
    reads.values.sorted {
      if $0.user != $1.user { return $0.user < $1.user }
      if $0.recipient != $1.recipient { return ($0.recipient ?? "") < ($1.recipient ?? "") }
      if $0.action != $1.action {
        return ReadRow.Action.allCases.firstIndex(of: $0.action)! < ReadRow.Action.allCases.firstIndex(of: $1.action)!
      }
      return $0.secrets.lexicographicallyPrecedes($1.secrets)
    }
  }

  init(period: CompliancePeriod, environment: String) {
    self.period = period
    self.environment = environment
    jsonl.reserveCapacity(1 << 20)
  }

  mutating func visit(_ entry: AuditEntry) {
    lastSeq = entry.seq
    let action = AuditAction(rawValue: entry.action)
    if period.contains(entry.time) {
      inPeriod += 1
      jsonl += Self.jsonLine(entry).utf8
      recordRead(entry, action)
      if action == .drill { recordDrill(entry) }
    }
    if action.isRotation {
      guard let run = Self.run(in: entry.detail) else { return }
      if action == .rotatePlan {
        if entry.subject == environment { runRecipients[run] = .some(entry.actorRecipient) }
      } else if let subject = entry.subject, let step = action.rotationStep {
        steps[StepKey(run: run, subject: subject), default: []].append(step)
      }
    } else if action == .recipientAdd || action == .recipientRemove,
      let subject = entry.subject, subject.hasPrefix("recipient/"), let id = Int64(subject.dropFirst(10))
    {
      if action == .recipientAdd {
        recipientAdded[id] = Self.who(entry)
      } else {
        recipientRemoved[id] = Self.who(entry)
      }
    }
  }

  /// Counts `entry` when it handed values of the environment out: `get` (subject
  /// `ENV/SERVICE/KEY`), `run` and `render` (subject `ENV`; detail `keys`, and `services` when
  /// limited to some), `verify-live` (subject `ENV`; detail `sent` and `connected`: the keys
  /// probed). Other entries read no value, or deliver values to the policy's targets (`sync`,
  /// rotation steps), and are not reads.
  private mutating func recordRead(_ entry: AuditEntry, _ action: AuditAction) {
    guard let subject = entry.subject else { return }
    switch action {
    case .get:
      let prefix = environment + "/"
      guard subject.hasPrefix(prefix) else { return }
      count(entry, .get, secrets: [String(subject.dropFirst(prefix.count))], keys: 1, version: entry.version)
    case .run, .render:
      guard subject == environment else { return }
      let detail = Self.object(entry.detail)
      let keys = (detail?["keys"] as? NSNumber)?.intValue ?? 0
      let services = (detail?["services"] as? [Any])?.compactMap { $0 as? String }
      let secrets = services.map { $0.sorted().map { "\($0)/*" } } ?? ["*"]
      count(entry, action == .run ? .run : .render, secrets: secrets, keys: keys, version: nil)
    case .verifyLive:
      guard subject == environment, let detail = Self.object(entry.detail) else { return }
      var names = Set<String>()
      for field in ["sent", "connected"] {
        for name in (detail[field] as? [Any]) ?? [] { if let name = name as? String { names.insert(name) } }
      }
      for name in names.sorted() { count(entry, .verifyLive, secrets: [name], keys: 1, version: nil) }
    default:
      return
    }
  }

  /// A `drill` entry's row: its detail's `result`, `backup_sha256`, `backup_created_at`,
  /// `failed_checks` and `values_decrypted`.
  private mutating func recordDrill(_ entry: AuditEntry) {
    let detail = Self.object(entry.detail) ?? [:]
    drills.append(
      DrillRow(
        time: entry.time, user: entry.actorUser, recipient: entry.actorRecipient,
        result: detail["result"] as? String ?? "unknown", backupSHA256: detail["backup_sha256"] as? String,
        backupCreatedAt: detail["backup_created_at"] as? String,
        failedChecks: (detail["failed_checks"] as? [Any])?.compactMap { $0 as? String } ?? [],
        valuesDecrypted: (detail["values_decrypted"] as? NSNumber)?.intValue))
  }

  private mutating func count(
    _ entry: AuditEntry, _ action: ReadRow.Action, secrets: [String], keys: Int, version: Int?
  ) {
    let key = ReadKey(user: entry.actorUser, recipient: entry.actorRecipient, action: action, secrets: secrets)
    if var row = reads[key] {
      row.reads += 1
      row.keys = max(row.keys, keys)
      if let version, !row.versions.contains(version) {
        row.versions.append(version)
        row.versions.sort()
      }
      // Entries come in seq order; times are compared anyway (a clock may step back).
      row.firstAt = min(row.firstAt, entry.time)
      row.lastAt = max(row.lastAt, entry.time)
      reads[key] = row
    } else {
      reads[key] = ReadRow(
        user: entry.actorUser, recipient: entry.actorRecipient, action: action, secrets: secrets, keys: keys,
        reads: 1, versions: version.map { [$0] } ?? [], firstAt: entry.time, lastAt: entry.time)
    }
  }

  /// `user`, or `user (recipient ID:NAME)` as the audit trail records the recipient.
  private static func who(_ entry: AuditEntry) -> String {
    entry.actorRecipient.map { "\(entry.actorUser) (recipient \($0))" } ?? entry.actorUser
  }

  /// The `run` number of a rotation entry's detail object.
  private static func run(in detail: String?) -> Int64? {
    (object(detail)?["run"] as? NSNumber)?.int64Value
  }

  /// An entry's detail as a JSON object, nil when it is none.
  private static func object(_ detail: String?) -> [String: Any]? {
    guard let detail, let data = detail.data(using: .utf8) else { return nil }
    return try? JSONSerialization.jsonObject(with: data) as? [String: Any]
  }

  /// The entry as one canonical JSON object and a newline (`AuditEntry.appendCanonical`).
  static func jsonLine(_ e: AuditEntry) -> String {
    var out = ""
    e.appendCanonical(to: &out, withHashes: true)
    out += "\n"
    return out
  }
}
