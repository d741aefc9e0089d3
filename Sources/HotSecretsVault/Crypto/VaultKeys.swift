import HotSecretsModel
import Sodium

/// The unlocked vault's data key, the subkeys derived from it with `crypto_kdf`, and the keys it
/// carries over from earlier key epochs (the keyring).
///
/// The data key itself is only ever wrapped for recipients; values are encrypted under the value
/// subkey, each secret's current state is authenticated under the head subkey, the key check proves
/// an unwrapped key is the vault's own. A re-key replaces the data key (a new *epoch*): every
/// subkey changes except the fingerprint key, which the keyring carries (fingerprints are permanent
/// names of values in the audit trail, the push ledger and exported evidence), and the audit keys
/// of earlier epochs, kept so that entries written before a re-key still verify. All key material
/// stays in `sodium_malloc`ed memory.
public struct VaultKeys: Sendable {
  public static let dataKeyBytes = 32
  let dataKey: SecureBytes
  let valueKey: SecureBytes
  let fingerprintKey: SecureBytes
  let checkKey: SecureBytes
  /// Authenticates audit entries of this epoch: only holders of the data key can write a valid chain.
  let auditKey: SecureBytes
  /// Authenticates each secret's current version and each environment's set of secrets.
  let headKey: SecureBytes
  /// Seals the keyring of the next epoch's predecessors.
  let keyringKey: SecureBytes
  /// Number of re-keys this vault has had (0 for a vault never re-keyed).
  let epoch: Int
  /// Audit keys of earlier epochs, oldest first, each with the last audit seq it authenticated.
  let retiredAuditKeys: [RetiredAuditKey]

  struct RetiredAuditKey: Sendable {
    let lastSeq: Int64
    let key: SecureBytes
  }

  private static let context = "hsvault1"

  /// Derives the subkeys of `dataKey` (32 bytes) for epoch 0: the fingerprint key is derived too.
  public init(dataKey: SecureBytes) throws {
    try self.init(
      dataKey: dataKey, epoch: 0, fingerprintKey: nil, retiredAuditKeys: [])
  }

  /// Derives the subkeys of `dataKey` for `epoch`; `fingerprintKey` (from the keyring) replaces the
  /// derived one after a re-key.
  init(
    dataKey: SecureBytes, epoch: Int, fingerprintKey: SecureBytes?, retiredAuditKeys: [RetiredAuditKey]
  ) throws {
    guard dataKey.count == Self.dataKeyBytes else {
      throw VaultError.corruptVault("the unwrapped data key has the wrong length")
    }
    self.dataKey = dataKey
    self.epoch = epoch
    self.retiredAuditKeys = retiredAuditKeys
    valueKey = try KeyDerivation.deriveSubkey(from: dataKey, id: 1, context: Self.context)
    self.fingerprintKey = try fingerprintKey ?? KeyDerivation.deriveSubkey(from: dataKey, id: 2, context: Self.context)
    checkKey = try KeyDerivation.deriveSubkey(from: dataKey, id: 3, context: Self.context)
    auditKey = try KeyDerivation.deriveSubkey(from: dataKey, id: 4, context: Self.context)
    headKey = try KeyDerivation.deriveSubkey(from: dataKey, id: 5, context: Self.context)
    keyringKey = try KeyDerivation.deriveSubkey(from: dataKey, id: 6, context: Self.context)
  }

  /// A new random data key (epoch 0).
  public static func generate() throws -> VaultKeys {
    try VaultKeys(dataKey: SecureBytes.random(count: dataKeyBytes))
  }

  /// The keys of the next epoch: a fresh random data key that keeps this one's fingerprint key and
  /// retires this epoch's audit key after `lastSeq` (the last entry it authenticated).
  func successor(lastSeq: Int64) throws -> VaultKeys {
    try VaultKeys(
      dataKey: SecureBytes.random(count: Self.dataKeyBytes), epoch: epoch + 1, fingerprintKey: fingerprintKey,
      retiredAuditKeys: retiredAuditKeys + [RetiredAuditKey(lastSeq: lastSeq, key: auditKey)])
  }

  /// Keyed BLAKE2b-256 of a value, as 64 hex characters. Equal values give equal fingerprints
  /// within one vault, across re-keys; without the keys a fingerprint reveals nothing about the value.
  public func fingerprint(of value: some Collection<UInt8>) throws -> String {
    ByteEncoding.hex(try GenericHash.hash(value, key: fingerprintKey, length: 32))
  }

  /// The MAC of audit entry `seq`: keyed BLAKE2b-256 of its hash, under the audit key of the epoch
  /// that wrote it.
  func auditMAC(hash: String, seq: Int64) throws -> String {
    let key = retiredAuditKeys.first(where: { seq <= $0.lastSeq })?.key ?? auditKey
    return ByteEncoding.hex(try GenericHash.hash(Array("hotsecrets.audit.v1\0\(hash)".utf8), key: key, length: 32))
  }

  /// The value stored in the vault header that proves a data key belongs to vault `vaultID` at
  /// this epoch, and that the vault authenticates its current versions.
  func keyCheck(vaultID: String) throws -> String {
    ByteEncoding.hex(
      try GenericHash.hash(Array("hotsecrets.keycheck.v2\0\(vaultID)\0\(epoch)".utf8), key: checkKey, length: 32))
  }

  /// The key check of vaults written before re-keying existed (epoch 0, current versions not yet
  /// authenticated). Accepted at unlock until the first re-key replaces it.
  func legacyKeyCheck(vaultID: String) throws -> String {
    ByteEncoding.hex(try GenericHash.hash(Array("hotsecrets.keycheck.v1\0\(vaultID)".utf8), key: checkKey, length: 32))
  }
}
