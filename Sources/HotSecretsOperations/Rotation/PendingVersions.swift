import Foundation
import HotSecretsModel
import HotSecretsVault

/// Pending versions: a rotation's new value is stored encrypted (state `pending`) the moment it is
/// minted, becomes `current` at promote (the old current becomes `previous`), or `failed` (its
/// ciphertext erased) when the run rolls back. Every change commits with its journal row and audit
/// entry.
extension VaultSession {
  /// Stores `value` as a pending version of `address` — or, for a single-phase item (whose old
  /// credential died when this one was minted), at once as the current one — and journals `item`
  /// (with the new version) in the same transaction. Returns the item as journaled.
  func storePending(
    _ address: SecretAddress, value: [UInt8], credentialID: String?, item: RotationItem, run: Int64
  ) throws -> RotationItem {
    try Self.validate(value: value, for: address)
    let fingerprint = try keys.fingerprint(of: value)
    return try database.write { tx in
      let state = try SecretState.fetch(address, checking: headChecks, tx: tx)
      guard let secretID = state.secretID else { throw VaultError.secretNotFound(subject: address.description) }
      let version = state.maxVersion + 1
      let sealed = try cipher.seal(value, for: address, version: version)
      let date = now()
      if item.singlePhase { try tx.secrets.demoteCurrent(secretID: secretID) }
      try tx.secrets.insertVersion(
        NewVersion(
          secretID: secretID, version: version, state: item.singlePhase ? .current : .pending,
          createdAt: Timestamp.string(from: date), source: .rotate, fingerprint: fingerprint, nonce: sealed.nonce,
          ciphertext: sealed.ciphertext))
      if item.singlePhase { try heads.seal(secretID: secretID, address: address, isNew: false, tx: tx) }
      if let credentialID {
        try tx.journal.recordCredentialID(
          credentialID, environment: address.environment, name: item.name, version: version)
      }
      var updated = item
      updated.newVersion = version
      updated.newCredentialID = credentialID
      updated.state = item.singlePhase ? .promoted : .created
      try tx.journal.update(updated, run: run, at: Timestamp.string(from: date))
      try AuditChain.append(
        AuditEvent(
          action: .rotate(.create), subject: address.description, version: version, fingerprint: fingerprint,
          detail: .object(["run": .int(Int(run)), "mode": .string(item.mode.rawValue)])),
        actor: actor, keys: keys, at: date, in: tx)
      return updated
    }
  }

  /// The value of one version that still has its ciphertext (pending, current or previous), in
  /// plain memory: wipe it after use. Throws `secretNotFound` or `integrity`.
  func versionValue(_ address: SecretAddress, version: Int) throws -> [UInt8] {
    try database.read { tx in
      guard let sealed = try tx.secrets.sealedValue(address, version: version) else {
        throw VaultError.secretNotFound(subject: "\(address) version \(version)")
      }
      return try cipher.openPlain(nonce: sealed.nonce, ciphertext: sealed.ciphertext, for: address, version: version)
    }
  }

  /// The fingerprint of a pending version.
  func pendingFingerprint(_ address: SecretAddress, version: Int) throws -> String? {
    try database.read { tx in try tx.secrets.fingerprint(address, version: version) }
  }

  /// Makes each item's pending version current (current → previous → retired) and journals the
  /// items and the run's step, all in one transaction.
  func promote(_ items: [RotationItem], environment: String, run: Int64, advanceRun: Bool = true) throws
    -> [RotationItem]
  {
    try database.write { tx in
      let date = now()
      let stamp = Timestamp.string(from: date)
      var result: [RotationItem] = []
      for var item in items {
        guard let version = item.newVersion else { continue }
        let address = SecretAddress(trusted: environment, service: item.service, key: item.key)
        let state = try SecretState.fetch(address, checking: headChecks, tx: tx)
        guard let secretID = state.secretID else { continue }
        try tx.secrets.demoteCurrent(secretID: secretID)
        // The pending row must be there to promote: otherwise the secret would be left with no
        // current version (and the whole transaction rolls back).
        guard try tx.secrets.promotePending(secretID: secretID, version: version) else {
          throw VaultError.headMismatch(subject: address.description)
        }
        try heads.seal(secretID: secretID, address: address, isNew: false, tx: tx)
        item.state = .promoted
        try tx.journal.update(item, run: run, at: stamp)
        let fingerprint = try tx.secrets.fingerprint(address, version: version)
        try AuditChain.append(
          AuditEvent(
            action: .rotate(.promote), subject: address.description, version: version, fingerprint: fingerprint,
            detail: .object(["run": .int(Int(run)), "previous_version": item.oldVersion.map { .int($0) } ?? .null])),
          actor: actor, keys: keys, at: date, in: tx)
        result.append(item)
      }
      if advanceRun { try tx.journal.setStep(.promote, run: run) }
      return result
    }
  }

  /// Marks an item's pending version failed (ciphertext erased) and journals the item with `reason`.
  func failPending(_ item: RotationItem, environment: String, run: Int64, reason: String) throws -> RotationItem {
    try database.write { tx in
      let date = now()
      var updated = item
      let address = SecretAddress(trusted: environment, service: item.service, key: item.key)
      if let version = item.newVersion {
        try tx.secrets.failPending(address, version: version)
      }
      updated.state = item.newVersion == nil ? .failed : .rolledBack
      updated.error = updated.error ?? reason
      try tx.journal.update(updated, run: run, at: Timestamp.string(from: date))
      try AuditChain.append(
        AuditEvent(
          action: .rotate(.rollback), subject: address.description, version: item.newVersion,
          detail: .object(["run": .int(Int(run)), "reason": .string(reason)])),
        actor: actor, keys: keys, at: date, in: tx)
      return updated
    }
  }

  /// Journals `item` with an audit entry `rotate-STEP`.
  func journal(
    _ item: RotationItem, step: RotationStep, environment: String, run: Int64, detail: [String: CanonicalJSON] = [:]
  )
    throws
  {
    try database.write { tx in
      let date = now()
      try tx.journal.update(item, run: run, at: Timestamp.string(from: date))
      var fields = detail
      fields["run"] = .int(Int(run))
      fields["state"] = .string(item.state.rawValue)
      if let error = item.error { fields["error"] = .string(error) }
      if let revocation = item.revocation { fields["revocation"] = .string(revocation.rawValue) }
      try AuditChain.append(
        AuditEvent(
          action: .rotate(step),
          subject: SecretAddress(trusted: environment, service: item.service, key: item.key).description,
          version: item.newVersion, detail: .object(fields)),
        actor: actor, keys: keys, at: date, in: tx)
    }
  }
}
