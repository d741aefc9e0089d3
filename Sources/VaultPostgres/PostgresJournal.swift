import HotSecretsModel

extension PostgresTransaction: RotationJournalRepository {
  private static let runColumns = "id, environment, started_at, actor_user, state, step, deploy, revoke_old"
  private static let itemColumns = """
    i.service, i.key, i.mode, i.single_phase, i.old_version, i.new_version, i.old_credential_id,
    i.new_credential_id, i.state, i.revocation, i.error, i.new_revocation
    """

  private static func run(_ r: PostgresRows, _ i: Int) throws -> RotationRunRecord {
    RotationRunRecord(
      id: try r.requiredInt64(i, 0), environment: try r.required(i, 1), startedAt: try r.required(i, 2),
      actorUser: try r.required(i, 3), state: try r.required(i, 4),
      step: RotationStep(rawValue: try r.required(i, 5)) ?? .plan, deploy: try r.required(i, 6),
      revokeOld: try r.required(i, 7))
  }

  /// An item from columns `first`… in `itemColumns`' order.
  private static func item(_ r: PostgresRows, _ i: Int, from first: Int, run: Int64) throws -> RotationItem {
    let modeName = try r.required(i, first + 2)
    guard let mode = RotationSource(rawValue: modeName) else {
      throw VaultError.corruptVault("rotation run \(run) has a key with an unknown mode \"\(modeName)\"")
    }
    return RotationItem(
      service: try r.required(i, first), key: try r.required(i, first + 1), mode: mode,
      singlePhase: r.bool(i, first + 3) ?? false, oldVersion: r.int(i, first + 4), newVersion: r.int(i, first + 5),
      oldCredentialID: r.string(i, first + 6), newCredentialID: r.string(i, first + 7),
      state: RotationItemState(rawValue: try r.required(i, first + 8)) ?? .failed,
      revocation: r.string(i, first + 9).flatMap(Revocation.init),
      newRevocation: r.string(i, first + 11).flatMap(Revocation.init), error: r.string(i, first + 10))
  }

  func unfinished(environment: String) throws -> RotationRunRecord? {
    try first(
      "SELECT \(Self.runColumns) FROM rotation_runs WHERE environment = $1 AND state = 'running'",
      [.text(environment)], Self.run)
  }

  func run(id: Int64) throws -> RotationRunRecord? {
    try first("SELECT \(Self.runColumns) FROM rotation_runs WHERE id = $1", [.int(id)], Self.run)
  }

  func begin(
    environment: String, items: [RotationItem], deploy: String, revokeOld: String, actor: String, at: String
  ) throws -> Int64 {
    guard
      let id = try first(
        """
        INSERT INTO rotation_runs (environment, started_at, actor_user, state, step, deploy, revoke_old)
        VALUES ($1, $2, $3, 'running', 'plan', $4, $5) RETURNING id
        """, [.text(environment), .text(at), .text(actor), .text(deploy), .text(revokeOld)], { r, i in r.int64(i, 0) })
        ?? nil
    else { throw VaultError.storage("no id for the new rotation run") }
    for (position, item) in items.enumerated() {
      try run(
        """
        INSERT INTO rotation_items (run_id, position, service, key, mode, single_phase, old_version, state, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        """,
        [
          .int(id), .int(Int64(position)), .text(item.service), .text(item.key), .text(item.mode.rawValue),
          .text(item.singlePhase ? "true" : "false"), .optional(item.oldVersion), .text(item.state.rawValue), .text(at),
        ])
    }
    return id
  }

  func items(run: Int64) throws -> [RotationItem] {
    try all(
      "SELECT \(Self.itemColumns) FROM rotation_items i WHERE run_id = $1 ORDER BY position", [.int(run)]
    ) { r, i in try Self.item(r, i, from: 0, run: run) }
  }

  func update(_ item: RotationItem, run: Int64, at: String) throws {
    try self.run(
      """
      UPDATE rotation_items SET new_version = $1, old_credential_id = $2, new_credential_id = $3, state = $4,
        revocation = $5, error = $6, new_revocation = $7, updated_at = $8
      WHERE run_id = $9 AND service = $10 AND key = $11
      """,
      [
        .optional(item.newVersion), .optional(item.oldCredentialID), .optional(item.newCredentialID),
        .text(item.state.rawValue), .optional(item.revocation?.rawValue), .optional(item.error),
        .optional(item.newRevocation?.rawValue), .text(at), .int(run), .text(item.service), .text(item.key),
      ])
  }

  func setStep(_ step: RotationStep, run: Int64) throws {
    try self.run("UPDATE rotation_runs SET step = $1 WHERE id = $2", [.text(step.rawValue), .int(run)])
  }

  func finish(run: Int64, state: String, error: String?, at: String) throws {
    try self.run(
      "UPDATE rotation_runs SET state = $1, step = 'done', error = $2, finished_at = $3 WHERE id = $4",
      [.text(state), .optional(error), .text(at), .int(run)])
  }

  func credentialID(environment: String, name: ServiceKey, version: Int) throws -> String? {
    try first(
      "SELECT credential_id FROM credential_ids WHERE environment = $1 AND service = $2 AND key = $3 AND version = $4",
      [.text(environment), .text(name.service), .text(name.key), .int(Int64(version))]
    ) { r, i in r.string(i, 0) } ?? nil
  }

  func recordCredentialID(_ id: String, environment: String, name: ServiceKey, version: Int) throws {
    try run(
      """
      INSERT INTO credential_ids (environment, service, key, version, credential_id) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (environment, service, key, version) DO UPDATE SET credential_id = excluded.credential_id
      """, [.text(environment), .text(name.service), .text(name.key), .int(Int64(version)), .text(id)])
  }

  func confirmRevoked(environment: String, name: ServiceKey) throws -> Int64 {
    let key: [PostgresValue] = [.text(environment), .text(name.service), .text(name.key)]
    let orphan =
      try first(
        """
        SELECT MAX(i.run_id) FROM rotation_items i JOIN rotation_runs r ON r.id = i.run_id
        WHERE r.environment = $1 AND i.service = $2 AND i.key = $3 AND i.new_revocation IN ('failed', 'live')
        """, key
      ) { r, i in r.int64(i, 0) } ?? nil
    if orphan != nil {
      try run(
        """
        UPDATE rotation_items SET new_revocation = 'revoked'
        WHERE service = $2 AND key = $3 AND new_revocation IN ('failed', 'live')
          AND run_id IN (SELECT id FROM rotation_runs WHERE environment = $1)
        """, key)
    }
    let latest =
      try first(
        """
        SELECT i.run_id FROM rotation_items i JOIN rotation_runs r ON r.id = i.run_id
        WHERE r.environment = $1 AND i.service = $2 AND i.key = $3 AND i.state = 'done'
          AND i.revocation IN ('pending-operator', 'kept', 'failed', 'deferred', 'shared')
        ORDER BY i.run_id DESC LIMIT 1
        """, key
      ) { r, i in r.int64(i, 0) } ?? nil
    guard let run = latest else {
      if let orphan { return orphan }
      throw RotationError.notPendingRevocation(name.description)
    }
    try self.run(
      "UPDATE rotation_items SET revocation = 'revoked' WHERE run_id = $1 AND service = $2 AND key = $3",
      [.int(run), .text(name.service), .text(name.key)])
    return run
  }

  func liveOldCredentials(environment: String) throws -> [(ServiceKey, Revocation)] {
    try all(
      """
      SELECT i.service, i.key, i.revocation FROM rotation_items i JOIN rotation_runs r ON r.id = i.run_id
      WHERE r.environment = $1 AND i.state = 'done'
        AND i.revocation IN ('kept', 'pending-operator', 'failed', 'deferred', 'shared')
        AND NOT EXISTS (
          SELECT 1 FROM rotation_items j JOIN rotation_runs q ON q.id = j.run_id
          WHERE q.environment = r.environment AND j.service = i.service AND j.key = i.key
            AND j.state = 'done' AND j.run_id > i.run_id)
      ORDER BY i.service COLLATE "C", i.key COLLATE "C"
      """, [.text(environment)]
    ) { r, i in
      (
        ServiceKey(service: try r.required(i, 0), key: try r.required(i, 1)),
        Revocation(rawValue: r.string(i, 2) ?? "") ?? .kept
      )
    }
  }

  func orphanNewCredentials(environment: String) throws -> [OrphanCredential] {
    try all(
      """
      SELECT i.service, i.key, i.run_id, i.mode, i.new_revocation, i.new_version
      FROM rotation_items i JOIN rotation_runs r ON r.id = i.run_id
      WHERE r.environment = $1 AND i.new_revocation IN ('failed', 'live') ORDER BY i.service COLLATE "C", i.key COLLATE "C", i.run_id
      """, [.text(environment)]
    ) { r, i in
      OrphanCredential(
        name: ServiceKey(service: try r.required(i, 0), key: try r.required(i, 1)), run: try r.requiredInt64(i, 2),
        mode: try r.required(i, 3), revocation: Revocation(rawValue: r.string(i, 4) ?? "") ?? .failed,
        version: r.int(i, 5))
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
    try all(
      """
      SELECT i.run_id, \(Self.itemColumns)
      FROM rotation_items i JOIN rotation_runs r ON r.id = i.run_id
      WHERE r.environment = $1 AND \(condition)
      ORDER BY i.run_id, i.position
      """, [.text(environment)]
    ) { r, i in
      let run = try r.requiredInt64(i, 0)
      return (run, try Self.item(r, i, from: 1, run: run))
    }
  }

  func history(environment: String, since: String, until: String) throws -> [RotationHistoryRow] {
    try all(
      """
      SELECT r.id, r.started_at, r.finished_at, r.state, r.actor_user, \(Self.itemColumns)
      FROM rotation_runs r JOIN rotation_items i ON i.run_id = r.id
      WHERE r.environment = $1 AND r.started_at >= $2 AND r.started_at <= $3
      ORDER BY r.id, i.position
      """, [.text(environment), .text(since), .text(until)]
    ) { r, i in
      let run = try r.requiredInt64(i, 0)
      return RotationHistoryRow(
        run: run, startedAt: try r.required(i, 1), finishedAt: r.string(i, 2), runState: try r.required(i, 3),
        actorUser: try r.required(i, 4), item: try Self.item(r, i, from: 5, run: run))
    }
  }
}
