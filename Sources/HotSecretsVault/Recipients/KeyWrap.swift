import HotSecretsModel
import Sodium

/// How one recipient holds the vault's data key.
///
/// Passphrase: Argon2id turns the passphrase into a key-encryption key that seals the data key with
/// XChaCha20-Poly1305. X25519: the data key is sealed with `crypto_box_seal` to the recipient's
/// public key. Both bind the vault id, so a wrap copied from another vault does not unlock this one.
///
/// Since issue 13 a passphrase recipient holds an X25519 key pair of its own: the passphrase-derived
/// key seals the pair's secret half, and the data key is sealed to its public half like any X25519
/// recipient's, so a re-key can re-wrap every recipient from public information.
public enum KeyWrap {
  /// Argon2id limits for new passphrase wraps (stored with each wrap so they can be raised later).
  public struct KDFLimits: Sendable, Equatable {
    public var opsLimit: UInt64
    public var memLimit: Int
    public init(opsLimit: UInt64, memLimit: Int) {
      self.opsLimit = opsLimit
      self.memLimit = memLimit
    }
    /// 3 passes, 64 MiB: the floor hotsecrets accepts.
    public static let standard = KDFLimits(opsLimit: 3, memLimit: 64 * 1024 * 1024)

    func validate() throws {
      guard opsLimit >= PasswordHash.minimumOpsLimit, memLimit >= PasswordHash.minimumMemLimit else {
        throw VaultError.weakKeyDerivation(opsLimit: opsLimit, memLimitMiB: memLimit / (1024 * 1024))
      }
    }
  }

  struct PassphraseWrap {
    let salt: [UInt8]
    let nonce: [UInt8]
    let wrapped: [UInt8]
    let limits: KDFLimits
  }

  static func wrapAD(vaultID: String) -> [UInt8] { Array("hotsecrets.wrap.v1\0\(vaultID)".utf8) }

  /// A passphrase recipient's key pair, its secret half sealed under Argon2id of the passphrase.
  struct PassphraseKeyPair {
    let keyPair: BoxKeyPair
    let salt: [UInt8]
    let limits: KDFLimits
    let secretNonce: [UInt8]
    let sealedSecret: [UInt8]
  }

  static func secretAD(vaultID: String, publicKey: [UInt8]) -> [UInt8] {
    Array("hotsecrets.passphrase-key.v1\0\(vaultID)\0".utf8) + publicKey
  }

  /// The key-encryption key a passphrase and salt give.
  static func passphraseKey(_ passphrase: SecureBytes, salt: [UInt8], limits: KDFLimits) throws -> SecureBytes {
    try PasswordHash.deriveKey(
      length: XChaCha20Poly1305.keyBytes, passphrase: passphrase, salt: salt,
      opsLimit: limits.opsLimit, memLimit: limits.memLimit)
  }

  /// A new key pair for a passphrase recipient, sealed under `passphrase` with a fresh salt.
  static func newPassphraseKeyPair(passphrase: SecureBytes, vaultID: String, limits: KDFLimits) throws
    -> PassphraseKeyPair
  {
    try limits.validate()
    let salt = try RandomBytes.bytes(PasswordHash.saltBytes)
    let kek = try passphraseKey(passphrase, salt: salt, limits: limits)
    return try newPassphraseKeyPair(kek: kek, salt: salt, limits: limits, vaultID: vaultID)
  }

  /// A new key pair sealed under an already derived key-encryption key (the upgrade of a legacy
  /// passphrase recipient reuses its salt and limits, so the same passphrase keeps opening it).
  static func newPassphraseKeyPair(kek: SecureBytes, salt: [UInt8], limits: KDFLimits, vaultID: String) throws
    -> PassphraseKeyPair
  {
    let pair = try BoxKeyPair.generate()
    let (nonce, sealed) = try XChaCha20Poly1305.seal(
      pair.secretKey, key: kek, associatedData: secretAD(vaultID: vaultID, publicKey: pair.publicKey))
    return PassphraseKeyPair(keyPair: pair, salt: salt, limits: limits, secretNonce: nonce, sealedSecret: sealed)
  }

  /// The key pair sealed under `kek`, or nil when `kek` is not this recipient's (wrong passphrase).
  static func openPassphraseKeyPair(
    kek: SecureBytes, secretNonce: [UInt8], sealedSecret: [UInt8], publicKey: [UInt8], vaultID: String
  ) throws -> BoxKeyPair? {
    guard
      let secret = try? XChaCha20Poly1305.open(
        sealedSecret, nonce: secretNonce, key: kek, associatedData: secretAD(vaultID: vaultID, publicKey: publicKey)),
      secret.count == SealedBox.secretKeyBytes
    else { return nil }
    let pair = try BoxKeyPair(secretKey: secret)
    // The stored public half must be the one the secret half derives (a replaced public key would
    // let a keyless writer redirect future wraps).
    return pair.publicKey == publicKey ? pair : nil
  }

  static func wrap(_ keys: VaultKeys, passphrase: SecureBytes, vaultID: String, limits: KDFLimits) throws
    -> PassphraseWrap
  {
    try limits.validate()
    let salt = try RandomBytes.bytes(PasswordHash.saltBytes)
    let kek = try PasswordHash.deriveKey(
      length: XChaCha20Poly1305.keyBytes, passphrase: passphrase, salt: salt,
      opsLimit: limits.opsLimit, memLimit: limits.memLimit)
    let (nonce, wrapped) = try XChaCha20Poly1305.seal(
      keys.dataKey, key: kek, associatedData: wrapAD(vaultID: vaultID))
    return PassphraseWrap(salt: salt, nonce: nonce, wrapped: wrapped, limits: limits)
  }

  /// The data key, or nil when the passphrase is not this wrap's.
  static func unwrap(_ wrap: PassphraseWrap, passphrase: SecureBytes, vaultID: String) throws -> SecureBytes? {
    let kek = try PasswordHash.deriveKey(
      length: XChaCha20Poly1305.keyBytes, passphrase: passphrase, salt: wrap.salt,
      opsLimit: wrap.limits.opsLimit, memLimit: wrap.limits.memLimit)
    return try? XChaCha20Poly1305.open(
      wrap.wrapped, nonce: wrap.nonce, key: kek, associatedData: wrapAD(vaultID: vaultID))
  }

  static func wrap(_ keys: VaultKeys, to recipient: RecipientKey, vaultID: String) throws -> [UInt8] {
    let message = try SecureBytes.concatenating(wrapAD(vaultID: vaultID), keys.dataKey)
    return try SealedBox.seal(message, to: recipient.publicKey)
  }

  /// The data key, or nil when the box was not sealed to this identity for this vault.
  static func unwrap(_ wrapped: [UInt8], identity: Identity, vaultID: String) throws -> SecureBytes? {
    try unwrap(wrapped, keyPair: identity.keyPair, vaultID: vaultID)
  }

  /// The data key, or nil when the box was not sealed to this key pair for this vault.
  static func unwrap(_ wrapped: [UInt8], keyPair: BoxKeyPair, vaultID: String) throws -> SecureBytes? {
    guard let opened = try? SealedBox.open(wrapped, with: keyPair) else { return nil }
    let ad = wrapAD(vaultID: vaultID)
    guard opened.count == ad.count + VaultKeys.dataKeyBytes else { return nil }
    return try opened.withUnsafeBytes { raw in
      guard Array(raw.prefix(ad.count)) == ad else { return nil }
      return try SecureBytes(copying: raw.suffix(VaultKeys.dataKeyBytes))
    }
  }
}
