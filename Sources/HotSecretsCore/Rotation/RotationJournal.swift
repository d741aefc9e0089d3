import Foundation
import GRDB

/// The steps of a rotation run, in order. Each is journaled (and audited) before the next begins.
public enum RotationStep: String, Sendable, CaseIterable, Comparable {
  case plan, create, test, push, verify, promote, revoke, rollback, done

  public static func < (a: RotationStep, b: RotationStep) -> Bool {
    allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
  }
}

/// Where one key of a run stands.
public enum RotationItemState: String, Sendable {
  case planned, created, tested, pushed, verified, promoted
  /// Promoted and its old credential handled (revoked, kept, or left to the operator).
  case done
  case failed
  case rolledBack = "rolled-back"
}

/// What happened to a key's old credential.
public enum Revocation: String, Sendable {
  /// Revoked at the provider after every target verified the new one.
  case revoked
  /// Kept live on purpose (`--revoke-old never`) or because no match was certain.
  case kept
  /// The operator must revoke it (Shopify, manual keys); `--confirm-revoked` records it.
  case pendingOperator = "pending-operator"
  /// The provider refused to revoke it; it is still live.
  case failed
  /// Nothing to revoke (generated values; single-phase providers, whose old token died at once).
  case notNeeded = "not-needed"
  /// Kept because a Fly target was only staged: its machines still run the old value until their
  /// next deploy. Revoke it by hand afterwards, then `--confirm-revoked`.
  case deferred
  /// Not revoked because the same value is current elsewhere in the vault (another key or environment).
  case shared
}

/// One key of a rotation run, as journaled.
public struct RotationItem: Sendable, Equatable {
  public let service: String
  public let key: String
  public let mode: RotationSource
  /// Minting killed the old credential (Chatwoot): promoted at once, never rolled back.
  public let singlePhase: Bool
  public var oldVersion: Int?
  public var newVersion: Int?
  public var oldCredentialID: String?
  public var newCredentialID: String?
  public var state: RotationItemState
  public var revocation: Revocation?
  /// What happened to the new credential of a failed or rolled-back item: `revoked`, or `failed`
  /// (still live at the provider; `verify` warns until `--confirm-revoked`).
  public var newRevocation: Revocation? = nil
  public var error: String?

  public var name: ServiceKey { ServiceKey(service: service, key: key) }
}

/// A rotation run as journaled.
public struct RotationRunRecord: Sendable {
  public let id: Int64
  public let environment: String
  public let startedAt: String
  public let actorUser: String
  public let state: String
  public let step: RotationStep
  public let deploy: String
  public let revokeOld: String
}

/// Reads and writes `rotation_runs`, `rotation_items` and `credential_ids`.
enum RotationJournal {
  /// Refuses a change to one of `names` while an unfinished rotation of `environment` holds it: the
  /// run would promote over the change, or revoke a value the change brought back.
  static func guardAgainstUnfinishedRun(environment: String, names: [ServiceKey], db: Database) throws {
    guard let run = try unfinished(environment: environment, db: db) else { return }
    let held = Set(try items(run: run.id, db: db).map(\.name))
    if let name = names.first(where: held.contains) {
      throw RotationError.keyInUnfinishedRun(
        name: "\(environment)/\(name)", environment: environment, run: run.id, step: run.step.rawValue)
    }
  }

  static func unfinished(environment: String, db: Database) throws -> RotationRunRecord? {
    try Row.fetchOne(
      db,
      sql: """
        SELECT id, environment, started_at, actor_user, state, step, deploy, revoke_old FROM rotation_runs
        WHERE environment = ? AND state = 'running'
        """, arguments: [environment]
    ).map(run)
  }

  static func run(id: Int64, db: Database) throws -> RotationRunRecord? {
    try Row.fetchOne(
      db,
      sql:
        "SELECT id, environment, started_at, actor_user, state, step, deploy, revoke_old FROM rotation_runs WHERE id = ?",
      arguments: [id]
    ).map(run)
  }

  private static func run(_ row: Row) -> RotationRunRecord {
    RotationRunRecord(
      id: row[0], environment: row[1], startedAt: row[2], actorUser: row[3], state: row[4],
      step: RotationStep(rawValue: row[5]) ?? .plan, deploy: row[6], revokeOld: row[7])
  }

  static func begin(
    environment: String, items: [RotationItem], deploy: String, revokeOld: String, actor: String, at: String,
    db: Database
  ) throws -> Int64 {
    try db.execute(
      sql: """
        INSERT INTO rotation_runs (environment, started_at, actor_user, state, step, deploy, revoke_old)
        VALUES (?, ?, ?, 'running', 'plan', ?, ?)
        """, arguments: [environment, at, actor, deploy, revokeOld])
    let id = db.lastInsertedRowID
    for (position, item) in items.enumerated() {
      try db.execute(
        sql: """
          INSERT INTO rotation_items (run_id, position, service, key, mode, single_phase, old_version, state, updated_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
          """,
        arguments: [
          id, position, item.service, item.key, item.mode.rawValue, item.singlePhase, item.oldVersion, item.state.rawValue, at,
        ])
    }
    return id
  }

  static func items(run: Int64, db: Database) throws -> [RotationItem] {
    try Row.fetchAll(
      db,
      sql: """
        SELECT service, key, mode, single_phase, old_version, new_version, old_credential_id, new_credential_id,
               state, revocation, error, new_revocation
        FROM rotation_items WHERE run_id = ? ORDER BY position
        """, arguments: [run]
    ).map { row in
      let modeName: String = row[2]
      guard let mode = RotationSource(rawValue: modeName) else {
        throw VaultError.corruptVault("rotation run \(run) has a key with an unknown mode \"\(modeName)\"")
      }
      return RotationItem(
        service: row[0], key: row[1], mode: mode, singlePhase: row[3], oldVersion: row[4], newVersion: row[5],
        oldCredentialID: row[6], newCredentialID: row[7], state: RotationItemState(rawValue: row[8]) ?? .failed,
        revocation: (row[9] as String?).flatMap(Revocation.init),
        newRevocation: (row[11] as String?).flatMap(Revocation.init), error: row[10])
    }
  }

  static func update(_ item: RotationItem, run: Int64, at: String, db: Database) throws {
    try db.execute(
      sql: """
        UPDATE rotation_items SET new_version = ?, old_credential_id = ?, new_credential_id = ?, state = ?,
          revocation = ?, error = ?, new_revocation = ?, updated_at = ?
        WHERE run_id = ? AND service = ? AND key = ?
        """,
      arguments: [
        item.newVersion, item.oldCredentialID, item.newCredentialID, item.state.rawValue, item.revocation?.rawValue,
        item.error, item.newRevocation?.rawValue, at, run, item.service, item.key,
      ])
  }

  static func setStep(_ step: RotationStep, run: Int64, db: Database) throws {
    try db.execute(sql: "UPDATE rotation_runs SET step = ? WHERE id = ?", arguments: [step.rawValue, run])
  }

  static func finish(run: Int64, state: String, error: String?, at: String, db: Database) throws {
    try db.execute(
      sql: "UPDATE rotation_runs SET state = ?, step = 'done', error = ?, finished_at = ? WHERE id = ?",
      arguments: [state, error, at, run])
  }

  static func credentialID(environment: String, name: ServiceKey, version: Int, db: Database) throws -> String? {
    try String.fetchOne(
      db,
      sql: "SELECT credential_id FROM credential_ids WHERE environment = ? AND service = ? AND key = ? AND version = ?",
      arguments: [environment, name.service, name.key, version])
  }

  static func recordCredentialID(_ id: String, environment: String, name: ServiceKey, version: Int, db: Database)
    throws
  {
    try db.execute(
      sql:
        "INSERT OR REPLACE INTO credential_ids (environment, service, key, version, credential_id) VALUES (?, ?, ?, ?, ?)",
      arguments: [environment, name.service, name.key, version, id])
  }

  /// Records that the operator revoked by hand `name`'s credentials that hotsecrets left live: the
  /// old one of its latest rotation, and new ones that failed rotations could not revoke. Throws
  /// `notPendingRevocation` when there is none.
  static func confirmRevoked(environment: String, name: ServiceKey, db: Database) throws -> Int64 {
    let orphan = try Int64.fetchOne(
      db,
      sql: """
        SELECT MAX(i.run_id) FROM rotation_items i JOIN rotation_runs r ON r.id = i.run_id
        WHERE r.environment = ? AND i.service = ? AND i.key = ? AND i.new_revocation = 'failed'
        """, arguments: [environment, name.service, name.key])
    if let orphan {
      try db.execute(
        sql: """
          UPDATE rotation_items SET new_revocation = 'revoked'
          WHERE service = ? AND key = ? AND new_revocation = 'failed'
            AND run_id IN (SELECT id FROM rotation_runs WHERE environment = ?)
          """, arguments: [name.service, name.key, environment])
    }
    let row = try Int64.fetchOne(
      db,
      sql: """
        SELECT i.run_id FROM rotation_items i JOIN rotation_runs r ON r.id = i.run_id
        WHERE r.environment = ? AND i.service = ? AND i.key = ? AND i.state = 'done'
          AND i.revocation IN ('pending-operator', 'kept', 'failed', 'deferred', 'shared')
        ORDER BY i.run_id DESC LIMIT 1
        """, arguments: [environment, name.service, name.key])
    guard let run = row else {
      if let orphan { return orphan }
      throw RotationError.notPendingRevocation(name.description)
    }
    try db.execute(
      sql: "UPDATE rotation_items SET revocation = 'revoked' WHERE run_id = ? AND service = ? AND key = ?",
      arguments: [run, name.service, name.key])
    return run
  }

  /// Another current or pending version anywhere in the vault holding the same value (by keyed
  /// fingerprint) as `name`'s version `version`, as `env/service/KEY`; nil when none.
  static func sharedValue(environment: String, name: ServiceKey, version: Int, db: Database) throws -> String? {
    try String.fetchOne(
      db,
      sql: """
        SELECT o.environment || '/' || o.service || '/' || o.key
        FROM secret_versions v JOIN secrets s ON s.id = v.secret_id
        JOIN secret_versions w ON w.fingerprint = v.fingerprint AND w.state IN ('current', 'pending')
        JOIN secrets o ON o.id = w.secret_id AND o.id != s.id
        WHERE s.environment = ? AND s.service = ? AND s.key = ? AND v.version = ?
        LIMIT 1
        """, arguments: [environment, name.service, name.key, version])
  }

  /// Keys whose previous credential is still live after their latest rotation: revocation kept,
  /// failed, or left to the operator. For `verify`'s warning.
  static func liveOldCredentials(environment: String, db: Database) throws -> [(ServiceKey, Revocation)] {
    try Row.fetchAll(
      db,
      sql: """
        SELECT i.service, i.key, i.revocation FROM rotation_items i JOIN rotation_runs r ON r.id = i.run_id
        WHERE r.environment = ? AND i.state = 'done'
          AND i.revocation IN ('kept', 'pending-operator', 'failed', 'deferred', 'shared')
          AND NOT EXISTS (
            SELECT 1 FROM rotation_items j JOIN rotation_runs q ON q.id = j.run_id
            WHERE q.environment = r.environment AND j.service = i.service AND j.key = i.key
              AND j.state = 'done' AND j.run_id > i.run_id)
        ORDER BY i.service, i.key
        """, arguments: [environment]
    ).map { (ServiceKey(service: $0[0], key: $0[1]), Revocation(rawValue: $0[2]) ?? .kept) }
  }

  /// New credentials minted by failed rotations that could not be revoked: still live at the
  /// provider, unknown to every target. For `verify`'s warning.
  static func orphanNewCredentials(environment: String, db: Database) throws -> [(ServiceKey, Int64, String)] {
    try Row.fetchAll(
      db,
      sql: """
        SELECT i.service, i.key, i.run_id, i.mode FROM rotation_items i JOIN rotation_runs r ON r.id = i.run_id
        WHERE r.environment = ? AND i.new_revocation = 'failed' ORDER BY i.service, i.key, i.run_id
        """, arguments: [environment]
    ).map { (ServiceKey(service: $0[0], key: $0[1]), $0[2], $0[3]) }
  }
}
