import Foundation
import GRDB
import HotSecretsModel

// Records map rows by hand (no Codable): decoding through Codable costs milliseconds of runtime
// type lookups at start-up, and these rows are read on every command.

extension SQLiteTransaction: VaultHeaderRepository, SigningKeyRepository {
  func read() throws -> VaultMetaRecord? {
    // Plain SQL: GRDB's query interface introspects the schema first, a measurable share of
    // every command's unlock.
    guard let row = try Row.fetchOne(db, sql: "SELECT * FROM vault_meta LIMIT 1") else { return nil }
    var header = VaultMetaRecord(
      vaultID: row["vault_id"], format: row["format"], createdAt: row["created_at"], keyCheck: row["key_check"])
    header.id = row["id"]
    header.epoch = row["epoch"] ?? 0
    header.keyringNonce = Bytes.optional(row["keyring_nonce"])
    header.keyring = Bytes.optional(row["keyring"])
    return header
  }

  func insert(_ header: VaultMetaRecord) throws {
    try db.execute(
      sql: """
        INSERT INTO vault_meta (id, vault_id, format, created_at, key_check, epoch, keyring_nonce, keyring)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        """,
      arguments: [
        header.id, header.vaultID, header.format, header.createdAt, header.keyCheck, header.epoch,
        Bytes.blob(header.keyringNonce), Bytes.blob(header.keyring),
      ])
  }

  func epoch() throws -> Int {
    try Int.fetchOne(db.cachedStatement(sql: "SELECT epoch FROM vault_meta WHERE id = 1")) ?? 0
  }

  func setKeys(epoch: Int, keyringNonce: [UInt8], keyring: [UInt8], keyCheck: String) throws {
    try db.execute(
      sql: "UPDATE vault_meta SET epoch = ?, keyring_nonce = ?, keyring = ?, key_check = ? WHERE id = 1",
      arguments: [epoch, Data(keyringNonce), Data(keyring), keyCheck])
  }

  func recipientsMAC() throws -> Data? {
    try Data.fetchOne(db, sql: "SELECT recipients_mac FROM vault_meta WHERE id = 1")
  }

  func setRecipientsMAC(_ mac: [UInt8]) throws {
    try db.execute(sql: "UPDATE vault_meta SET recipients_mac = ? WHERE id = 1", arguments: [Data(mac)])
  }

  // MARK: - Signing key

  func read() throws -> SigningKeyRecord? {
    guard let row = try Row.fetchOne(db, sql: "SELECT * FROM signing_key WHERE id = 1") else { return nil }
    var record = SigningKeyRecord(
      publicKey: row["public_key"], nonce: Bytes.optional(row["nonce"]) ?? [],
      ciphertext: Bytes.optional(row["ciphertext"]) ?? [], createdAt: row["created_at"])
    record.id = row["id"]
    return record
  }

  func insert(_ record: SigningKeyRecord) throws {
    try db.execute(
      sql: "INSERT INTO signing_key (id, public_key, nonce, ciphertext, created_at) VALUES (?, ?, ?, ?, ?)",
      arguments: [record.id, record.publicKey, Data(record.nonce), Data(record.ciphertext), record.createdAt])
  }

  func reseal(nonce: [UInt8], ciphertext: [UInt8]) throws {
    try db.execute(
      sql: "UPDATE signing_key SET nonce = ?, ciphertext = ? WHERE id = 1", arguments: [Data(nonce), Data(ciphertext)])
  }
}
