import GRDB

/// The one-row vault header.
struct VaultMetaRecord: Codable, FetchableRecord, PersistableRecord {
  static let databaseTableName = "vault_meta"
  var id: Int = 1
  var vaultID: String
  var format: Int
  var createdAt: String
  var keyCheck: String

  enum CodingKeys: String, CodingKey {
    case id, format
    case vaultID = "vault_id"
    case createdAt = "created_at"
    case keyCheck = "key_check"
  }
}

/// A recipient's wrap of the data key. Removed recipients keep their row (with the wrap erased)
/// so access history stays answerable.
struct RecipientRecord: Codable, FetchableRecord, MutablePersistableRecord {
  static let databaseTableName = "recipients"
  var id: Int64?
  var kind: String
  var name: String
  var publicKey: String?
  var wrappedKey: [UInt8]?
  var wrapNonce: [UInt8]?
  var salt: [UInt8]?
  var opsLimit: Int64?
  var memLimit: Int64?
  var addedAt: String
  var removedAt: String?

  enum CodingKeys: String, CodingKey {
    case id, kind, name, salt
    case publicKey = "public_key"
    case wrappedKey = "wrapped_key"
    case wrapNonce = "wrap_nonce"
    case opsLimit = "ops_limit"
    case memLimit = "mem_limit"
    case addedAt = "added_at"
    case removedAt = "removed_at"
  }

  mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// A secret's identity: (environment, service, KEY).
struct SecretRecord: Codable, FetchableRecord, MutablePersistableRecord {
  static let databaseTableName = "secrets"
  var id: Int64?
  var environment: String
  var service: String
  var key: String
  var createdAt: String

  enum CodingKeys: String, CodingKey {
    case id, environment, service, key
    case createdAt = "created_at"
  }

  mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

  var address: SecretAddress { SecretAddress(trusted: environment, service: service, key: key) }
}

/// One encrypted version of a secret.
struct SecretVersionRecord: Codable, FetchableRecord, MutablePersistableRecord {
  static let databaseTableName = "secret_versions"
  var id: Int64?
  var secretID: Int64
  var version: Int
  var state: String
  var createdAt: String
  var source: String
  var fingerprint: String
  var nonce: [UInt8]
  var ciphertext: [UInt8]

  enum CodingKeys: String, CodingKey {
    case id, version, state, source, fingerprint, nonce, ciphertext
    case secretID = "secret_id"
    case createdAt = "created_at"
  }

  mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}
