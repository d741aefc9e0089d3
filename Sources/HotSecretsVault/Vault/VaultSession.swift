import Foundation
import HotSecretsModel
import Sodium

/// An unlocked vault: the open store, the data key's subkeys, and who is acting. Every operation
/// that changes the store, and every read of a value, commits together with its audit entry.
public struct VaultSession: Sendable {
  public let database: any VaultStore
  public let vaultID: String
  public let actor: AuditActor
  /// Id of the recipient whose wrap unlocked this session.
  public let recipientID: Int64
  package let keys: VaultKeys
  package let now: @Sendable () -> Date
  package var cipher: ValueCipher { ValueCipher(keys: keys, vaultID: vaultID) }
  /// Whether reads check each secret's authenticated head (false only for a vault written before
  /// issue 13 that has not been re-keyed yet: `hotsecrets rekey` upgrades it).
  public internal(set) var authenticatesHeads = true
  /// The passphrase-derived key of a legacy passphrase recipient this session unlocked with, so
  /// that `upgradeOwnRecipient` and a re-key can give it a key pair without asking again.
  var legacyPassphraseKey: SecureBytes?

  init(
    database: any VaultStore, vaultID: String, keys: VaultKeys, actor: AuditActor, recipientID: Int64,
    now: @escaping @Sendable () -> Date
  ) {
    self.database = database
    self.vaultID = vaultID
    self.keys = keys
    self.actor = actor
    self.recipientID = recipientID
    self.now = now
  }

  /// Keyed fingerprint of a value under this vault's key.
  public func fingerprint(of value: some Collection<UInt8>) throws -> String {
    try keys.fingerprint(of: value)
  }

  // MARK: - Values

  /// Stores `value` as the new current version of `address`, unless it equals the current value.
  /// Throws `invalidValue` when the value is not UTF-8 or contains a NUL byte (it could not be an
  /// environment variable).
  @discardableResult
  public func set(_ address: SecretAddress, value: [UInt8], source: VersionSource = .set) throws -> SetOutcome {
    try Self.validate(value: value, for: address)
    let fingerprint = try keys.fingerprint(of: value)
    return try database.write { tx in
      try RotationJournal.guardAgainstUnfinishedRun(
        environment: address.environment, names: [ServiceKey(service: address.service, key: address.key)], in: tx)
      return try setInTransaction(address, value: value, fingerprint: fingerprint, source: source, tx: tx)
    }
  }

  /// The body of `set`, for callers that batch several writes in one transaction.
  func setInTransaction(
    _ address: SecretAddress, value: [UInt8], fingerprint: String, source: VersionSource, tx: any StoreTransaction
  ) throws -> SetOutcome {
    let state = try SecretState.fetch(address, checking: headChecks, tx: tx)
    if let current = state.current, current.fingerprint == fingerprint {
      return .unchanged(version: current.version, fingerprint: fingerprint)
    }
    let version = try writeVersion(
      address, state: state, value: value, fingerprint: fingerprint, source: source, tx: tx)
    return state.current == nil
      ? .added(version: version, fingerprint: fingerprint) : .changed(version: version, fingerprint: fingerprint)
  }

  /// Makes `value` the current version of `address`: creates the secret when `state` has none,
  /// demotes current → previous → retired, encrypts, and appends the audit entry. Returns the new
  /// version number. Must run inside a write transaction.
  package func writeVersion(
    _ address: SecretAddress, state: SecretState, value: [UInt8], fingerprint: String, source: VersionSource,
    tx: any StoreTransaction
  ) throws -> Int {
    let date = now()
    let stamp = Timestamp.string(from: date)
    let secretID: Int64
    let isNew = state.secretID == nil
    if let existing = state.secretID {
      secretID = existing
      try tx.secrets.demoteCurrent(secretID: secretID)
    } else {
      secretID = try tx.secrets.insertSecret(address, createdAt: stamp)
    }
    let version = state.maxVersion + 1
    let sealed = try cipher.seal(value, for: address, version: version)
    try tx.secrets.insertVersion(
      NewVersion(
        secretID: secretID, version: version, state: .current, createdAt: stamp, source: source,
        fingerprint: fingerprint, nonce: sealed.nonce, ciphertext: sealed.ciphertext))
    try heads.seal(secretID: secretID, address: address, isNew: isNew, tx: tx)
    try AuditChain.append(
      AuditEvent(action: .version(source), subject: address.description, version: version, fingerprint: fingerprint),
      actor: actor, keys: keys, at: date, in: tx)
    return version
  }

  /// The current value of `address`, decrypted into secure memory. The read is audited.
  /// Throws `secretNotFound`, or `integrity` when the ciphertext does not authenticate.
  public func get(_ address: SecretAddress) throws -> SecretBytes {
    try database.write { tx in
      let (_, row) = try currentVersion(of: address, tx: tx)
      let value = try cipher.open(nonce: row.nonce, ciphertext: row.ciphertext, for: address, version: row.version)
      try AuditChain.append(
        AuditEvent(action: .get, subject: address.description, version: row.version, fingerprint: row.fingerprint),
        actor: actor, keys: keys, at: now(), in: tx)
      return value
    }
  }

  /// The current version of `address`, its head checked. Throws `secretNotFound` (after checking
  /// that the environment's set of secrets is intact, so a deleted secret is not reported as absent),
  /// `headMismatch` or `environmentMismatch`.
  private func currentVersion(of address: SecretAddress, tx: any StoreTransaction) throws
    -> (secretID: Int64, current: CurrentVersionRow)
  {
    let rows = try tx.secrets.rows(at: address, ciphertexts: true)
    if let checks = headChecks {
      if rows.isEmpty { try checks.checkEnvironmentSet(address.environment, tx: tx) }
      if rows.count > 1 { throw VaultError.headMismatch(subject: address.description) }
      for row in rows { try checks.check(row, tx: tx) }
    }
    guard let row = rows.first, let current = row.current else {
      throw VaultError.secretNotFound(subject: address.description)
    }
    return (row.id, current)
  }

  /// Current versions of every secret (of one environment when given), sorted by address, each
  /// head and each environment's set checked. Throws `headMismatch` or `environmentMismatch`.
  public func list(environment: String? = nil) throws -> [SecretSummary] {
    let date = now()
    let checks = headChecks
    return try database.read { tx in
      var result: [SecretSummary] = []
      var digests: [String: HeadDigest] = [:]
      var removed: [Int64: Exposure]? = nil
      for row in try tx.secrets.rows(in: environment, ciphertexts: false) {
        if let checks { digests[row.address.environment, default: HeadDigest()].add(try checks.check(row, tx: tx)) }
        guard let current = row.current else { continue }
        result.append(
          SecretSummary(
            address: row.address, version: current.version, createdAt: current.createdAt,
            ageDays: Timestamp.date(from: current.createdAt).map { Timestamp.days(from: $0, to: date) } ?? 0,
            fingerprint: current.fingerprint,
            exposedTo: try resolveExposures(row.head.exposed, removed: &removed, tx: tx)))
      }
      if let checks {
        for (name, digest) in digests {
          try checks.checkEnvironment(name, secrets: digest.count, digest: digest.bytes, tx: tx)
        }
        if let environment, digests[environment] == nil {
          try checks.checkEnvironment(environment, secrets: 0, digest: HeadDigest().bytes, tx: tx)
        }
      }
      return result
    }
  }

  /// Every version of `address`, newest first. Throws `secretNotFound`.
  public func history(_ address: SecretAddress) throws -> [SecretVersionInfo] {
    try database.read { tx in
      let rows = try tx.secrets.versions(of: address)
      guard !rows.isEmpty else {
        if let checks = headChecks { try checks.checkEnvironmentSet(address.environment, tx: tx) }
        throw VaultError.secretNotFound(subject: address.description)
      }
      if let checks = headChecks {
        let current = rows.filter { $0.state == VersionState.current.rawValue }
        guard current.count <= 1, let head = try tx.secrets.head(secretID: rows[0].secretID) else {
          throw VaultError.headMismatch(subject: address.description)
        }
        try checks.check(
          address, storedVersion: head.version, exposed: head.exposed, storedMAC: head.mac,
          foundVersion: current.first?.version, foundFingerprint: current.first?.fingerprint,
          foundNonce: current.first.map { Data($0.nonce) }, tx: tx)
      }
      return rows.map {
        SecretVersionInfo(
          version: $0.version, state: VersionState(rawValue: $0.state) ?? .retired, createdAt: $0.createdAt,
          source: VersionSource(rawValue: $0.source) ?? .set, fingerprint: $0.fingerprint)
      }
    }
  }

  /// Removes `address`: every version's ciphertext is erased and its state becomes `removed`. The
  /// rows stay as tombstones so version numbers are never reused (a re-added secret continues at
  /// the next number, and an old ciphertext from a backup cannot pass for a new version).
  /// Throws `secretNotFound`.
  public func remove(_ address: SecretAddress) throws {
    try database.write { tx in
      try RotationJournal.guardAgainstUnfinishedRun(
        environment: address.environment, names: [ServiceKey(service: address.service, key: address.key)], in: tx)
      try removeInTransaction(address, reason: nil, tx: tx)
    }
  }

  /// The body of `remove`; `reason` (e.g. `prune`) goes into the audit entry's detail.
  package func removeInTransaction(_ address: SecretAddress, reason: String?, tx: any StoreTransaction) throws {
    let (secretID, current) = try currentVersion(of: address, tx: tx)
    try tx.secrets.removeAll(secretID: secretID)
    try heads.seal(secretID: secretID, address: address, isNew: false, tx: tx)
    try AuditChain.append(
      AuditEvent(
        action: .remove, subject: address.description, version: current.version, fingerprint: current.fingerprint,
        detail: reason.map { .object(["reason": .string($0)]) }),
      actor: actor, keys: keys, at: now(), in: tx)
  }

  // MARK: - Audit

  /// Every audit entry, in seq order.
  public func auditEntries() throws -> [AuditEntry] {
    try database.read { tx in
      var entries: [AuditEntry] = []
      try tx.audit.scan(after: 0) {
        entries.append($0)
        return true
      }
      return entries
    }
  }

  /// Refuses a value that could not be an environment variable (a NUL byte, not UTF-8) or is
  /// larger than `SecretValueLimit.maximumBytes` (`valueTooLarge`). Errors name the address, never
  /// the value. Every path by which a value enters the store calls this before writing.
  package static func validate(value: [UInt8], for address: SecretAddress) throws {
    if value.count > SecretValueLimit.maximumBytes {
      throw VaultError.valueTooLarge(subject: address.description, maximumBytes: SecretValueLimit.maximumBytes)
    }
    if value.contains(0) {
      throw VaultError.invalidValue(subject: address.description, reason: "it contains a NUL byte")
    }
    if String(validating: value, as: UTF8.self) == nil {
      throw VaultError.invalidValue(subject: address.description, reason: "it is not valid UTF-8")
    }
  }
}
