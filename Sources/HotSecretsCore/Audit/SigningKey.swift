import Foundation
import GRDB
import Sodium

/// The vault's Ed25519 key pair for signing audit checkpoints.
///
/// Created on first use (the first checkpoint) and audited as `signing-key-create`. The public key
/// is stored in the clear as standard base64, so anyone can check checkpoints without unlocking;
/// the 32-byte seed is sealed with XChaCha20-Poly1305 under the value subkey with associated data
/// `hotsecrets.signing.v1\0<vault id>`, which no value's associated data can equal.
enum SigningKey {
  static func associatedData(vaultID: String) -> [UInt8] { Array("hotsecrets.signing.v1\0\(vaultID)".utf8) }

  /// The stored public key, or nil when the vault has none yet. Needs no unlock.
  static func publicKey(in db: Database) throws -> [UInt8]? {
    guard let text = try String.fetchOne(db, sql: "SELECT public_key FROM signing_key WHERE id = 1") else {
      return nil
    }
    guard let key = Base64.decode(text.utf8), key.count == Ed25519.publicKeyBytes else {
      throw VaultError.corruptVault("the stored signing public key is not 32 bytes of base64")
    }
    return key
  }

  /// Decrypts the stored key pair. Throws `corruptVault` when the seed does not decrypt (altered, or
  /// copied from another vault) or derives another public key than the stored one (replaced).
  static func open(_ record: SigningKeyRecord, keys: VaultKeys, vaultID: String) throws -> Ed25519.KeyPair {
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
    return pair
  }

  /// The vault's key pair, created, stored and audited first when the vault has none. Must run
  /// inside a write transaction, so two processes cannot both create one.
  static func loadOrCreate(
    keys: VaultKeys, vaultID: String, actor: Actor, at date: Date, in db: Database
  ) throws -> (pair: Ed25519.KeyPair, created: Bool) {
    if let record = try SigningKeyRecord.fetchOne(db) {
      return (try open(record, keys: keys, vaultID: vaultID), false)
    }
    let seed = try SecureBytes.random(count: Ed25519.seedBytes)
    let pair = try Ed25519.keyPair(seed: seed)
    let sealed = try XChaCha20Poly1305.seal(seed, key: keys.valueKey, associatedData: associatedData(vaultID: vaultID))
    let publicKey = Base64.encode(pair.publicKey)
    try SigningKeyRecord(
      publicKey: publicKey, nonce: sealed.nonce, ciphertext: sealed.ciphertext, createdAt: Timestamp.string(from: date)
    ).insert(db)
    try AuditChain.append(
      AuditEvent(action: "signing-key-create", detail: .object(["public_key": .string(publicKey)])), actor: actor,
      keys: keys, at: date, in: db)
    return (pair, true)
  }
}

/// Standard base64 with padding (RFC 4648 §4), what `base64 -d` and Python's `b64decode` read.
enum Base64 {
  static func encode(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

  /// Nil unless `text` is canonical padded base64: only the standard alphabet, `=` padding to a
  /// multiple of 4, and zero unused bits (so each byte string has exactly one accepted text).
  static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
    let chars = Array(text)
    guard chars.count % 4 == 0 else { return nil }
    func value(_ c: UInt8) -> UInt8? {
      switch c {
      case 65...90: c - 65
      case 97...122: c - 71
      case 48...57: c + 4
      case 43: 62
      case 47: 63
      default: nil
      }
    }
    let pad = UInt8(ascii: "=")
    var out: [UInt8] = []
    out.reserveCapacity(chars.count / 4 * 3)
    var i = 0
    while i < chars.count {
      let isLast = i + 4 == chars.count
      guard let a = value(chars[i]), let b = value(chars[i + 1]) else { return nil }
      if isLast, chars[i + 2] == pad {
        guard chars[i + 3] == pad, b & 0x0f == 0 else { return nil }
        out.append(a << 2 | b >> 4)
      } else if isLast, chars[i + 3] == pad {
        guard let c = value(chars[i + 2]), c & 0x03 == 0 else { return nil }
        out.append(a << 2 | b >> 4)
        out.append((b & 0x0f) << 4 | c >> 2)
      } else {
        guard let c = value(chars[i + 2]), let d = value(chars[i + 3]) else { return nil }
        out.append(a << 2 | b >> 4)
        out.append((b & 0x0f) << 4 | c >> 2)
        out.append((c & 0x03) << 6 | d)
      }
      i += 4
    }
    return out
  }
}
