import Foundation
import HotSecretsModel

extension PostgresTransaction: RecipientRepository, SecretRepository {
  // MARK: - Recipients

  private static let recipientColumns = """
    id, kind, name, public_key, wrapped_key, wrap_nonce, salt, ops_limit, mem_limit, added_at, removed_at,
    secret_nonce, sealed_secret
    """

  private static func recipient(_ r: PostgresRows, _ i: Int) throws -> RecipientRecord {
    RecipientRecord(
      id: r.int64(i, 0), kind: try r.required(i, 1), name: try r.required(i, 2), publicKey: r.string(i, 3),
      wrappedKey: r.bytes(i, 4), wrapNonce: r.bytes(i, 5), salt: r.bytes(i, 6), opsLimit: r.int64(i, 7),
      memLimit: r.int64(i, 8), addedAt: try r.required(i, 9), removedAt: r.string(i, 10), secretNonce: r.bytes(i, 11),
      sealedSecret: r.bytes(i, 12))
  }

  private static func values(_ r: RecipientRecord) -> [PostgresValue] {
    [
      .text(r.kind), .text(r.name), .optional(r.publicKey), .optional(r.wrappedKey), .optional(r.wrapNonce),
      .optional(r.salt), .optional(r.opsLimit), .optional(r.memLimit), .text(r.addedAt), .optional(r.removedAt),
      .optional(r.secretNonce), .optional(r.sealedSecret),
    ]
  }

  func all() throws -> [RecipientRecord] {
    try all("SELECT \(Self.recipientColumns) FROM recipients ORDER BY id", [], Self.recipient)
  }

  func active() throws -> [RecipientRecord] {
    try all("SELECT \(Self.recipientColumns) FROM recipients WHERE removed_at IS NULL ORDER BY id", [], Self.recipient)
  }

  func find(id: Int64) throws -> RecipientRecord? {
    try first("SELECT \(Self.recipientColumns) FROM recipients WHERE id = $1", [.int(id)], Self.recipient)
  }

  func insert(_ record: inout RecipientRecord) throws {
    let columns = "kind, name, public_key, wrapped_key, wrap_nonce, salt, ops_limit, mem_limit, added_at, removed_at, "
      + "secret_nonce, sealed_secret"
    let id: Int64?
    if let given = record.id {
      id = try first(
        "INSERT INTO recipients (id, \(columns)) VALUES ($13, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        Self.values(record) + [.int(given)]
      ) { r, i in r.int64(i, 0) } ?? nil
      // Keep the identity ahead of ids given explicitly (a copied vault).
      try run("SELECT setval(pg_get_serial_sequence('recipients', 'id'), (SELECT max(id) FROM recipients))")
    } else {
      id = try first(
        "INSERT INTO recipients (\(columns)) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        Self.values(record)
      ) { r, i in r.int64(i, 0) } ?? nil
    }
    record.id = id
  }

  func update(_ record: RecipientRecord) throws {
    try run(
      """
      UPDATE recipients SET kind = $1, name = $2, public_key = $3, wrapped_key = $4, wrap_nonce = $5, salt = $6,
        ops_limit = $7, mem_limit = $8, added_at = $9, removed_at = $10, secret_nonce = $11, sealed_secret = $12
      WHERE id = $13
      """, Self.values(record) + [.optional(record.id)])
  }

  func recordExposures(recipientID: Int64, addedAt: String) throws -> Int {
    try run(
      """
      INSERT INTO exposures (recipient_id, secret_id, version)
      SELECT $1, secret_id, version FROM secret_versions
      WHERE length(ciphertext) > 0 OR created_at >= $2
      ON CONFLICT DO NOTHING
      """, [.int(recipientID), .text(addedAt)]
    ).affected
  }

  func exposures() throws -> [ExposureRow] {
    try all("SELECT recipient_id, secret_id, version FROM exposures ORDER BY recipient_id, secret_id, version") {
      r, i in
      ExposureRow(recipientID: try r.requiredInt64(i, 0), secretID: try r.requiredInt64(i, 1), version: try r.requiredInt(i, 2))
    }
  }

  func exposedRecipients(secretID: Int64, version: Int) throws -> String {
    try first(
      """
      SELECT string_agg(recipient_id::text, ',' ORDER BY recipient_id) FROM exposures
      WHERE secret_id = $1 AND version = $2
      """, [.int(secretID), .int(Int64(version))]
    ) { r, i in r.string(i, 0) ?? "" } ?? ""
  }

  func exposureSummaries(environment: String) throws -> [ExposureSummaryRow] {
    try all(
      """
      SELECT e.recipient_id, s.service, s.key, string_agg(e.version::text, ',' ORDER BY e.version), s.head_version,
             (SELECT v.created_at FROM secret_versions v WHERE v.secret_id = s.id AND v.version = s.head_version)
      FROM exposures e JOIN secrets s ON s.id = e.secret_id
      WHERE s.environment = $1
      GROUP BY e.recipient_id, s.id
      ORDER BY e.recipient_id, s.service COLLATE "C", s.key COLLATE "C"
      """, [.text(environment)]
    ) { r, i in
      ExposureSummaryRow(
        recipientID: try r.requiredInt64(i, 0), service: try r.required(i, 1), key: try r.required(i, 2),
        versions: (r.string(i, 3) ?? "").split(separator: ",").compactMap { Int($0) }, headVersion: r.int(i, 4),
        headCreatedAt: r.string(i, 5))
    }
  }

  // MARK: - Secrets

  /// Columns 0-12 of every secret row query: the secret, its stored head, its current version and
  /// the highest version number (the ciphertext only when asked for).
  private static func secretColumns(ciphertexts: Bool) -> String {
    """
    s.id, s.environment, s.service, s.key, s.head_version, s.head_exposed, s.head_mac,
    v.version, v.created_at, v.fingerprint, v.nonce, \(ciphertexts ? "v.ciphertext" : "NULL::bytea"),
    (SELECT MAX(version) FROM secret_versions WHERE secret_id = s.id)
    """
  }

  private static let secretJoin =
    "FROM secrets s LEFT JOIN secret_versions v ON v.secret_id = s.id AND v.state = 'current'"

  private static func secretRow(_ r: PostgresRows, _ i: Int) throws -> SecretRow {
    var current: CurrentVersionRow?
    if let version = r.int(i, 7), let fingerprint = r.string(i, 9) {
      current = CurrentVersionRow(
        version: version, createdAt: r.string(i, 8) ?? "", fingerprint: fingerprint, nonce: r.bytes(i, 10) ?? [],
        ciphertext: r.bytes(i, 11) ?? [])
    }
    return SecretRow(
      id: try r.requiredInt64(i, 0),
      address: SecretAddress(trusted: try r.required(i, 1), service: try r.required(i, 2), key: try r.required(i, 3)),
      head: StoredHead(version: r.int(i, 4), exposed: r.string(i, 5) ?? "", mac: r.bytes(i, 6).map { Data($0) }),
      current: current, maxVersion: r.int(i, 12) ?? 0)
  }

  func rows(at address: SecretAddress, ciphertexts: Bool) throws -> [SecretRow] {
    try all(
      "SELECT \(Self.secretColumns(ciphertexts: ciphertexts)) \(Self.secretJoin) WHERE s.environment = $1 AND s.service = $2 AND s.key = $3",
      [.text(address.environment), .text(address.service), .text(address.key)], Self.secretRow)
  }

  func rows(in environment: String?, ciphertexts: Bool) throws -> [SecretRow] {
    let filter = environment == nil ? "" : " WHERE s.environment = $1"
    return try all(
      "SELECT \(Self.secretColumns(ciphertexts: ciphertexts)) \(Self.secretJoin)\(filter) ORDER BY s.environment COLLATE \"C\", s.service COLLATE \"C\", s.key COLLATE \"C\"",
      environment.map { [.text($0)] } ?? [], Self.secretRow)
  }

  func rowsWithRecordedExposures() throws -> [(row: SecretRow, recorded: String)] {
    try all(
      """
      SELECT \(Self.secretColumns(ciphertexts: false)),
             (SELECT string_agg(e.recipient_id::text, ',' ORDER BY e.recipient_id) FROM exposures e
              WHERE e.secret_id = s.id AND e.version = v.version)
      \(Self.secretJoin) ORDER BY s.id
      """
    ) { r, i in (try Self.secretRow(r, i), r.string(i, 13) ?? "") }
  }

  func versions(of address: SecretAddress) throws -> [SecretVersionRecord] {
    try all(
      """
      SELECT v.id, v.secret_id, v.version, v.state, v.created_at, v.source, v.fingerprint, v.nonce, v.ciphertext
      FROM secret_versions v JOIN secrets s ON s.id = v.secret_id
      WHERE s.environment = $1 AND s.service = $2 AND s.key = $3 ORDER BY v.version DESC
      """, [.text(address.environment), .text(address.service), .text(address.key)]
    ) { r, i in
      SecretVersionRecord(
        id: r.int64(i, 0), secretID: try r.requiredInt64(i, 1), version: try r.requiredInt(i, 2),
        state: try r.required(i, 3), createdAt: try r.required(i, 4), source: try r.required(i, 5),
        fingerprint: try r.required(i, 6), nonce: r.bytes(i, 7) ?? [], ciphertext: r.bytes(i, 8) ?? [])
    }
  }

  func head(secretID: Int64) throws -> StoredHead? {
    try first("SELECT head_version, head_exposed, head_mac FROM secrets WHERE id = $1", [.int(secretID)]) { r, i in
      StoredHead(version: r.int(i, 0), exposed: r.string(i, 1) ?? "", mac: r.bytes(i, 2).map { Data($0) })
    }
  }

  func currentVersion(secretID: Int64) throws -> (version: Int, fingerprint: String, nonce: Data)? {
    try first(
      "SELECT version, fingerprint, nonce FROM secret_versions WHERE secret_id = $1 AND state = 'current'",
      [.int(secretID)]
    ) { r, i in (try r.requiredInt(i, 0), try r.required(i, 1), Data(r.bytes(i, 2) ?? [])) }
  }

  func setHead(secretID: Int64, version: Int?, exposed: String, mac: [UInt8]) throws {
    try run(
      "UPDATE secrets SET head_version = $1, head_exposed = $2, head_mac = $3 WHERE id = $4",
      [.optional(version), .text(exposed), .bytes(mac), .int(secretID)])
  }

  func headMACs(environment: String) throws -> [Data?] {
    try all("SELECT head_mac FROM secrets WHERE environment = $1", [.text(environment)]) { r, i in
      r.bytes(i, 0).map { Data($0) }
    }
  }

  func environmentHead(_ environment: String) throws -> EnvironmentHead? {
    try first("SELECT secrets, digest, mac FROM environment_heads WHERE environment = $1", [.text(environment)]) {
      r, i in
      EnvironmentHead(secrets: try r.requiredInt(i, 0), digest: try r.required(i, 1), mac: try r.required(i, 2))
    }
  }

  func setEnvironmentHead(_ environment: String, _ head: EnvironmentHead) throws {
    try run(
      """
      INSERT INTO environment_heads (environment, secrets, digest, mac) VALUES ($1, $2, $3, $4)
      ON CONFLICT (environment) DO UPDATE SET secrets = excluded.secrets, digest = excluded.digest, mac = excluded.mac
      """, [.text(environment), .int(Int64(head.secrets)), .text(head.digest), .text(head.mac)])
  }

  func environmentsWithHeads() throws -> Set<String> {
    Set(try all("SELECT environment FROM environment_heads") { r, i in try r.required(i, 0) })
  }

  func deleteEnvironmentHeads() throws {
    try run("DELETE FROM environment_heads")
  }

  func insertSecret(_ address: SecretAddress, createdAt: String) throws -> Int64 {
    guard
      let id = try first(
        "INSERT INTO secrets (environment, service, key, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        [.text(address.environment), .text(address.service), .text(address.key), .text(createdAt)],
        { r, i in r.int64(i, 0) }) ?? nil
    else { throw VaultError.storage("no id for the new secret") }
    return id
  }

  func demoteCurrent(secretID: Int64) throws {
    try run(
      """
      UPDATE secret_versions SET state = CASE state WHEN 'previous' THEN 'retired' ELSE 'previous' END
      WHERE secret_id = $1 AND state IN ('current', 'previous')
      """, [.int(secretID)])
  }

  func insertVersion(_ v: NewVersion) throws {
    try run(
      """
      INSERT INTO secret_versions (secret_id, version, state, created_at, source, fingerprint, nonce, ciphertext)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
      """,
      [
        .int(v.secretID), .int(Int64(v.version)), .text(v.state.rawValue), .text(v.createdAt), .text(v.source.rawValue),
        .text(v.fingerprint), .bytes(v.nonce), .bytes(v.ciphertext),
      ])
  }

  func promotePending(secretID: Int64, version: Int) throws -> Bool {
    try run(
      "UPDATE secret_versions SET state = 'current' WHERE secret_id = $1 AND version = $2 AND state = 'pending'",
      [.int(secretID), .int(Int64(version))]
    ).affected == 1
  }

  func removeAll(secretID: Int64) throws {
    try run(
      "UPDATE secret_versions SET state = 'removed', nonce = ''::bytea, ciphertext = ''::bytea WHERE secret_id = $1",
      [.int(secretID)])
  }

  func failPending(_ address: SecretAddress, version: Int) throws {
    try run(
      """
      UPDATE secret_versions SET state = 'failed', nonce = ''::bytea, ciphertext = ''::bytea
      WHERE version = $1 AND state = 'pending' AND secret_id =
        (SELECT id FROM secrets WHERE environment = $2 AND service = $3 AND key = $4)
      """, [.int(Int64(version)), .text(address.environment), .text(address.service), .text(address.key)])
  }

  func fingerprint(_ address: SecretAddress, version: Int) throws -> String? {
    try first(
      """
      SELECT v.fingerprint FROM secret_versions v JOIN secrets s ON s.id = v.secret_id
      WHERE s.environment = $1 AND s.service = $2 AND s.key = $3 AND v.version = $4
      """, [.text(address.environment), .text(address.service), .text(address.key), .int(Int64(version))]
    ) { r, i in r.string(i, 0) } ?? nil
  }

  func sealedValue(_ address: SecretAddress, version: Int) throws -> (nonce: [UInt8], ciphertext: [UInt8])? {
    try first(
      """
      SELECT v.nonce, v.ciphertext FROM secret_versions v JOIN secrets s ON s.id = v.secret_id
      WHERE s.environment = $1 AND s.service = $2 AND s.key = $3 AND v.version = $4 AND length(v.ciphertext) > 0
      """, [.text(address.environment), .text(address.service), .text(address.key), .int(Int64(version))]
    ) { r, i in (r.bytes(i, 0) ?? [], r.bytes(i, 1) ?? []) }
  }

  func sealedValues() throws -> [SealedVersion] {
    try all(
      """
      SELECT v.id, s.environment, s.service, s.key, v.version, v.nonce, v.ciphertext
      FROM secret_versions v JOIN secrets s ON s.id = v.secret_id
      WHERE length(v.ciphertext) > 0
      """
    ) { r, i in
      SealedVersion(
        id: try r.requiredInt64(i, 0),
        address: SecretAddress(trusted: try r.required(i, 1), service: try r.required(i, 2), key: try r.required(i, 3)),
        version: try r.requiredInt(i, 4), nonce: r.bytes(i, 5) ?? [], ciphertext: r.bytes(i, 6) ?? [])
    }
  }

  func reseal(versionID: Int64, nonce: [UInt8], ciphertext: [UInt8]) throws {
    try run(
      "UPDATE secret_versions SET nonce = $1, ciphertext = $2 WHERE id = $3",
      [.bytes(nonce), .bytes(ciphertext), .int(versionID)])
  }

  func sharedValue(_ address: SecretAddress, version: Int) throws -> String? {
    try first(
      """
      SELECT o.environment || '/' || o.service || '/' || o.key
      FROM secret_versions v JOIN secrets s ON s.id = v.secret_id
      JOIN secret_versions w ON w.fingerprint = v.fingerprint AND w.state IN ('current', 'pending')
      JOIN secrets o ON o.id = w.secret_id AND o.id != s.id
      WHERE s.environment = $1 AND s.service = $2 AND s.key = $3 AND v.version = $4
      LIMIT 1
      """, [.text(address.environment), .text(address.service), .text(address.key), .int(Int64(version))]
    ) { r, i in r.string(i, 0) } ?? nil
  }
}
