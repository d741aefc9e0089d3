import Foundation
import HotSecretsModel
import Sodium

/// Documents signed with the vault's Ed25519 signing key (the key of the audit checkpoints), each
/// under a domain of its own: the signed bytes are `hotsecrets.DOMAIN.v1\0` then the document, so
/// a signature over one kind of document never passes for another (or for a checkpoint line).
public enum VaultSignature {
  static func message(_ document: some Collection<UInt8>, domain: String) -> [UInt8] {
    Array("hotsecrets.\(domain).v1\0".utf8) + document
  }

  /// Whether `signature` is `publicKey`'s over `document` in `domain`.
  public static func verify(signature: [UInt8], document: some Collection<UInt8>, domain: String, publicKey: [UInt8]) -> Bool {
    Ed25519.verify(signature: signature, message: message(document, domain: domain), publicKey: publicKey)
  }

  /// The signing key of the checkpoints file at `path`: the key of its last line, nil when the file
  /// is missing or holds no checkpoint. The file is committed to git, so this key is anchored
  /// outside any copy of the vault.
  public static func anchoredKey(checkpoints path: String) throws -> [UInt8]? {
    guard let lines = try AuditCheckpoints.readLines(path) else { return nil }
    for line in lines.reversed() where !line.isEmpty {
      if let checkpoint = try? AuditCheckpoint.parse(utf8: line) { return checkpoint.publicKey }
    }
    return nil
  }
}

extension VaultSession {
  /// Signs `document` in `domain` with the vault's signing key (`signingPublicKey`'s), creating
  /// that key (and its `signing-key-create` audit entry) when the vault has none.
  public func sign(document: [UInt8], domain: String) throws -> [UInt8] {
    let date = now()
    let pair = try database.write { tx in
      try SigningKey.loadOrCreate(keys: keys, vaultID: vaultID, actor: actor, at: date, in: tx).pair
    }
    return try Ed25519.sign(VaultSignature.message(document, domain: domain), secretKey: pair.secretKey)
  }

  /// The vault's signing public key, the key created (and audited) first when the vault has none:
  /// so that a copy made next holds it, and a document can name the key that signs it.
  public func signingPublicKey() throws -> [UInt8] {
    let date = now()
    return try database.write { tx in
      try SigningKey.loadOrCreate(keys: keys, vaultID: vaultID, actor: actor, at: date, in: tx).pair.publicKey
    }
  }
}
