import HotSecretsModel

extension VaultSession {
  /// Recipients in id order (removed ones too with `includeRemoved`), checked against the
  /// recipients MAC. Throws `recipientsMismatch`.
  public func recipients(includeRemoved: Bool = false) throws -> [Recipient] {
    try database.read { tx in
      try allRecipients(tx: tx).filter { includeRemoved || $0.removedAt == nil }.map(describe)
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
    return try database.write { tx in
      let existing = try allRecipients(tx: tx)
      if let key = record.publicKey, existing.contains(where: { $0.publicKey == key && $0.removedAt == nil }) {
        throw VaultError.invalidRecipient(reason: "\(key) is already a recipient of this vault")
      }
      try tx.recipients.insert(&record)
      try recipientSet.seal(tx: tx)
      try AuditChain.append(.recipient(.recipientAdd, record), actor: actor, keys: keys, at: date, in: tx)
      return describe(record)
    }
  }

  /// Removes recipient `id` and re-keys the vault in the same transaction (see `rekey`): nothing
  /// written afterwards can be read with the removed recipient's old wrap or the old data key, and
  /// every version it could have read is recorded as exposed to it (`verify` reports those still
  /// current; `rotate --exposed` replaces them). Refuses to remove the last active recipient.
  /// Returns the session under the new keys and what the re-key did.
  public func removeRecipient(id: Int64) throws -> (session: VaultSession, report: RekeyReport) {
    try rekey(removing: id)
  }

  private func describe(_ r: RecipientRecord) -> Recipient {
    Recipient(
      id: r.id ?? 0, kind: Recipient.Kind(rawValue: r.kind) ?? .x25519, name: r.name,
      // A passphrase recipient's public half is an implementation detail: nobody holds an identity for it.
      recipient: r.kind == Recipient.Kind.x25519.rawValue ? r.publicKey : nil,
      addedAt: r.addedAt, removedAt: r.removedAt, isSelf: r.id == recipientID)
  }
}

extension AuditEvent {
  /// A recipient change (`recipient-add`, `recipient-remove`, `recipient-upgrade`): subject
  /// `recipient/ID`, detail its kind and name plus `extra`.
  static func recipient(_ action: AuditAction, _ record: RecipientRecord, extra: [String: CanonicalJSON] = [:])
    -> AuditEvent
  {
    var detail = extra
    detail["kind"] = .string(record.kind)
    detail["name"] = .string(record.name)
    return AuditEvent(action: action, subject: "recipient/\(record.id ?? 0)", detail: .object(detail))
  }
}
