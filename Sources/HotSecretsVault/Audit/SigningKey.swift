import Foundation
import HotSecretsModel
import Sodium

/// The vault's Ed25519 key pair for signing audit checkpoints.
///
/// Created on first use (the first checkpoint) and audited as `signing-key-create`. The public key
/// is stored in the clear as standard base64, so anyone can check checkpoints without unlocking;
/// the 32-byte seed is sealed with XChaCha20-Poly1305 under the value subkey with associated data
/// `hotsecrets.signing.v1\0<vault id>`, which no value's associated data can equal.
package enum SigningKey {
  static func associatedData(vaultID: String) -> [UInt8] { Array("hotsecrets.signing.v1\0\(vaultID)".utf8) }

  /// The stored public key, or nil when the vault has none yet. Needs no unlock.
  static func publicKey(in tx: any StoreTransaction) throws -> [UInt8]? {
    guard let text = try tx.signingKey.read()?.publicKey else { return nil }
    guard let key = Base64.decode(text.utf8), key.count == Ed25519.publicKeyBytes else {
      throw VaultError.corruptVault("the stored signing public key is not 32 bytes of base64")
    }
    return key
  }

  /// Decrypts the stored key pair. Throws `corruptVault` when the seed does not decrypt (altered, or
  /// copied from another vault) or derives another public key than the stored one (replaced).
  static func open(_ record: SigningKeyRecord, keys: VaultKeys, vaultID: String) throws -> Ed25519.KeyPair {
    try openWithSeed(record, keys: keys, vaultID: vaultID).pair
  }

  /// The stored key pair and the seed it derives from (for re-sealing at a re-key).
  static func openWithSeed(_ record: SigningKeyRecord, keys: VaultKeys, vaultID: String) throws
    -> (pair: Ed25519.KeyPair, seed: SecureBytes)
  {
    let seed: SecureBytes
    do {
      seed = try XChaCha20Poly1305.open(
        record.ciphertext, nonce: record.nonce, key: keys.valueKey, associatedData: associatedData(vaultID: vaultID))
    } catch {
      throw VaultError.corruptVault("the signing key does not decrypt (altered, or copied from another vault)")
    }
    guard seed.count == Ed25519.seedBytes else {
      throw VaultError.corruptVault("the signing key has the wrong length")
    }
    let pair = try Ed25519.keyPair(seed: seed)
    guard Base64.decode(record.publicKey.utf8) == pair.publicKey else {
      throw VaultError.corruptVault("the stored signing public key does not match the signing key (it was replaced)")
    }
    return (pair, seed)
  }

  /// `seed` sealed under `keys`' value subkey for vault `vaultID`.
  static func seal(seed: SecureBytes, keys: VaultKeys, vaultID: String) throws -> (nonce: [UInt8], ciphertext: [UInt8])
  {
    try XChaCha20Poly1305.seal(seed, key: keys.valueKey, associatedData: associatedData(vaultID: vaultID))
  }

  /// The vault's key pair, created, stored and audited first when the vault has none. Must run
  /// inside a write transaction, so two processes cannot both create one.
  package static func loadOrCreate(
    keys: VaultKeys, vaultID: String, actor: AuditActor, at date: Date, in tx: any StoreTransaction
  ) throws -> (pair: Ed25519.KeyPair, created: Bool) {
    if let record: SigningKeyRecord = try tx.signingKey.read() {
      return (try open(record, keys: keys, vaultID: vaultID), false)
    }
    let seed = try SecureBytes.random(count: Ed25519.seedBytes)
    let pair = try Ed25519.keyPair(seed: seed)
    let sealed = try seal(seed: seed, keys: keys, vaultID: vaultID)
    let publicKey = Base64.encode(pair.publicKey)
    try tx.signingKey.insert(
      SigningKeyRecord(
        publicKey: publicKey, nonce: sealed.nonce, ciphertext: sealed.ciphertext,
        createdAt: Timestamp.string(from: date)))
    try AuditChain.append(
      AuditEvent(action: .signingKeyCreate, detail: .object(["public_key": .string(publicKey)])), actor: actor,
      keys: keys, at: date, in: tx)
    return (pair, true)
  }
}
