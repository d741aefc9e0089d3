import Foundation
import HotSecretsModel
import Sodium

/// How a caller proves it may open the vault.
public enum UnlockMethod: Sendable {
  /// An X25519 identity: one sealed-box open, no passphrase cost.
  case identity(Identity)
  /// A passphrase: one Argon2id derivation per passphrase recipient until one opens.
  case passphrase(SecretBytes)
}

/// Creating and unlocking vaults.
public enum VaultAccess {
  /// Creates a vault in `database` (a store just created, with no vault yet) with a fresh data key
  /// wrapped for `firstRecipient`, and returns it unlocked. Throws `passphraseTooShort` for a
  /// passphrase `PassphraseRule` refuses; on any failure the half-made store is discarded.
  public static func create(
    in database: any VaultStore, firstRecipient: NewRecipient, name: String?, user: String,
    now: @escaping @Sendable () -> Date = Date.init
  ) throws -> VaultSession {
    do {
      let keys = try VaultKeys.generate()
      let vaultID = UUID().uuidString.lowercased()
      let date = now()
      let stamp = Timestamp.string(from: date)
      var record = try makeRecipientRecord(firstRecipient, name: name, keys: keys, vaultID: vaultID, stamp: stamp)
      let actor = AuditActor(user: user)
      try database.write { tx in
        try tx.header.insert(
          VaultMetaRecord(
            vaultID: vaultID, format: VaultFormat.current, createdAt: stamp,
            keyCheck: try keys.keyCheck(vaultID: vaultID)))
        try tx.recipients.insert(&record)
        try RecipientSet(keys: keys, vaultID: vaultID).seal(tx: tx)
        try AuditChain.append(
          AuditEvent(action: .initVault, detail: .object(["vault_id": .string(vaultID)])), actor: actor, keys: keys,
          at: date, in: tx)
        try AuditChain.append(.recipient(.recipientAdd, record), actor: actor, keys: keys, at: date, in: tx)
      }
      let id = record.id ?? 0
      return VaultSession(
        database: database, vaultID: vaultID, keys: keys,
        actor: AuditActor(user: user, recipient: "\(id):\(record.name)"),
        recipientID: id, now: now)
    } catch {
      database.discard()
      throw error
    }
  }

  /// Opens the vault's data key with `method`. Throws `cannotUnlock` when no active recipient
  /// accepts it, and `corruptVault` when the unwrapped key fails the vault's key check.
  public static func unlock(
    _ database: any VaultStore, with method: UnlockMethod, user: String,
    now: @escaping @Sendable () -> Date = Date.init
  ) throws -> VaultSession {
    let (meta, recipients) = try database.read { tx in
      guard let meta = try tx.header.read() else {
        throw VaultError.incompleteVault(path: database.location)
      }
      let recipients = try tx.recipients.active()
      return (meta, recipients)
    }
    guard meta.format <= VaultFormat.current else {
      throw VaultError.unsupportedVaultFormat(found: meta.format, supported: VaultFormat.current)
    }
    var opened: (SecretBytes, RecipientRecord)?
    var legacyKEK: SecureBytes?
    switch method {
    case .identity(let identity):
      let wanted = identity.recipient.description
      if let record = recipients.first(where: { $0.kind == Recipient.Kind.x25519.rawValue && $0.publicKey == wanted }),
        let wrapped = record.wrappedKey,
        let key = try KeyWrap.unwrap(wrapped, identity: identity, vaultID: meta.vaultID)
      {
        opened = (key, record)
      }
    case .passphrase(let passphrase):
      for record in recipients where record.kind == Recipient.Kind.passphrase.rawValue {
        guard let wrap = passphraseWrap(record) else { continue }
        let kek = try KeyWrap.passphraseKey(passphrase, salt: wrap.salt, limits: wrap.limits)
        if let key = try openPassphraseRecipient(record, wrap: wrap, kek: kek, vaultID: meta.vaultID) {
          opened = (key, record)
          if record.isLegacyPassphrase { legacyKEK = kek }
          break
        }
      }
    }
    guard let (dataKey, record) = opened, let id = record.id else { throw VaultError.cannotUnlock }
    let keys = try Keyring.keys(dataKey: dataKey, epoch: meta.epoch, sealed: meta.sealedKeyring, vaultID: meta.vaultID)
    let authenticatesHeads: Bool
    if try keys.keyCheck(vaultID: meta.vaultID) == meta.keyCheck {
      authenticatesHeads = true
    } else if meta.epoch == 0, try keys.legacyKeyCheck(vaultID: meta.vaultID) == meta.keyCheck {
      authenticatesHeads = false
    } else {
      throw VaultError.corruptVault("the data key does not match the vault's key check (a recipient wrap was replaced)")
    }
    var session = VaultSession(
      database: database, vaultID: meta.vaultID, keys: keys,
      actor: AuditActor(user: user, recipient: "\(id):\(record.name)"),
      recipientID: id, now: now)
    session.authenticatesHeads = authenticatesHeads
    session.legacyPassphraseKey = legacyKEK
    return session
  }

  /// The data key from a passphrase recipient whose key-encryption key is `kek`, or nil when the
  /// passphrase is not this recipient's.
  private static func openPassphraseRecipient(
    _ record: RecipientRecord, wrap: KeyWrap.PassphraseWrap, kek: SecureBytes, vaultID: String
  ) throws -> SecureBytes? {
    guard let publicText = record.publicKey else {
      return try? XChaCha20Poly1305.open(
        wrap.wrapped, nonce: wrap.nonce, key: kek, associatedData: KeyWrap.wrapAD(vaultID: vaultID))
    }
    guard let secretNonce = record.secretNonce, let sealedSecret = record.sealedSecret,
      let publicKey = try? RecipientKey(parsing: publicText).publicKey,
      let pair = try KeyWrap.openPassphraseKeyPair(
        kek: kek, secretNonce: secretNonce, sealedSecret: sealedSecret, publicKey: publicKey, vaultID: vaultID)
    else { return nil }
    return try KeyWrap.unwrap(wrap.wrapped, keyPair: pair, vaultID: vaultID)
  }

  static func passphraseWrap(_ record: RecipientRecord) -> KeyWrap.PassphraseWrap? {
    // Limits come from the file: bound them so an edited vault cannot make unlock allocate
    // gigabytes or spin for hours (libsodium's "sensitive" preset is 4 passes, 1 GiB).
    guard let salt = record.salt, let nonce = record.wrapNonce ?? (record.publicKey != nil ? [] : nil),
      let wrapped = record.wrappedKey,
      let ops = record.opsLimit, let mem = record.memLimit, (1...64).contains(ops), (1...(4 << 30)).contains(mem)
    else { return nil }
    return KeyWrap.PassphraseWrap(
      salt: salt, nonce: nonce, wrapped: wrapped, limits: .init(opsLimit: UInt64(ops), memLimit: Int(mem)))
  }

  static func makeRecipientRecord(
    _ recipient: NewRecipient, name: String?, keys: VaultKeys, vaultID: String, stamp: String
  ) throws -> RecipientRecord {
    switch recipient {
    case .passphrase(let passphrase, let limits):
      try PassphraseRule.check(passphrase)
      let pair = try KeyWrap.newPassphraseKeyPair(passphrase: passphrase, vaultID: vaultID, limits: limits)
      let key = try RecipientKey(publicKey: pair.keyPair.publicKey)
      return RecipientRecord(
        id: nil, kind: Recipient.Kind.passphrase.rawValue, name: name ?? "passphrase", publicKey: key.description,
        wrappedKey: try KeyWrap.wrap(keys, to: key, vaultID: vaultID), wrapNonce: nil, salt: pair.salt,
        opsLimit: Int64(pair.limits.opsLimit), memLimit: Int64(pair.limits.memLimit), addedAt: stamp, removedAt: nil,
        secretNonce: pair.secretNonce, sealedSecret: pair.sealedSecret)
    case .x25519(let key):
      return RecipientRecord(
        id: nil, kind: Recipient.Kind.x25519.rawValue,
        name: name ?? "x25519-" + String(key.description.dropFirst(4).prefix(8)),
        publicKey: key.description, wrappedKey: try KeyWrap.wrap(keys, to: key, vaultID: vaultID), wrapNonce: nil,
        salt: nil, opsLimit: nil, memLimit: nil, addedAt: stamp, removedAt: nil)
    }
  }
}
