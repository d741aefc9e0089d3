import HotSecretsModel
import Sodium

/// What a re-keyed vault carries from its earlier epochs, sealed under the current data key: the
/// fingerprint key and the audit key of every earlier epoch with the last audit seq it authenticated.
///
/// Layout of the plaintext: the 32-byte fingerprint key, then for each retired epoch, oldest first,
/// the last seq (8 bytes, big-endian) and the 32-byte audit key. Sealed with XChaCha20-Poly1305
/// under the keyring subkey with associated data `hotsecrets.keyring.v1\0<vault id>\0<epoch>`, so a
/// keyring moved to another vault or epoch does not open.
package enum Keyring {
  package struct Sealed {
    let nonce: [UInt8]
    let ciphertext: [UInt8]
  }

  private static let keyBytes = 32
  private static let entryBytes = 8 + keyBytes

  static func associatedData(vaultID: String, epoch: Int) -> [UInt8] {
    Array("hotsecrets.keyring.v1\0\(vaultID)\0\(epoch)".utf8)
  }

  /// Seals what `keys` carries over (its fingerprint key and retired audit keys) under its own
  /// keyring subkey.
  static func seal(_ keys: VaultKeys, vaultID: String) throws -> Sealed {
    var plain = [UInt8]()
    plain.reserveCapacity(keyBytes + keys.retiredAuditKeys.count * entryBytes)
    defer { secureZero(&plain) }
    plain += keys.fingerprintKey.copyBytes()
    for retired in keys.retiredAuditKeys {
      let seq = UInt64(bitPattern: retired.lastSeq)
      for shift in stride(from: 56, through: 0, by: -8) {
        plain.append(UInt8(truncatingIfNeeded: seq >> UInt64(shift)))
      }
      plain += retired.key.copyBytes()
    }
    let secure = try SecureBytes(copying: plain)
    let (nonce, ciphertext) = try XChaCha20Poly1305.seal(
      secure, key: keys.keyringKey, associatedData: associatedData(vaultID: vaultID, epoch: keys.epoch))
    return Sealed(nonce: nonce, ciphertext: ciphertext)
  }

  /// The keys of `epoch` for `dataKey`, opening the keyring when the vault has been re-keyed.
  /// Throws `corruptVault` when the keyring is missing, altered or malformed.
  static func keys(dataKey: SecureBytes, epoch: Int, sealed: Sealed?, vaultID: String) throws -> VaultKeys {
    guard epoch > 0 else { return try VaultKeys(dataKey: dataKey) }
    guard let sealed else { throw VaultError.corruptVault("the keyring of a re-keyed vault is missing") }
    let bare = try VaultKeys(dataKey: dataKey, epoch: epoch, fingerprintKey: nil, retiredAuditKeys: [])
    let plain: SecureBytes
    do {
      plain = try XChaCha20Poly1305.open(
        sealed.ciphertext, nonce: sealed.nonce, key: bare.keyringKey,
        associatedData: associatedData(vaultID: vaultID, epoch: epoch))
    } catch {
      throw VaultError.corruptVault("the keyring does not decrypt (altered, or copied from another vault or epoch)")
    }
    guard plain.count >= keyBytes, (plain.count - keyBytes) % entryBytes == 0,
      (plain.count - keyBytes) / entryBytes == epoch
    else { throw VaultError.corruptVault("the keyring is malformed") }
    return try plain.withUnsafeBytes { raw in
      let fingerprintKey = try SecureBytes(copying: raw[0..<keyBytes])
      var retired: [VaultKeys.RetiredAuditKey] = []
      var offset = keyBytes
      while offset < raw.count {
        var seq: UInt64 = 0
        for i in 0..<8 { seq = seq << 8 | UInt64(raw[offset + i]) }
        let key = try SecureBytes(copying: raw[(offset + 8)..<(offset + entryBytes)])
        retired.append(VaultKeys.RetiredAuditKey(lastSeq: Int64(bitPattern: seq), key: key))
        offset += entryBytes
      }
      return try VaultKeys(
        dataKey: dataKey, epoch: epoch, fingerprintKey: fingerprintKey, retiredAuditKeys: retired)
    }
  }
}

extension VaultMetaRecord {
  /// The keyring the header stores, nil at epoch 0.
  var sealedKeyring: Keyring.Sealed? {
    guard let keyringNonce, let keyring else { return nil }
    return Keyring.Sealed(nonce: keyringNonce, ciphertext: keyring)
  }
}
