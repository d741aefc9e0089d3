import Foundation
import GRDB
import HotSecretsModel

extension SQLiteTransaction: SecretRepository {
  /// Columns 0-11 of every secret row query: the secret, its stored head, its current version and
  /// the highest version number (the ciphertext only when asked for).
  private static func secretColumns(ciphertexts: Bool) -> String {
    """
    s.id, s.environment, s.service, s.key, s.head_version, s.head_exposed, s.head_mac,
    v.version, v.created_at, v.fingerprint, v.nonce, \(ciphertexts ? "v.ciphertext" : "NULL"),
    (SELECT MAX(version) FROM secret_versions WHERE secret_id = s.id)
    """
  }

  private static let secretJoin =
    "FROM secrets s LEFT JOIN secret_versions v ON v.secret_id = s.id AND v.state = 'current'"

  private static func secretRow(_ row: Row) -> SecretRow {
    let version: Int? = row[7]
    let fingerprint: String? = row[9]
    let current = version.flatMap { version in
      fingerprint.map { fingerprint in
        CurrentVersionRow(
          version: version, createdAt: row[8], fingerprint: fingerprint, nonce: Bytes.column(row, 10),
          ciphertext: Bytes.column(row, 11))
      }
    }
    return SecretRow(
      id: row[0], address: SecretAddress(trusted: row[1], service: row[2], key: row[3]),
      head: StoredHead(version: row[4], exposed: row[5] ?? "", mac: row.dataNoCopy(atIndex: 6).map { Data($0) }),
      current: current, maxVersion: row[12] ?? 0)
  }

  func rows(at address: SecretAddress, ciphertexts: Bool) throws -> [SecretRow] {
    // Cached: imports and `set` run this once per key.
    try Row.fetchAll(
      db.cachedStatement(
        sql:
          "SELECT \(Self.secretColumns(ciphertexts: ciphertexts)) \(Self.secretJoin) WHERE s.environment = ? AND s.service = ? AND s.key = ?"
      ), arguments: [address.environment, address.service, address.key]
    ).map(Self.secretRow)
  }

  func rows(in environment: String?, ciphertexts: Bool) throws -> [SecretRow] {
    var sql = "SELECT \(Self.secretColumns(ciphertexts: ciphertexts)) \(Self.secretJoin)"
    var arguments: StatementArguments = []
    if let environment {
      sql += " WHERE s.environment = ?"
      arguments = [environment]
    }
    sql += " ORDER BY s.environment, s.service, s.key"
    var result: [SecretRow] = []
    let cursor = try Row.fetchCursor(db, sql: sql, arguments: arguments)
    while let row = try cursor.next() { result.append(Self.secretRow(row)) }
    return result
  }

  func rowsWithRecordedExposures() throws -> [(row: SecretRow, recorded: String)] {
    try Row.fetchAll(
      db,
      sql: """
        SELECT \(Self.secretColumns(ciphertexts: false)),
               (SELECT group_concat(recipient_id) FROM
                  (SELECT recipient_id FROM exposures e WHERE e.secret_id = s.id AND e.version = v.version
                   ORDER BY recipient_id))
        \(Self.secretJoin) ORDER BY s.id
        """
    ).map { (Self.secretRow($0), $0[13] ?? "") }
  }

  func versions(of address: SecretAddress) throws -> [SecretVersionRecord] {
    try Row.fetchAll(
      db,
      sql: """
        SELECT v.* FROM secret_versions v JOIN secrets s ON s.id = v.secret_id
        WHERE s.environment = ? AND s.service = ? AND s.key = ? ORDER BY v.version DESC
        """, arguments: [address.environment, address.service, address.key]
    ).map { row in
      SecretVersionRecord(
        id: row["id"], secretID: row["secret_id"], version: row["version"], state: row["state"],
        createdAt: row["created_at"], source: row["source"], fingerprint: row["fingerprint"],
        nonce: Bytes.optional(row["nonce"]) ?? [], ciphertext: Bytes.optional(row["ciphertext"]) ?? [])
    }
  }

  func head(secretID: Int64) throws -> StoredHead? {
    try Row.fetchOne(
      db, sql: "SELECT head_version, head_exposed, head_mac FROM secrets WHERE id = ?", arguments: [secretID]
    ).map { StoredHead(version: $0[0], exposed: $0[1] ?? "", mac: $0[2]) }
  }

  func currentVersion(secretID: Int64) throws -> (version: Int, fingerprint: String, nonce: Data)? {
    try Row.fetchOne(
      db.cachedStatement(
        sql: "SELECT version, fingerprint, nonce FROM secret_versions WHERE secret_id = ? AND state = 'current'"),
      arguments: [secretID]
    ).map { ($0[0], $0[1], $0[2]) }
  }

  func setHead(secretID: Int64, version: Int?, exposed: String, mac: [UInt8]) throws {
    try db.cachedStatement(sql: "UPDATE secrets SET head_version = ?, head_exposed = ?, head_mac = ? WHERE id = ?")
      .execute(arguments: [version, exposed, Data(mac), secretID])
  }

  func headMACs(environment: String) throws -> [Data?] {
    var result: [Data?] = []
    let rows = try Row.fetchCursor(
      db.cachedStatement(sql: "SELECT head_mac FROM secrets WHERE environment = ?"), arguments: [environment])
    while let row = try rows.next() { result.append(row.dataNoCopy(atIndex: 0).map { Data($0) }) }
    return result
  }

  func environmentHead(_ environment: String) throws -> EnvironmentHead? {
    try Row.fetchOne(
      db.cachedStatement(sql: "SELECT secrets, digest, mac FROM environment_heads WHERE environment = ?"),
      arguments: [environment]
    ).map { EnvironmentHead(secrets: $0[0], digest: $0[1], mac: $0[2]) }
  }

  func setEnvironmentHead(_ environment: String, _ head: EnvironmentHead) throws {
    try db.cachedStatement(
      sql: """
        INSERT INTO environment_heads (environment, secrets, digest, mac) VALUES (?, ?, ?, ?)
        ON CONFLICT (environment) DO UPDATE SET secrets = excluded.secrets, digest = excluded.digest, mac = excluded.mac
        """
    ).execute(arguments: [environment, head.secrets, head.digest, head.mac])
  }

  func environmentsWithHeads() throws -> Set<String> {
    try String.fetchSet(db, sql: "SELECT environment FROM environment_heads")
  }

  func deleteEnvironmentHeads() throws {
    try db.execute(sql: "DELETE FROM environment_heads")
  }

  // MARK: - Writing versions

  func insertSecret(_ address: SecretAddress, createdAt: String) throws -> Int64 {
    try db.cachedStatement(sql: "INSERT INTO secrets (environment, service, key, created_at) VALUES (?, ?, ?, ?)")
      .execute(arguments: [address.environment, address.service, address.key, createdAt])
    return db.lastInsertedRowID
  }

  func demoteCurrent(secretID: Int64) throws {
    try db.cachedStatement(
      sql: """
        UPDATE secret_versions SET state = CASE state WHEN 'previous' THEN 'retired' ELSE 'previous' END
        WHERE secret_id = ? AND state IN ('current', 'previous')
        """
    ).execute(arguments: [secretID])
  }

  func insertVersion(_ v: NewVersion) throws {
    try db.cachedStatement(
      sql: """
        INSERT INTO secret_versions (secret_id, version, state, created_at, source, fingerprint, nonce, ciphertext)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        """
    ).execute(arguments: [
      v.secretID, v.version, v.state.rawValue, v.createdAt, v.source.rawValue, v.fingerprint, Data(v.nonce),
      Data(v.ciphertext),
    ])
  }

  func promotePending(secretID: Int64, version: Int) throws -> Bool {
    try db.execute(
      sql: "UPDATE secret_versions SET state = 'current' WHERE secret_id = ? AND version = ? AND state = 'pending'",
      arguments: [secretID, version])
    return db.changesCount == 1
  }

  func removeAll(secretID: Int64) throws {
    try db.execute(
      sql: "UPDATE secret_versions SET state = 'removed', nonce = x'', ciphertext = x'' WHERE secret_id = ?",
      arguments: [secretID])
  }

  func failPending(_ address: SecretAddress, version: Int) throws {
    try db.execute(
      sql: """
        UPDATE secret_versions SET state = 'failed', nonce = x'', ciphertext = x''
        WHERE version = ? AND state = 'pending' AND secret_id =
          (SELECT id FROM secrets WHERE environment = ? AND service = ? AND key = ?)
        """, arguments: [version, address.environment, address.service, address.key])
  }

  func fingerprint(_ address: SecretAddress, version: Int) throws -> String? {
    try String.fetchOne(
      db,
      sql: """
        SELECT v.fingerprint FROM secret_versions v JOIN secrets s ON s.id = v.secret_id
        WHERE s.environment = ? AND s.service = ? AND s.key = ? AND v.version = ?
        """, arguments: [address.environment, address.service, address.key, version])
  }

  func sealedValue(_ address: SecretAddress, version: Int) throws -> (nonce: [UInt8], ciphertext: [UInt8])? {
    try Row.fetchOne(
      db,
      sql: """
        SELECT v.nonce, v.ciphertext FROM secret_versions v JOIN secrets s ON s.id = v.secret_id
        WHERE s.environment = ? AND s.service = ? AND s.key = ? AND v.version = ? AND length(v.ciphertext) > 0
        """, arguments: [address.environment, address.service, address.key, version]
    ).map { (Bytes.column($0, 0), Bytes.column($0, 1)) }
  }

  func sealedValues() throws -> [SealedVersion] {
    try Row.fetchAll(
      db,
      sql: """
        SELECT v.id, s.environment, s.service, s.key, v.version, v.nonce, v.ciphertext
        FROM secret_versions v JOIN secrets s ON s.id = v.secret_id
        WHERE length(v.ciphertext) > 0
        """
    ).map {
      SealedVersion(
        id: $0[0], address: SecretAddress(trusted: $0[1], service: $0[2], key: $0[3]), version: $0[4],
        nonce: Bytes.column($0, 5), ciphertext: Bytes.column($0, 6))
    }
  }

  func reseal(versionID: Int64, nonce: [UInt8], ciphertext: [UInt8]) throws {
    try db.cachedStatement(sql: "UPDATE secret_versions SET nonce = ?, ciphertext = ? WHERE id = ?")
      .execute(arguments: [Data(nonce), Data(ciphertext), versionID])
  }

  func sharedValue(_ address: SecretAddress, version: Int) throws -> String? {
    try String.fetchOne(
      db,
      sql: """
        SELECT o.environment || '/' || o.service || '/' || o.key
        FROM secret_versions v JOIN secrets s ON s.id = v.secret_id
        JOIN secret_versions w ON w.fingerprint = v.fingerprint AND w.state IN ('current', 'pending')
        JOIN secrets o ON o.id = w.secret_id AND o.id != s.id
        WHERE s.environment = ? AND s.service = ? AND s.key = ? AND v.version = ?
        LIMIT 1
        """, arguments: [address.environment, address.service, address.key, version])
  }
}
