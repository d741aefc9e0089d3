import Foundation
import GRDB
import Sodium

/// An unlocked vault: the open store, the data key's subkeys, and who is acting. Every operation
/// that changes the store, and every read of a value, commits together with its audit entry.
public struct VaultSession: Sendable {
  public let database: VaultDatabase
  public let vaultID: String
  public let actor: AuditActor
  /// Id of the recipient whose wrap unlocked this session.
  public let recipientID: Int64
  let keys: VaultKeys
  let now: @Sendable () -> Date
  var cipher: ValueCipher { ValueCipher(keys: keys, vaultID: vaultID) }
  /// Whether reads check each secret's authenticated head (false only for a vault written before
  /// issue 13 that has not been re-keyed yet: `hotsecrets rekey` upgrades it).
  public internal(set) var authenticatesHeads = true
  /// The passphrase-derived key of a legacy passphrase recipient this session unlocked with, so
  /// that `upgradeOwnRecipient` and a re-key can give it a key pair without asking again.
  var legacyPassphraseKey: SecureBytes?

  init(
    database: VaultDatabase, vaultID: String, keys: VaultKeys, actor: AuditActor, recipientID: Int64,
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
    return try database.write { db in
      try RotationJournal.guardAgainstUnfinishedRun(
        environment: address.environment, names: [ServiceKey(service: address.service, key: address.key)], db: db)
      return try setInTransaction(address, value: value, fingerprint: fingerprint, source: source, db: db)
    }
  }

  /// The body of `set`, for callers that batch several writes in one transaction.
  func setInTransaction(
    _ address: SecretAddress, value: [UInt8], fingerprint: String, source: VersionSource, db: Database
  ) throws -> SetOutcome {
    let state = try SecretState.fetch(address, checking: headChecks, db: db)
    if let current = state.current, current.fingerprint == fingerprint {
      return .unchanged(version: current.version, fingerprint: fingerprint)
    }
    let version = try writeVersion(
      address, state: state, value: value, fingerprint: fingerprint, source: source, db: db)
    return state.current == nil
      ? .added(version: version, fingerprint: fingerprint) : .changed(version: version, fingerprint: fingerprint)
  }

  /// Makes `value` the current version of `address`: creates the secret when `state` has none,
  /// demotes current → previous → retired, encrypts, and appends the audit entry. Returns the new
  /// version number. Must run inside a write transaction.
  func writeVersion(
    _ address: SecretAddress, state: SecretState, value: [UInt8], fingerprint: String, source: VersionSource,
    db: Database
  ) throws -> Int {
    let date = now()
    let stamp = Timestamp.string(from: date)
    let secretID: Int64
    let isNew = state.secretID == nil
    // Cached statements: imports run this thousands of times in one transaction.
    if let existing = state.secretID {
      secretID = existing
      try db.cachedStatement(
        sql: """
          UPDATE secret_versions SET state = CASE state WHEN 'previous' THEN 'retired' ELSE 'previous' END
          WHERE secret_id = ? AND state IN ('current', 'previous')
          """
      ).execute(arguments: [secretID])
    } else {
      try db.cachedStatement(sql: "INSERT INTO secrets (environment, service, key, created_at) VALUES (?, ?, ?, ?)")
        .execute(arguments: [address.environment, address.service, address.key, stamp])
      secretID = db.lastInsertedRowID
    }
    let version = state.maxVersion + 1
    let sealed = try cipher.seal(value, for: address, version: version)
    try db.cachedStatement(
      sql: """
        INSERT INTO secret_versions (secret_id, version, state, created_at, source, fingerprint, nonce, ciphertext)
        VALUES (?, ?, 'current', ?, ?, ?, ?, ?)
        """
    ).execute(arguments: [
      secretID, version, stamp, source.rawValue, fingerprint, Data(sealed.nonce), Data(sealed.ciphertext),
    ])
    try heads.seal(secretID: secretID, address: address, isNew: isNew, db: db)
    try AuditChain.append(
      AuditEvent(action: .version(source), subject: address.description, version: version, fingerprint: fingerprint),
      actor: actor, keys: keys, at: date, in: db)
    return version
  }

  /// The current value of `address`, decrypted into secure memory. The read is audited.
  /// Throws `secretNotFound`, or `integrity` when the ciphertext does not authenticate.
  public func get(_ address: SecretAddress) throws -> SecretBytes {
    try database.write { db in
      let row = try currentVersion(of: address, db: db)
      let value = try cipher.open(nonce: row.nonce, ciphertext: row.ciphertext, for: address, version: row.version)
      try AuditChain.append(
        AuditEvent(action: .get, subject: address.description, version: row.version, fingerprint: row.fingerprint),
        actor: actor, keys: keys, at: now(), in: db)
      return value
    }
  }

  /// The current version of `address`, its head checked. Throws `secretNotFound` (after checking
  /// that the environment's set of secrets is intact, so a deleted secret is not reported as absent),
  /// `headMismatch` or `environmentMismatch`.
  private func currentVersion(of address: SecretAddress, db: Database) throws -> SecretVersionRecord {
    let rows = try Row.fetchAll(
      db,
      sql: """
        SELECT s.id AS sid, s.head_version, s.head_exposed, s.head_mac, v.*
        FROM secrets s LEFT JOIN secret_versions v ON v.secret_id = s.id AND v.state = 'current'
        WHERE s.environment = ? AND s.service = ? AND s.key = ?
        """, arguments: [address.environment, address.service, address.key])
    if let checks = headChecks {
      if rows.isEmpty { try checks.checkEnvironmentSet(address.environment, db: db) }
      if rows.count > 1 { throw VaultError.headMismatch(subject: address.description) }
      for row in rows {
        try checks.check(
          address, storedVersion: row[1], exposed: row[2] ?? "", storedMAC: row.dataNoCopy(atIndex: 3), foundVersion: row["version"],
          foundFingerprint: row["fingerprint"], foundNonce: row.dataNoCopy(named: "nonce"), db: db)
      }
    }
    guard let row = rows.first, (row["version"] as Int?) != nil else {
      throw VaultError.secretNotFound(subject: address.description)
    }
    return SecretVersionRecord(row: row)
  }

  /// Current versions of every secret (of one environment when given), sorted by address, each
  /// head and each environment's set checked. Throws `headMismatch` or `environmentMismatch`.
  public func list(environment: String? = nil) throws -> [SecretSummary] {
    let date = now()
    let checks = headChecks
    return try database.read { db in
      var sql = """
        SELECT s.environment, s.service, s.key, v.version, v.created_at, v.fingerprint,
               s.head_version, s.head_exposed, s.head_mac, v.nonce
        FROM secrets s LEFT JOIN secret_versions v ON v.secret_id = s.id AND v.state = 'current'
        """
      var args: StatementArguments = []
      if let environment {
        sql += " WHERE s.environment = ?"
        args = [environment]
      }
      sql += " ORDER BY s.environment, s.service, s.key"
      var result: [SecretSummary] = []
      var digests: [String: HeadDigest] = [:]
      var removed: [Int64: Exposure]? = nil
      for row in try Row.fetchAll(db, sql: sql, arguments: args) {
        let address = SecretAddress(trusted: row[0], service: row[1], key: row[2])
        let version: Int? = row[3]
        let exposed: String = row[7] ?? ""
        if let checks {
          let mac = try checks.check(
            address, storedVersion: row[6], exposed: exposed, storedMAC: row.dataNoCopy(atIndex: 8), foundVersion: version,
            foundFingerprint: row[5], foundNonce: row.dataNoCopy(atIndex: 9), db: db)
          digests[address.environment, default: HeadDigest()].add(mac)
        }
        guard let version else { continue }
        let created: String = row[4]
        result.append(
          SecretSummary(
            address: address, version: version, createdAt: created,
            ageDays: Timestamp.date(from: created).map { Timestamp.days(from: $0, to: date) } ?? 0,
            fingerprint: row[5], exposedTo: try resolveExposures(exposed, removed: &removed, db: db)))
      }
      if let checks {
        for (name, digest) in digests {
          try checks.checkEnvironment(name, secrets: digest.count, digest: digest.bytes, db: db)
        }
        if let environment, digests[environment] == nil {
          try checks.checkEnvironment(environment, secrets: 0, digest: HeadDigest().bytes, db: db)
        }
      }
      return result
    }
  }

  /// Every version of `address`, newest first. Throws `secretNotFound`.
  public func history(_ address: SecretAddress) throws -> [SecretVersionInfo] {
    try database.read { db in
      let rows = try SecretVersionRecord.fetchAll(
        db,
        sql: """
          SELECT v.* FROM secret_versions v JOIN secrets s ON s.id = v.secret_id
          WHERE s.environment = ? AND s.service = ? AND s.key = ? ORDER BY v.version DESC
          """, arguments: [address.environment, address.service, address.key])
      guard !rows.isEmpty else {
        if let checks = headChecks { try checks.checkEnvironmentSet(address.environment, db: db) }
        throw VaultError.secretNotFound(subject: address.description)
      }
      if let checks = headChecks {
        let current = rows.filter { $0.state == VersionState.current.rawValue }
        guard current.count <= 1,
          let head = try Row.fetchOne(
            db, sql: "SELECT head_version, head_exposed, head_mac FROM secrets WHERE id = ?",
            arguments: [rows[0].secretID])
        else { throw VaultError.headMismatch(subject: address.description) }
        try checks.check(
          address, storedVersion: head[0], exposed: head[1] ?? "", storedMAC: head.dataNoCopy(atIndex: 2),
          foundVersion: current.first?.version, foundFingerprint: current.first?.fingerprint,
          foundNonce: current.first.map { Data($0.nonce) }, db: db)
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
    try database.write { db in
      try RotationJournal.guardAgainstUnfinishedRun(
        environment: address.environment, names: [ServiceKey(service: address.service, key: address.key)], db: db)
      try removeInTransaction(address, reason: nil, db: db)
    }
  }

  /// The body of `remove`; `reason` (e.g. `prune`) goes into the audit entry's detail.
  func removeInTransaction(_ address: SecretAddress, reason: String?, db: Database) throws {
    let current = try currentVersion(of: address, db: db)
    try db.execute(
      sql: "UPDATE secret_versions SET state = 'removed', nonce = x'', ciphertext = x'' WHERE secret_id = ?",
      arguments: [current.secretID])
    try heads.seal(secretID: current.secretID, address: address, isNew: false, db: db)
    try AuditChain.append(
      AuditEvent(
        action: .remove, subject: address.description, version: current.version, fingerprint: current.fingerprint,
        detail: reason.map { .object(["reason": .string($0)]) }),
      actor: actor, keys: keys, at: now(), in: db)
  }

  // MARK: - Audit

  /// Every audit entry, in seq order.
  public func auditEntries() throws -> [AuditEntry] {
    try database.read { db in try AuditEntry.order(Column("seq")).fetchAll(db) }
  }

  /// Refuses a value that could not be an environment variable (a NUL byte, not UTF-8) or is
  /// larger than `SecretValueLimit.maximumBytes` (`valueTooLarge`). Errors name the address, never
  /// the value. Every path by which a value enters the store calls this before writing.
  static func validate(value: [UInt8], for address: SecretAddress) throws {
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
