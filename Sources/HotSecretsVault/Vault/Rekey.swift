import Foundation
import HotSecretsModel
import Sodium

/// What a re-key did.
public struct RekeyReport: Sendable, Equatable {
  /// The vault's key epoch after the re-key (1 after the first).
  public let epoch: Int
  /// Stored ciphertexts re-encrypted (every version that still has one, pending ones included).
  public let versions: Int
  /// Recipients re-wrapped under the new data key.
  public let recipients: Int
  /// Passphrase recipients from an older hotsecrets converted on the way (the unlocking one).
  public let upgraded: Int
  /// Versions recorded as exposed to the removed recipient (0 for a re-key without removal).
  public let exposedVersions: Int
  /// Whether this re-key also turned on authenticated current versions (a vault from before them).
  public let authenticatedHeads: Bool
}

extension VaultSession {
  /// Re-keys the vault: a fresh data key; every stored ciphertext (every version of every secret,
  /// pending rotation values, the checkpoint signing key) re-encrypted under it; every remaining
  /// recipient re-wrapped from its public key; each secret's head and each environment's set
  /// re-authenticated; the audit key of the old epoch kept (sealed) so earlier entries still verify.
  /// With `removing`, that recipient is removed in the same transaction and every version it could
  /// have read is recorded as exposed to it.
  ///
  /// All of it is one transaction: a crash leaves the old key everywhere or the new one everywhere.
  /// Returns the session under the new keys (this one can no longer write). Throws
  /// `recipientNotFound`, `lastRecipient`, `recipientsNeedUpgrade` (nothing changed), or
  /// `integrity` when a stored ciphertext does not authenticate (nothing changed).
  public func rekey(removing removedID: Int64? = nil) throws -> (session: VaultSession, report: RekeyReport) {
    let date = now()
    let stamp = Timestamp.string(from: date)
    let wasAuthenticated = authenticatesHeads
    let (newKeys, report) = try database.write { tx -> (VaultKeys, RekeyReport) in
      try KeyEpoch.requireCurrent(keys, tx: tx)
      // Nothing is re-sealed under the new key that the old one does not vouch for: a re-key must
      // not launder a keyless edit (a revived recipient, a swapped current version, lost exposures).
      if authenticatesHeads { try heads.verifyAll(tx: tx) }
      let active = try allRecipients(tx: tx).filter { $0.removedAt == nil }
      var removed: RecipientRecord?
      if let removedID {
        guard let target = active.first(where: { $0.id == removedID }) else {
          throw VaultError.recipientNotFound(id: removedID)
        }
        guard active.count > 1 else { throw VaultError.lastRecipient }
        removed = target
      }
      let remaining = active.filter { $0.id != removedID }
      if let broken = remaining.first(where: { $0.publicKey == nil && !$0.isLegacyPassphrase }) {
        throw VaultError.corruptVault("recipient \(broken.id ?? 0) (\(broken.name)) has no public key")
      }
      let blocked = remaining.filter { $0.isLegacyPassphrase && !($0.id == recipientID && legacyPassphraseKey != nil) }
      guard blocked.isEmpty else {
        throw VaultError.recipientsNeedUpgrade(blocked.map { "recipient \($0.id ?? 0) (\($0.name))" })
      }

      let lastSeq = try tx.audit.head()?.seq ?? 0
      let next = try keys.successor(lastSeq: lastSeq)
      let versions = try reencryptVersions(to: next, tx: tx)
      try reencryptSigningKey(to: next, tx: tx)

      var exposed = 0
      if var target = removed {
        exposed = try tx.recipients.recordExposures(recipientID: target.id ?? 0, addedAt: target.addedAt)
        target.removedAt = stamp
        target.wrappedKey = nil
        target.wrapNonce = nil
        target.salt = nil
        target.secretNonce = nil
        target.sealedSecret = nil
        try tx.recipients.update(target)
      }
      var upgraded = 0
      for var recipient in remaining {
        if recipient.isLegacyPassphrase, let kek = legacyPassphraseKey {
          try convertLegacyPassphrase(&recipient, kek: kek)
          upgraded += 1
        }
        guard let text = recipient.publicKey else { continue }
        recipient.wrappedKey = try KeyWrap.wrap(next, to: try RecipientKey(parsing: text), vaultID: vaultID)
        try tx.recipients.update(recipient)
      }

      let keyring = try Keyring.seal(next, vaultID: vaultID)
      try tx.header.setKeys(
        epoch: next.epoch, keyringNonce: keyring.nonce, keyring: keyring.ciphertext,
        keyCheck: try next.keyCheck(vaultID: vaultID))
      try SecretHeads(keys: next, vaultID: vaultID).rebuildAll(tx: tx)
      try RecipientSet(keys: next, vaultID: vaultID).seal(tx: tx)

      if let target = removed {
        try AuditChain.append(
          .recipient(.recipientRemove, target, extra: ["exposed_versions": .int(exposed)]), actor: actor,
          keys: next, at: date, in: tx)
      }
      try AuditChain.append(
        AuditEvent(
          action: .rekey,
          detail: .object([
            "epoch": .int(next.epoch), "versions": .int(versions), "recipients": .int(remaining.count),
            "reason": .string(removed == nil ? "requested" : "recipient-remove"),
          ])),
        actor: actor, keys: next, at: date, in: tx)
      return (
        next,
        RekeyReport(
          epoch: next.epoch, versions: versions, recipients: remaining.count, upgraded: upgraded,
          exposedVersions: exposed, authenticatedHeads: !wasAuthenticated)
      )
    }
    var session = VaultSession(
      database: database, vaultID: vaultID, keys: newKeys, actor: actor, recipientID: recipientID, now: now)
    session.authenticatesHeads = true
    return (session, report)
  }

  /// Decrypts every stored ciphertext under the current keys and seals it under `next`, one row at
  /// a time (plaintexts wiped at once). Returns the number of versions re-encrypted.
  private func reencryptVersions(to next: VaultKeys, tx: any StoreTransaction) throws -> Int {
    let rows = try tx.secrets.sealedValues()
    let old = cipher
    let new = ValueCipher(keys: next, vaultID: vaultID)
    for row in rows {
      var plain = try old.openPlain(
        nonce: row.nonce, ciphertext: row.ciphertext, for: row.address, version: row.version)
      defer { secureZero(&plain) }
      let sealed = try new.seal(plain, for: row.address, version: row.version)
      try tx.secrets.reseal(versionID: row.id, nonce: sealed.nonce, ciphertext: sealed.ciphertext)
    }
    return rows.count
  }

  /// Re-seals the audit-checkpoint signing key (when the vault has one) under `next`: the key pair
  /// stays the same, so checkpoints signed before the re-key stay valid.
  private func reencryptSigningKey(to next: VaultKeys, tx: any StoreTransaction) throws {
    guard let record: SigningKeyRecord = try tx.signingKey.read() else { return }
    let opened = try SigningKey.openWithSeed(record, keys: keys, vaultID: vaultID)
    let sealed = try SigningKey.seal(seed: opened.seed, keys: next, vaultID: vaultID)
    try tx.signingKey.reseal(nonce: sealed.nonce, ciphertext: sealed.ciphertext)
  }

  /// Gives a legacy passphrase recipient a key pair sealed under its passphrase-derived key (same
  /// salt and limits, so the same passphrase opens it). The caller wraps the data key to it.
  private func convertLegacyPassphrase(_ record: inout RecipientRecord, kek: SecureBytes) throws {
    guard let salt = record.salt, let ops = record.opsLimit, let mem = record.memLimit else {
      throw VaultError.corruptVault("passphrase recipient \(record.id ?? 0) has no key derivation parameters")
    }
    let pair = try KeyWrap.newPassphraseKeyPair(
      kek: kek, salt: salt, limits: .init(opsLimit: UInt64(ops), memLimit: Int(mem)), vaultID: vaultID)
    record.publicKey = try RecipientKey(publicKey: pair.keyPair.publicKey).description
    record.secretNonce = pair.secretNonce
    record.sealedSecret = pair.sealedSecret
    record.wrapNonce = nil
  }

  /// Converts the passphrase recipient this session unlocked with, when it is one from an older
  /// hotsecrets, so that a re-key can re-wrap it without its passphrase. The data key is unchanged.
  /// Returns false when there was nothing to convert. Throws `invalidRecipient` when the session
  /// was not unlocked with a passphrase.
  public func upgradeOwnRecipient() throws -> Bool {
    guard let kek = legacyPassphraseKey else {
      let own = try database.read { tx in try tx.recipients.find(id: recipientID) }
      if own?.kind == Recipient.Kind.passphrase.rawValue { return false }
      throw VaultError.invalidRecipient(
        reason: "only a passphrase recipient can be upgraded, and only when unlocked with its passphrase")
    }
    let date = now()
    return try database.write { tx in
      guard var record = try allRecipients(tx: tx).first(where: { $0.id == recipientID && $0.removedAt == nil }),
        record.isLegacyPassphrase
      else { return false }
      try convertLegacyPassphrase(&record, kek: kek)
      record.wrappedKey = try KeyWrap.wrap(
        keys, to: try RecipientKey(parsing: record.publicKey ?? ""), vaultID: vaultID)
      try tx.recipients.update(record)
      try recipientSet.seal(tx: tx)
      try AuditChain.append(.recipient(.recipientUpgrade, record), actor: actor, keys: keys, at: date, in: tx)
      return true
    }
  }
}
