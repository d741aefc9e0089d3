import Sodium

/// The unlocked vault's data key and the subkeys derived from it with `crypto_kdf`.
///
/// The data key itself is only ever wrapped for recipients; values are encrypted under the value
/// subkey, fingerprints are keyed BLAKE2b under the fingerprint subkey, and the key check proves an
/// unwrapped key is the vault's own. All key material stays in `sodium_malloc`ed memory.
public struct VaultKeys: Sendable {
  public static let dataKeyBytes = 32
  let dataKey: SecureBytes
  let valueKey: SecureBytes
  let fingerprintKey: SecureBytes
  let checkKey: SecureBytes
  /// Authenticates audit entries: only holders of the data key can write a valid chain.
  let auditKey: SecureBytes

  private static let context = "hsvault1"

  /// Derives the subkeys of `dataKey` (32 bytes).
  public init(dataKey: SecureBytes) throws {
    guard dataKey.count == Self.dataKeyBytes else {
      throw VaultError.corruptVault("the unwrapped data key has the wrong length")
    }
    self.dataKey = dataKey
    valueKey = try KeyDerivation.deriveSubkey(from: dataKey, id: 1, context: Self.context)
    fingerprintKey = try KeyDerivation.deriveSubkey(from: dataKey, id: 2, context: Self.context)
    checkKey = try KeyDerivation.deriveSubkey(from: dataKey, id: 3, context: Self.context)
    auditKey = try KeyDerivation.deriveSubkey(from: dataKey, id: 4, context: Self.context)
  }

  /// A new random data key.
  public static func generate() throws -> VaultKeys {
    try VaultKeys(dataKey: SecureBytes.random(count: dataKeyBytes))
  }

  /// Keyed BLAKE2b-256 of a value, as 64 hex characters. Equal values give equal fingerprints
  /// within one vault; without the data key a fingerprint reveals nothing about the value.
  public func fingerprint(of value: some Collection<UInt8>) throws -> String {
    ByteEncoding.hex(try GenericHash.hash(value, key: fingerprintKey, length: 32))
  }

  /// The MAC of an audit entry: keyed BLAKE2b-256 of its hash.
  func auditMAC(hash: String) throws -> String {
    ByteEncoding.hex(try GenericHash.hash(Array("hotsecrets.audit.v1\0\(hash)".utf8), key: auditKey, length: 32))
  }

  /// The value stored in the vault header that proves a data key belongs to vault `vaultID`.
  func keyCheck(vaultID: String) throws -> String {
    ByteEncoding.hex(try GenericHash.hash(Array("hotsecrets.keycheck.v1\0\(vaultID)".utf8), key: checkKey, length: 32))
  }
}
