import Foundation
import GRDB

/// Reads a compliance bundle's evidence from the vault, in one read transaction (one snapshot).
struct EvidenceCollector {
  let session: VaultSession
  let policy: Policy
  let period: CompliancePeriod
  let generatedAt: Date
  let checkpointsFile: String
  let policyResults: VerifyReportJSON

  /// Days before the maximum age at which a key counts as due soon (as `verify` warns).
  static let dueSoonDays = 14

  func collect() throws -> ComplianceEvidence {
    try session.database.read { db in
      let environment = policy.environment
      var audit = AuditScan(period: period, environment: environment)
      let verification = try session.verifyAudit(checkpoints: checkpointsFile, in: db) { audit.visit($0) }
      if !verification.intact {
        // The chain check stopped at a bad entry; the entries after it are evidence too.
        let rest = try Row.fetchCursor(
          db,
          sql: """
            SELECT seq, time, actor_user, actor_recipient, action, subject, version, fingerprint, detail,
                   prev_hash, hash, mac FROM audit_log WHERE seq > ? ORDER BY seq
            """, arguments: [audit.lastSeq])
        while let row = try rest.next() { audit.visit(AuditEntry(positional: row)) }
      }
      guard let head = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1") else {
        throw VaultError.corruptVault("the audit trail is empty")
      }
      return ComplianceEvidence(
        environment: environment, vaultID: session.vaultID, generatedAt: Timestamp.string(from: generatedAt),
        period: period, policyFile: policy.file, inventory: try inventory(db), rotations: try rotations(db, audit),
        access: try access(db, audit), policyResults: policyResults, auditVerification: verification,
        checkpointsFile: checkpointsFile, auditHead: AuditHead(seq: head["seq"], hash: head["hash"]),
        auditJSONL: audit.jsonl, auditEntriesInPeriod: audit.inPeriod)
    }
  }

  // MARK: - Inventory

  private func inventory(_ db: Database) throws -> [InventoryRow] {
    let environment = policy.environment
    let stored = try session.currentSecrets(environment: environment, decrypting: { _ in false }, db: db)
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

  private func rotations(_ db: Database, _ audit: AuditScan) throws -> [RotationRow] {
    let rows = try Row.fetchAll(
      db,
      sql: """
        SELECT r.id, r.started_at, r.finished_at, r.state, r.actor_user,
               i.service, i.key, i.mode, i.state, i.old_version, i.new_version, i.revocation, i.error
        FROM rotation_runs r JOIN rotation_items i ON i.run_id = r.id
        WHERE r.environment = ? AND r.started_at >= ? AND r.started_at <= ?
        ORDER BY r.id, i.position
        """, arguments: [policy.environment, period.since, period.until])
    return rows.map { row in
      let run: Int64 = row[0]
      let runState: String = row[3]
      let itemState = RotationItemState(rawValue: row[8])
      let result =
        switch itemState {
        case .done, .promoted: "rotated"
        case .failed: "failed"
        case .rolledBack: "rolled-back"
        default: runState == "running" ? "in-progress" : "not-rotated"
        }
      let subject = "\(policy.environment)/\(row[5] as String)/\(row[6] as String)"
      return RotationRow(
        run: run, service: row[5], key: row[6], mode: row[7], startedAt: row[1], finishedAt: row[2], result: result,
        runResult: runState, oldVersion: row[9], newVersion: row[10],
        steps: audit.steps[AuditScan.StepKey(run: run, subject: subject)] ?? [], ranBy: row[4],
        recipient: audit.runRecipients[run] ?? nil, oldCredential: row[11], error: row[12])
    }
  }

  // MARK: - Access

  private func access(_ db: Database, _ audit: AuditScan) throws -> [AccessRow] {
    let exposures = Dictionary(
      grouping: try session.exposureRecords(environment: policy.environment, db: db), by: \.exposure.recipientID)
    return try RecipientRecord.order(Column("id")).fetchAll(db).compactMap { record in
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

  init(period: CompliancePeriod, environment: String) {
    self.period = period
    self.environment = environment
    jsonl.reserveCapacity(1 << 20)
  }

  mutating func visit(_ entry: AuditEntry) {
    lastSeq = entry.seq
    if period.contains(entry.time) {
      inPeriod += 1
      jsonl += Self.jsonLine(entry).utf8
    }
    let action = AuditAction(rawValue: entry.action)
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
      if action == .recipientAdd { recipientAdded[id] = Self.who(entry) } else { recipientRemoved[id] = Self.who(entry) }
    }
  }

  /// `user`, or `user (recipient ID:NAME)` as the audit trail records the recipient.
  private static func who(_ entry: AuditEntry) -> String {
    entry.actorRecipient.map { "\(entry.actorUser) (recipient \($0))" } ?? entry.actorUser
  }

  /// The `run` number of a rotation entry's detail object.
  private static func run(in detail: String?) -> Int64? {
    guard let detail, let data = detail.data(using: .utf8),
      let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    else { return nil }
    return (object["run"] as? NSNumber)?.int64Value
  }

  /// The entry as one canonical JSON object and a newline (`AuditEntry.appendCanonical`).
  static func jsonLine(_ e: AuditEntry) -> String {
    var out = ""
    e.appendCanonical(to: &out, withHashes: true)
    out += "\n"
    return out
  }
}
