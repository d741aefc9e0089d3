import Foundation
import GRDB
import HotSecretsModel

extension SQLiteTransaction: RecipientRepository {
  func all() throws -> [RecipientRecord] {
    try Row.fetchAll(db, sql: "SELECT * FROM recipients ORDER BY id").map(Self.recipient)
  }

  func active() throws -> [RecipientRecord] {
    try Row.fetchAll(db, sql: "SELECT * FROM recipients WHERE removed_at IS NULL ORDER BY id").map(Self.recipient)
  }

  func find(id: Int64) throws -> RecipientRecord? {
    try Row.fetchOne(db, sql: "SELECT * FROM recipients WHERE id = ?", arguments: [id]).map(Self.recipient)
  }

  func insert(_ record: inout RecipientRecord) throws {
    try db.execute(
      sql: """
        INSERT INTO recipients (id, kind, name, public_key, wrapped_key, wrap_nonce, salt, ops_limit, mem_limit,
                                added_at, removed_at, secret_nonce, sealed_secret)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """, arguments: Self.arguments(record))
    record.id = db.lastInsertedRowID
  }

  func update(_ record: RecipientRecord) throws {
    var arguments = Self.arguments(record)
    _ = arguments.append(contentsOf: [record.id])
    try db.execute(
      sql: """
        UPDATE recipients SET id = ?, kind = ?, name = ?, public_key = ?, wrapped_key = ?, wrap_nonce = ?, salt = ?,
          ops_limit = ?, mem_limit = ?, added_at = ?, removed_at = ?, secret_nonce = ?, sealed_secret = ?
        WHERE id = ?
        """, arguments: arguments)
  }

  private static func arguments(_ r: RecipientRecord) -> StatementArguments {
    [
      r.id, r.kind, r.name, r.publicKey, Bytes.blob(r.wrappedKey), Bytes.blob(r.wrapNonce), Bytes.blob(r.salt),
      r.opsLimit, r.memLimit, r.addedAt, r.removedAt, Bytes.blob(r.secretNonce), Bytes.blob(r.sealedSecret),
    ]
  }

  private static func recipient(_ row: Row) -> RecipientRecord {
    RecipientRecord(
      id: row["id"], kind: row["kind"], name: row["name"], publicKey: row["public_key"],
      wrappedKey: Bytes.optional(row["wrapped_key"]), wrapNonce: Bytes.optional(row["wrap_nonce"]),
      salt: Bytes.optional(row["salt"]), opsLimit: row["ops_limit"], memLimit: row["mem_limit"],
      addedAt: row["added_at"], removedAt: row["removed_at"], secretNonce: Bytes.optional(row["secret_nonce"]),
      sealedSecret: Bytes.optional(row["sealed_secret"]))
  }

  // MARK: - Exposures

  func recordExposures(recipientID: Int64, addedAt: String) throws -> Int {
    try db.execute(
      sql: """
        INSERT OR IGNORE INTO exposures (recipient_id, secret_id, version)
        SELECT ?, secret_id, version FROM secret_versions
        WHERE length(ciphertext) > 0 OR created_at >= ?
        """, arguments: [recipientID, addedAt])
    return db.changesCount
  }

  func exposures() throws -> [ExposureRow] {
    try Row.fetchAll(
      db, sql: "SELECT recipient_id, secret_id, version FROM exposures ORDER BY recipient_id, secret_id, version"
    ).map { ExposureRow(recipientID: $0[0], secretID: $0[1], version: $0[2]) }
  }

  func exposedRecipients(secretID: Int64, version: Int) throws -> String {
    try String.fetchOne(
      db.cachedStatement(
        sql: """
          SELECT group_concat(recipient_id) FROM
            (SELECT recipient_id FROM exposures WHERE secret_id = ? AND version = ? ORDER BY recipient_id)
          """), arguments: [secretID, version]) ?? ""
  }

  func exposureSummaries(environment: String) throws -> [ExposureSummaryRow] {
    try Row.fetchAll(
      db,
      sql: """
        SELECT e.recipient_id, s.service, s.key, group_concat(e.version), s.head_version,
               (SELECT v.created_at FROM secret_versions v WHERE v.secret_id = s.id AND v.version = s.head_version)
        FROM exposures e JOIN secrets s ON s.id = e.secret_id
        WHERE s.environment = ?
        GROUP BY e.recipient_id, s.id
        ORDER BY e.recipient_id, s.service, s.key
        """, arguments: [environment]
    ).map { row in
      ExposureSummaryRow(
        recipientID: row[0], service: row[1], key: row[2],
        versions: ((row[3] as String?) ?? "").split(separator: ",").compactMap { Int($0) }, headVersion: row[4],
        headCreatedAt: row[5])
    }
  }
}
