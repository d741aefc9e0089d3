import Foundation
import GRDB
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
    let (newKeys, report) = try database.write { db -> (VaultKeys, RekeyReport) in
      try KeyEpoch.requireCurrent(keys, db: db)
      // Nothing is re-sealed under the new key that the old one does not vouch for: a re-key must
      // not launder a keyless edit (a revived recipient, a swapped current version, lost exposures).
      if authenticatesHeads { try heads.verifyAll(db: db) }
      let active = try allRecipients(db: db).filter { $0.removedAt == nil }
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

      let lastSeq = try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM audit_log") ?? 0
      let next = try keys.successor(lastSeq: lastSeq)
      let versions = try reencryptVersions(to: next, db: db)
      try reencryptSigningKey(to: next, db: db)

      var exposed = 0
      if var target = removed {
        exposed = try Exposure.record(recipientID: target.id ?? 0, addedAt: target.addedAt, db: db)
        target.removedAt = stamp
        target.wrappedKey = nil
        target.wrapNonce = nil
        target.salt = nil
        target.secretNonce = nil
        target.sealedSecret = nil
        try target.update(db)
      }
      var upgraded = 0
      for var recipient in remaining {
        if recipient.isLegacyPassphrase, let kek = legacyPassphraseKey {
          try convertLegacyPassphrase(&recipient, kek: kek)
          upgraded += 1
        }
        guard let text = recipient.publicKey else { continue }
        recipient.wrappedKey = try KeyWrap.wrap(next, to: try RecipientKey(parsing: text), vaultID: vaultID)
        try recipient.update(db)
      }

      let keyring = try Keyring.seal(next, vaultID: vaultID)
      try db.execute(
        sql: "UPDATE vault_meta SET epoch = ?, keyring_nonce = ?, keyring = ?, key_check = ? WHERE id = 1",
        arguments: [next.epoch, Data(keyring.nonce), Data(keyring.ciphertext), try next.keyCheck(vaultID: vaultID)])
      try SecretHeads(keys: next, vaultID: vaultID).rebuildAll(db: db)
      try RecipientSet(keys: next, vaultID: vaultID).seal(db: db)

      if let target = removed {
        try AuditChain.append(
          .recipient(.recipientRemove, target, extra: ["exposed_versions": .int(exposed)]), actor: actor,
          keys: next, at: date, in: db)
      }
      try AuditChain.append(
        AuditEvent(
          action: .rekey,
          detail: .object([
            "epoch": .int(next.epoch), "versions": .int(versions), "recipients": .int(remaining.count),
            "reason": .string(removed == nil ? "requested" : "recipient-remove"),
          ])),
        actor: actor, keys: next, at: date, in: db)
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
  private func reencryptVersions(to next: VaultKeys, db: Database) throws -> Int {
    let rows = try Row.fetchAll(
      db,
      sql: """
        SELECT v.id, s.environment, s.service, s.key, v.version, v.nonce, v.ciphertext
        FROM secret_versions v JOIN secrets s ON s.id = v.secret_id
        WHERE length(v.ciphertext) > 0
        """)
    let old = cipher
    let new = ValueCipher(keys: next, vaultID: vaultID)
    let update = try db.makeStatement(sql: "UPDATE secret_versions SET nonce = ?, ciphertext = ? WHERE id = ?")
    for row in rows {
      let address = SecretAddress(trusted: row[1], service: row[2], key: row[3])
      let version: Int = row[4]
      var plain = try old.openPlain(
        nonce: Array(row[5] as Data), ciphertext: Array(row[6] as Data), for: address, version: version)
      defer { secureZero(&plain) }
      let sealed = try new.seal(plain, for: address, version: version)
      try update.execute(arguments: [Data(sealed.nonce), Data(sealed.ciphertext), row[0] as Int64])
    }
    return rows.count
  }

  /// Re-seals the audit-checkpoint signing key (when the vault has one) under `next`: the key pair
  /// stays the same, so checkpoints signed before the re-key stay valid.
  private func reencryptSigningKey(to next: VaultKeys, db: Database) throws {
    guard let record = try SigningKeyRecord.fetchOne(db, sql: "SELECT * FROM signing_key WHERE id = 1") else { return }
    let opened = try SigningKey.openWithSeed(record, keys: keys, vaultID: vaultID)
    let sealed = try SigningKey.seal(seed: opened.seed, keys: next, vaultID: vaultID)
    try db.execute(
      sql: "UPDATE signing_key SET nonce = ?, ciphertext = ? WHERE id = 1",
      arguments: [Data(sealed.nonce), Data(sealed.ciphertext)])
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
      let own = try database.read { db in
        try RecipientRecord.fetchOne(db, sql: "SELECT * FROM recipients WHERE id = ?", arguments: [recipientID])
      }
      if own?.kind == Recipient.Kind.passphrase.rawValue { return false }
      throw VaultError.invalidRecipient(
        reason: "only a passphrase recipient can be upgraded, and only when unlocked with its passphrase")
    }
    let date = now()
    return try database.write { db in
      guard var record = try allRecipients(db: db).first(where: { $0.id == recipientID && $0.removedAt == nil }),
        record.isLegacyPassphrase
      else { return false }
      try convertLegacyPassphrase(&record, kek: kek)
      record.wrappedKey = try KeyWrap.wrap(keys, to: try RecipientKey(parsing: record.publicKey ?? ""), vaultID: vaultID)
      try record.update(db)
      try recipientSet.seal(db: db)
      try AuditChain.append(.recipient(.recipientUpgrade, record), actor: actor, keys: keys, at: date, in: db)
      return true
    }
  }
}
