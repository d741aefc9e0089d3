import GRDB

extension VaultSession {
  /// Every recipient, active and removed, in id order.
  public func recipients(includeRemoved: Bool = false) throws -> [Recipient] {
    try database.read { db in
      var request = RecipientRecord.order(Column("id"))
      if !includeRemoved { request = request.filter(Column("removed_at") == nil) }
      return try request.fetchAll(db).map(describe)
    }
  }

  /// Wraps the data key for one more recipient. Throws `invalidRecipient` when that key is already
  /// an active recipient, and `passphraseTooShort` for a passphrase `PassphraseRule` refuses.
  @discardableResult
  public func addRecipient(_ recipient: NewRecipient, name: String?) throws -> Recipient {
    if let name, name.isEmpty || name.count > 64 || name.contains(where: \.isNewline) {
      throw VaultError.invalidRecipient(reason: "a name must be 1 to 64 characters on one line")
    }
    let date = now()
    var record = try VaultAccess.makeRecipientRecord(
      recipient, name: name, keys: keys, vaultID: vaultID, stamp: Timestamp.string(from: date))
    return try database.write { db in
      if let key = record.publicKey,
        try RecipientRecord.filter(Column("public_key") == key && Column("removed_at") == nil).fetchCount(db) > 0
      {
        throw VaultError.invalidRecipient(reason: "\(key) is already a recipient of this vault")
      }
      try record.insert(db)
      try AuditChain.append(
        AuditEvent(
          action: "recipient-add", subject: "recipient/\(record.id ?? 0)",
          detail: .object(["kind": .string(record.kind), "name": .string(record.name)])),
        actor: actor, keys: keys, at: date, in: db)
      return describe(record)
    }
  }

  /// Removes recipient `id`: its wrap is erased (the row stays, dated, for access history) and the
  /// data key is sealed afresh for every remaining X25519 recipient. Refuses to remove the last
  /// active recipient. The data key itself is not changed: values a removed recipient could already
  /// read stay readable to anyone holding an old copy of the vault file until the vault is re-keyed.
  public func removeRecipient(id: Int64) throws {
    let date = now()
    try database.write { db in
      let active = try RecipientRecord.filter(Column("removed_at") == nil).fetchAll(db)
      guard var target = active.first(where: { $0.id == id }) else { throw VaultError.recipientNotFound(id: id) }
      guard active.count > 1 else { throw VaultError.lastRecipient }
      target.removedAt = Timestamp.string(from: date)
      target.wrappedKey = nil
      target.wrapNonce = nil
      target.salt = nil
      try target.update(db)
      for var other in active where other.id != id && other.kind == Recipient.Kind.x25519.rawValue {
        guard let text = other.publicKey else { continue }
        other.wrappedKey = try KeyWrap.wrap(keys, to: try RecipientKey(parsing: text), vaultID: vaultID)
        try other.update(db)
      }
      try AuditChain.append(
        AuditEvent(
          action: "recipient-remove", subject: "recipient/\(id)",
          detail: .object(["kind": .string(target.kind), "name": .string(target.name)])),
        actor: actor, keys: keys, at: date, in: db)
    }
  }

  private func describe(_ r: RecipientRecord) -> Recipient {
    Recipient(
      id: r.id ?? 0, kind: Recipient.Kind(rawValue: r.kind) ?? .x25519, name: r.name, recipient: r.publicKey,
      addedAt: r.addedAt, removedAt: r.removedAt, isSelf: r.id == recipientID)
  }
}
