import Foundation
import GRDB

// Records map rows by hand (no Codable): decoding through Codable costs milliseconds of runtime
// type lookups at start-up, and these rows are read on every command.

/// The one-row vault header.
struct VaultMetaRecord: FetchableRecord, PersistableRecord {
  static let databaseTableName = "vault_meta"
  var id: Int = 1
  var vaultID: String
  var format: Int
  var createdAt: String
  var keyCheck: String
  /// Number of re-keys so far; the key check binds it.
  var epoch: Int = 0
  /// What earlier epochs left (see `Keyring`); nil at epoch 0.
  var keyringNonce: [UInt8]?
  var keyring: [UInt8]?

  init(vaultID: String, format: Int, createdAt: String, keyCheck: String) {
    self.vaultID = vaultID
    self.format = format
    self.createdAt = createdAt
    self.keyCheck = keyCheck
  }

  init(row: Row) {
    id = row["id"]
    vaultID = row["vault_id"]
    format = row["format"]
    createdAt = row["created_at"]
    keyCheck = row["key_check"]
    epoch = row["epoch"] ?? 0
    keyringNonce = Bytes.optional(row["keyring_nonce"])
    keyring = Bytes.optional(row["keyring"])
  }

  var sealedKeyring: Keyring.Sealed? {
    guard let keyringNonce, let keyring else { return nil }
    return Keyring.Sealed(nonce: keyringNonce, ciphertext: keyring)
  }

  func encode(to c: inout PersistenceContainer) {
    c["id"] = id
    c["vault_id"] = vaultID
    c["format"] = format
    c["created_at"] = createdAt
    c["key_check"] = keyCheck
    c["epoch"] = epoch
    c["keyring_nonce"] = Bytes.blob(keyringNonce)
    c["keyring"] = Bytes.blob(keyring)
  }
}

/// A recipient's wrap of the data key. Removed recipients keep their row (with the wrap erased)
/// so access history stays answerable.
///
/// X25519: `public_key` is the `hsr1…` string and `wrapped_key` the data key sealed to it.
/// Passphrase: since issue 13 a passphrase recipient holds its own X25519 key pair: `public_key`
/// is its public half (the data key is sealed to it, so anyone unlocked can re-wrap it), and
/// `sealed_secret` its secret half under Argon2id of the passphrase (`salt`, limits, `secret_nonce`).
/// A passphrase recipient written before that (`public_key` NULL) holds the data key directly under
/// the passphrase-derived key (`wrapped_key`, `wrap_nonce`) and can only be re-wrapped with its
/// passphrase (`recipients upgrade`).
struct RecipientRecord: FetchableRecord, MutablePersistableRecord {
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
  var secretNonce: [UInt8]?
  var sealedSecret: [UInt8]?

  init(
    id: Int64?, kind: String, name: String, publicKey: String?, wrappedKey: [UInt8]?, wrapNonce: [UInt8]?,
    salt: [UInt8]?, opsLimit: Int64?, memLimit: Int64?, addedAt: String, removedAt: String?,
    secretNonce: [UInt8]? = nil, sealedSecret: [UInt8]? = nil
  ) {
    self.secretNonce = secretNonce
    self.sealedSecret = sealedSecret
    self.id = id
    self.kind = kind
    self.name = name
    self.publicKey = publicKey
    self.wrappedKey = wrappedKey
    self.wrapNonce = wrapNonce
    self.salt = salt
    self.opsLimit = opsLimit
    self.memLimit = memLimit
    self.addedAt = addedAt
    self.removedAt = removedAt
  }

  init(row: Row) {
    id = row["id"]
    kind = row["kind"]
    name = row["name"]
    publicKey = row["public_key"]
    wrappedKey = Bytes.optional(row["wrapped_key"])
    wrapNonce = Bytes.optional(row["wrap_nonce"])
    salt = Bytes.optional(row["salt"])
    opsLimit = row["ops_limit"]
    memLimit = row["mem_limit"]
    addedAt = row["added_at"]
    removedAt = row["removed_at"]
    secretNonce = Bytes.optional(row["secret_nonce"])
    sealedSecret = Bytes.optional(row["sealed_secret"])
  }

  /// A passphrase recipient from before issue 13, which cannot be re-wrapped without its passphrase.
  var isLegacyPassphrase: Bool { kind == Recipient.Kind.passphrase.rawValue && publicKey == nil }

  func encode(to c: inout PersistenceContainer) {
    c["id"] = id
    c["kind"] = kind
    c["name"] = name
    c["public_key"] = publicKey
    c["wrapped_key"] = Bytes.blob(wrappedKey)
    c["wrap_nonce"] = Bytes.blob(wrapNonce)
    c["salt"] = Bytes.blob(salt)
    c["ops_limit"] = opsLimit
    c["mem_limit"] = memLimit
    c["added_at"] = addedAt
    c["removed_at"] = removedAt
    c["secret_nonce"] = Bytes.blob(secretNonce)
    c["sealed_secret"] = Bytes.blob(sealedSecret)
  }

  mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// A secret's identity: (environment, service, KEY).
struct SecretRecord: FetchableRecord, MutablePersistableRecord {
  static let databaseTableName = "secrets"
  var id: Int64?
  var environment: String
  var service: String
  var key: String
  var createdAt: String

  init(id: Int64?, environment: String, service: String, key: String, createdAt: String) {
    self.id = id
    self.environment = environment
    self.service = service
    self.key = key
    self.createdAt = createdAt
  }

  init(row: Row) {
    id = row["id"]
    environment = row["environment"]
    service = row["service"]
    key = row["key"]
    createdAt = row["created_at"]
  }

  func encode(to c: inout PersistenceContainer) {
    c["id"] = id
    c["environment"] = environment
    c["service"] = service
    c["key"] = key
    c["created_at"] = createdAt
  }

  mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

  var address: SecretAddress { SecretAddress(trusted: environment, service: service, key: key) }
}

/// One encrypted version of a secret.
struct SecretVersionRecord: FetchableRecord, MutablePersistableRecord {
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

  init(
    id: Int64?, secretID: Int64, version: Int, state: String, createdAt: String, source: String,
    fingerprint: String, nonce: [UInt8], ciphertext: [UInt8]
  ) {
    self.id = id
    self.secretID = secretID
    self.version = version
    self.state = state
    self.createdAt = createdAt
    self.source = source
    self.fingerprint = fingerprint
    self.nonce = nonce
    self.ciphertext = ciphertext
  }

  init(row: Row) {
    id = row["id"]
    secretID = row["secret_id"]
    version = row["version"]
    state = row["state"]
    createdAt = row["created_at"]
    source = row["source"]
    fingerprint = row["fingerprint"]
    nonce = Bytes.optional(row["nonce"]) ?? []
    ciphertext = Bytes.optional(row["ciphertext"]) ?? []
  }

  func encode(to c: inout PersistenceContainer) {
    c["id"] = id
    c["secret_id"] = secretID
    c["version"] = version
    c["state"] = state
    c["created_at"] = createdAt
    c["source"] = source
    c["fingerprint"] = fingerprint
    c["nonce"] = Bytes.blob(nonce)
    c["ciphertext"] = Bytes.blob(ciphertext)
  }

  mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// The vault's audit-checkpoint signing key: the Ed25519 public key (standard base64) and the
/// seed it derives from, sealed under the value subkey (see `SigningKey`).
struct SigningKeyRecord: FetchableRecord, PersistableRecord {
  static let databaseTableName = "signing_key"
  var id: Int = 1
  var publicKey: String
  var nonce: [UInt8]
  var ciphertext: [UInt8]
  var createdAt: String

  init(publicKey: String, nonce: [UInt8], ciphertext: [UInt8], createdAt: String) {
    self.publicKey = publicKey
    self.nonce = nonce
    self.ciphertext = ciphertext
    self.createdAt = createdAt
  }

  init(row: Row) {
    id = row["id"]
    publicKey = row["public_key"]
    nonce = Bytes.optional(row["nonce"]) ?? []
    ciphertext = Bytes.optional(row["ciphertext"]) ?? []
    createdAt = row["created_at"]
  }

  func encode(to c: inout PersistenceContainer) {
    c["id"] = id
    c["public_key"] = publicKey
    c["nonce"] = Bytes.blob(nonce)
    c["ciphertext"] = Bytes.blob(ciphertext)
    c["created_at"] = createdAt
  }
}

/// Blob columns as byte arrays.
enum Bytes {
  static func optional(_ data: Data?) -> [UInt8]? { data.map { Array($0) } }
  static func blob(_ bytes: [UInt8]?) -> Data? { bytes.map { Data($0) } }
}
