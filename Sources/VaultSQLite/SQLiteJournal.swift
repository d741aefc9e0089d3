import GRDB
import HotSecretsModel

extension SQLiteTransaction: RotationJournalRepository {
  func unfinished(environment: String) throws -> RotationRunRecord? {
    try Row.fetchOne(
      db,
      sql: """
        SELECT id, environment, started_at, actor_user, state, step, deploy, revoke_old FROM rotation_runs
        WHERE environment = ? AND state = 'running'
        """, arguments: [environment]
    ).map(Self.run)
  }

  func run(id: Int64) throws -> RotationRunRecord? {
    try Row.fetchOne(
      db,
      sql:
        "SELECT id, environment, started_at, actor_user, state, step, deploy, revoke_old FROM rotation_runs WHERE id = ?",
      arguments: [id]
    ).map(Self.run)
  }

  private static func run(_ row: Row) -> RotationRunRecord {
    RotationRunRecord(
      id: row[0], environment: row[1], startedAt: row[2], actorUser: row[3], state: row[4],
      step: RotationStep(rawValue: row[5]) ?? .plan, deploy: row[6], revokeOld: row[7])
  }

  func begin(
    environment: String, items: [RotationItem], deploy: String, revokeOld: String, actor: String, at: String
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
          id, position, item.service, item.key, item.mode.rawValue, item.singlePhase, item.oldVersion,
          item.state.rawValue, at,
        ])
    }
    return id
  }

  func items(run: Int64) throws -> [RotationItem] {
    try Row.fetchAll(
      db,
      sql: """
        SELECT service, key, mode, single_phase, old_version, new_version, old_credential_id, new_credential_id,
               state, revocation, error, new_revocation
        FROM rotation_items WHERE run_id = ? ORDER BY position
        """, arguments: [run]
    ).map { try Self.item($0, from: 0, run: run) }
  }

  /// An item from columns `first`... in `items`' order.
  private static func item(_ row: Row, from first: Int, run: Int64) throws -> RotationItem {
    let modeName: String = row[first + 2]
    guard let mode = RotationSource(rawValue: modeName) else {
      throw VaultError.corruptVault("rotation run \(run) has a key with an unknown mode \"\(modeName)\"")
    }
    return RotationItem(
      service: row[first], key: row[first + 1], mode: mode, singlePhase: row[first + 3], oldVersion: row[first + 4],
      newVersion: row[first + 5], oldCredentialID: row[first + 6], newCredentialID: row[first + 7],
      state: RotationItemState(rawValue: row[first + 8]) ?? .failed,
      revocation: (row[first + 9] as String?).flatMap(Revocation.init),
      newRevocation: (row[first + 11] as String?).flatMap(Revocation.init), error: row[first + 10])
  }

  func update(_ item: RotationItem, run: Int64, at: String) throws {
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

  func setStep(_ step: RotationStep, run: Int64) throws {
    try db.execute(sql: "UPDATE rotation_runs SET step = ? WHERE id = ?", arguments: [step.rawValue, run])
  }

  func finish(run: Int64, state: String, error: String?, at: String) throws {
    try db.execute(
      sql: "UPDATE rotation_runs SET state = ?, step = 'done', error = ?, finished_at = ? WHERE id = ?",
      arguments: [state, error, at, run])
  }

  func credentialID(environment: String, name: ServiceKey, version: Int) throws -> String? {
    try String.fetchOne(
      db,
      sql: "SELECT credential_id FROM credential_ids WHERE environment = ? AND service = ? AND key = ? AND version = ?",
      arguments: [environment, name.service, name.key, version])
  }

  func recordCredentialID(_ id: String, environment: String, name: ServiceKey, version: Int)
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
  func confirmRevoked(environment: String, name: ServiceKey) throws -> Int64 {
    let orphan = try Int64.fetchOne(
      db,
      sql: """
        SELECT MAX(i.run_id) FROM rotation_items i JOIN rotation_runs r ON r.id = i.run_id
        WHERE r.environment = ? AND i.service = ? AND i.key = ? AND i.new_revocation IN ('failed', 'live')
        """, arguments: [environment, name.service, name.key])
    if let orphan {
      try db.execute(
        sql: """
          UPDATE rotation_items SET new_revocation = 'revoked'
          WHERE service = ? AND key = ? AND new_revocation IN ('failed', 'live')
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

  /// Keys whose previous credential is still live after their latest rotation: revocation kept,
  /// failed, or left to the operator. For `verify`'s warning.
  func liveOldCredentials(environment: String) throws -> [(ServiceKey, Revocation)] {
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
  func orphanNewCredentials(environment: String) throws -> [OrphanCredential] {
    try Row.fetchAll(
      db,
      sql: """
        SELECT i.service, i.key, i.run_id, i.mode, i.new_revocation, i.new_version
        FROM rotation_items i JOIN rotation_runs r ON r.id = i.run_id
        WHERE r.environment = ? AND i.new_revocation IN ('failed', 'live') ORDER BY i.service, i.key, i.run_id
        """, arguments: [environment]
    ).map {
      OrphanCredential(
        name: ServiceKey(service: $0[0], key: $0[1]), run: $0[2], mode: $0[3],
        revocation: Revocation(rawValue: $0[4]) ?? .failed, version: $0[5])
    }
  }

  func liveNewValues(environment: String) throws -> [(run: Int64, item: RotationItem)] {
    try itemsOfRuns(environment: environment, where: "i.new_revocation = 'live'")
  }

  func deferredOldCredentials(environment: String) throws -> [(run: Int64, item: RotationItem)] {
    try itemsOfRuns(
      environment: environment,
      where: """
        i.state = 'done' AND i.revocation = 'deferred' AND NOT EXISTS (
          SELECT 1 FROM rotation_items j JOIN rotation_runs q ON q.id = j.run_id
          WHERE q.environment = r.environment AND j.service = i.service AND j.key = i.key
            AND j.state = 'done' AND j.run_id > i.run_id)
        """)
  }

  /// Items of `environment`'s runs matching `condition` (over `i`, the item, and `r`, its run).
  private func itemsOfRuns(environment: String, where condition: String) throws -> [(run: Int64, item: RotationItem)] {
    try Row.fetchAll(
      db,
      sql: """
        SELECT i.run_id, i.service, i.key, i.mode, i.single_phase, i.old_version, i.new_version, i.old_credential_id,
               i.new_credential_id, i.state, i.revocation, i.error, i.new_revocation
        FROM rotation_items i JOIN rotation_runs r ON r.id = i.run_id
        WHERE r.environment = ? AND \(condition)
        ORDER BY i.run_id, i.position
        """, arguments: [environment]
    ).map { row in
      let run: Int64 = row[0]
      return (run, try Self.item(row, from: 1, run: run))
    }
  }

  func history(environment: String, since: String, until: String) throws -> [RotationHistoryRow] {
    try Row.fetchAll(
      db,
      sql: """
        SELECT r.id, r.started_at, r.finished_at, r.state, r.actor_user,
               i.service, i.key, i.mode, i.single_phase, i.old_version, i.new_version, i.old_credential_id,
               i.new_credential_id, i.state, i.revocation, i.error, i.new_revocation
        FROM rotation_runs r JOIN rotation_items i ON i.run_id = r.id
        WHERE r.environment = ? AND r.started_at >= ? AND r.started_at <= ?
        ORDER BY r.id, i.position
        """, arguments: [environment, since, until]
    ).map { row in
      let run: Int64 = row[0]
      return RotationHistoryRow(
        run: run, startedAt: row[1], finishedAt: row[2], runState: row[3], actorUser: row[4],
        item: try Self.item(row, from: 5, run: run))
    }
  }
}
