import Foundation

// The rows the store keeps, as plain values: each backend maps them to its own tables.

/// The one-row vault header.
public struct VaultMetaRecord: Sendable {
  public var id: Int = 1
  public var vaultID: String
  public var format: Int
  public var createdAt: String
  public var keyCheck: String
  /// Number of re-keys so far; the key check binds it.
  public var epoch: Int = 0
  /// What earlier epochs left (see `Keyring`); nil at epoch 0.
  public var keyringNonce: [UInt8]?
  public var keyring: [UInt8]?

  public init(vaultID: String, format: Int, createdAt: String, keyCheck: String) {
    self.vaultID = vaultID
    self.format = format
    self.createdAt = createdAt
    self.keyCheck = keyCheck
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
public struct RecipientRecord: Sendable {
  public var id: Int64?
  public var kind: String
  public var name: String
  public var publicKey: String?
  public var wrappedKey: [UInt8]?
  public var wrapNonce: [UInt8]?
  public var salt: [UInt8]?
  public var opsLimit: Int64?
  public var memLimit: Int64?
  public var addedAt: String
  public var removedAt: String?
  public var secretNonce: [UInt8]?
  public var sealedSecret: [UInt8]?

  public init(
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

  /// A passphrase recipient from before issue 13, which cannot be re-wrapped without its passphrase.
  public var isLegacyPassphrase: Bool { kind == "passphrase" && publicKey == nil }

}

/// One encrypted version of a secret.
public struct SecretVersionRecord: Sendable {
  public var id: Int64?
  public var secretID: Int64
  public var version: Int
  public var state: String
  public var createdAt: String
  public var source: String
  public var fingerprint: String
  public var nonce: [UInt8]
  public var ciphertext: [UInt8]

  public init(
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

}

/// The vault's audit-checkpoint signing key: the Ed25519 public key (standard base64) and the
/// seed it derives from, sealed under the value subkey (see `SigningKey`).
public struct SigningKeyRecord: Sendable {
  public var id: Int = 1
  public var publicKey: String
  public var nonce: [UInt8]
  public var ciphertext: [UInt8]
  public var createdAt: String

  public init(publicKey: String, nonce: [UInt8], ciphertext: [UInt8], createdAt: String) {
    self.publicKey = publicKey
    self.nonce = nonce
    self.ciphertext = ciphertext
    self.createdAt = createdAt
  }

}

/// The vault format version the header records.
public enum VaultFormat {
  /// Newest vault format this build reads and writes.
  public static let current = 1
}
