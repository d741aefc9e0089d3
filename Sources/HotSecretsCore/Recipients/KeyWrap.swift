import Sodium

/// How one recipient holds the vault's data key.
///
/// Passphrase: Argon2id turns the passphrase into a key-encryption key that seals the data key with
/// XChaCha20-Poly1305. X25519: the data key is sealed with `crypto_box_seal` to the recipient's
/// public key. Both bind the vault id, so a wrap copied from another vault does not unlock this one.
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
    guard let opened = try? SealedBox.open(wrapped, with: identity.keyPair) else { return nil }
    let ad = wrapAD(vaultID: vaultID)
    guard opened.count == ad.count + VaultKeys.dataKeyBytes else { return nil }
    return try opened.withUnsafeBytes { raw in
      guard Array(raw.prefix(ad.count)) == ad else { return nil }
      return try SecureBytes(copying: raw.suffix(VaultKeys.dataKeyBytes))
    }
  }
}
