import Foundation
import GRDB
import Sodium

/// Authenticated current versions: what a writer of the store without the keys cannot change.
///
/// Each secret's *head* — its current version (or none, once removed), that version's fingerprint,
/// and the removed recipients that version is exposed to — is MACed under the head subkey together
/// with the vault id and the secret's address (`secrets.head_mac`). Each environment's set of secrets
/// is authenticated by `environment_heads`: the number of secrets and the XOR of their head MACs,
/// MACed in turn. Reads compare what the rows say with the MACs, so swapping states, pointing the
/// current version at another row, deleting the current row, reviving a removed secret or deleting a
/// secret outright is an integrity error instead of a silently different value.
struct SecretHeads: Sendable {
  let keys: VaultKeys
  let vaultID: String

  /// What the MAC of one secret covers.
  struct Head: Equatable {
    /// nil when the secret has no current version (removed).
    var version: Int?
    var fingerprint: String?
    /// Ids of the removed recipients the current version is exposed to, comma-separated, ascending.
    var exposed: String
    /// The current version's nonce: a ciphertext pasted in from a backup (even at a reused version
    /// number) comes with another nonce.
    var nonce: Data?
  }

  static let macBytes = 32

  /// MAC of one secret's head, as raw bytes. Built byte by byte: `verify` computes one per secret.
  func mac(environment: String, service: String, key: String, head: Head) throws -> [UInt8] {
    var message = Self.headTag
    message.reserveCapacity(
      Self.headTag.count + vaultID.utf8.count + environment.utf8.count + service.utf8.count + key.utf8.count
        + (head.fingerprint?.utf8.count ?? 0) + head.exposed.utf8.count + 32)
    message.append(contentsOf: vaultID.utf8)
    message.append(0)
    message.append(contentsOf: environment.utf8)
    message.append(0)
    message.append(contentsOf: service.utf8)
    message.append(0)
    message.append(contentsOf: key.utf8)
    message.append(0)
    if let version = head.version { Self.appendDecimal(version, to: &message) } else { message.append(0x2D) }
    message.append(0)
    if let fingerprint = head.fingerprint { message.append(contentsOf: fingerprint.utf8) }
    message.append(0)
    message.append(UInt8(truncatingIfNeeded: head.nonce?.count ?? 0))
    if let nonce = head.nonce { message.append(contentsOf: nonce) }
    message.append(contentsOf: head.exposed.utf8)
    return try GenericHash.hash(message, key: keys.headKey, length: Self.macBytes)
  }

  private static func appendDecimal(_ value: Int, to bytes: inout [UInt8]) {
    if value < 0 {
      bytes.append(contentsOf: String(value).utf8)
      return
    }
    var divisor = 1
    while divisor <= value / 10 { divisor *= 10 }
    var rest = value
    while divisor > 0 {
      bytes.append(UInt8(48 + rest / divisor))
      rest %= divisor
      divisor /= 10
    }
  }

  private static let headTag = Array("hotsecrets.head.v1\0".utf8)

  /// MAC of an environment's set: its number of secrets and the XOR of their head MACs.
  func environmentMAC(environment: String, secrets: Int, digest: [UInt8]) throws -> String {
    ByteEncoding.hex(
      try GenericHash.hash(
        Array("hotsecrets.environment.v1\0\(vaultID)\0\(environment)\0\(secrets)\0\(ByteEncoding.hex(digest))".utf8),
        key: keys.headKey, length: Self.macBytes))
  }

  /// Checks one secret's stored head against the current row found. `stored*` is what the secrets
  /// row records (`head_version`, `head_exposed`, `head_mac`, the MAC as a 32-byte blob); `found*` is
  /// the version and fingerprint of the row whose state is `current`, if any. Returns the MAC's raw
  /// bytes, for the environment's digest. Throws `headMismatch` naming the address.
  @discardableResult
  func check(
    environment: String, service: String, key: String, storedVersion: Int?, exposed: String, storedMAC: Data?,
    foundVersion: Int?, foundFingerprint: String?, foundNonce: Data?, db: Database
  ) throws -> [UInt8] {
    func mismatch() throws -> VaultError {
      try self.mismatch(
        .headMismatch(subject: SecretAddress(trusted: environment, service: service, key: key).description), db: db)
    }
    guard let storedMAC, storedMAC.count == Self.macBytes, storedVersion == foundVersion else { throw try mismatch() }
    let expected = try mac(
      environment: environment, service: service, key: key,
      head: Head(version: foundVersion, fingerprint: foundFingerprint, exposed: exposed, nonce: foundNonce))
    let equal = expected.withUnsafeBytes { e in storedMAC.withUnsafeBytes { s in memcmp(e.baseAddress!, s.baseAddress!, Self.macBytes) == 0 } }
    guard equal else { throw try mismatch() }
    return expected
  }

  /// `check` for an address.
  @discardableResult
  func check(
    _ address: SecretAddress, storedVersion: Int?, exposed: String, storedMAC: Data?, foundVersion: Int?,
    foundFingerprint: String?, foundNonce: Data?, db: Database
  ) throws -> [UInt8] {
    try check(
      environment: address.environment, service: address.service, key: address.key, storedVersion: storedVersion,
      exposed: exposed, storedMAC: storedMAC, foundVersion: foundVersion, foundFingerprint: foundFingerprint,
      foundNonce: foundNonce, db: db)
  }

  /// `error`, or `rekeyedMeanwhile` when these keys are stale (see `KeyEpoch.explain`).
  func mismatch(_ error: VaultError, db: Database) throws -> VaultError {
    try KeyEpoch.explain(error, keys: keys, db: db)
  }

  /// Checks `environment`'s stored set against the secrets read (their count and XORed MACs).
  /// Throws `environmentMismatch`.
  func checkEnvironment(_ environment: String, secrets: Int, digest: [UInt8], db: Database) throws {
    let row = try Row.fetchOne(
      db.cachedStatement(sql: "SELECT secrets, digest, mac FROM environment_heads WHERE environment = ?"),
      arguments: [environment])
    guard let row else {
      if secrets == 0 { return }
      throw try mismatch(.environmentMismatch(environment: environment), db: db)
    }
    let storedCount: Int = row[0]
    let storedDigest: String = row[1]
    let storedMAC: String = row[2]
    guard storedCount == secrets, storedDigest == ByteEncoding.hex(digest),
      try environmentMAC(environment: environment, secrets: secrets, digest: digest) == storedMAC
    else { throw try mismatch(.environmentMismatch(environment: environment), db: db) }
  }

  /// Recomputes `environment`'s set from every stored head MAC and checks it against the stored
  /// digest (a secret deleted or added without the keys). Throws `environmentMismatch`.
  func checkEnvironmentSet(_ environment: String, db: Database) throws {
    var digest = HeadDigest()
    let rows = try Row.fetchCursor(
      db.cachedStatement(sql: "SELECT head_mac FROM secrets WHERE environment = ?"), arguments: [environment])
    while let row = try rows.next() {
      guard let mac = row.dataNoCopy(atIndex: 0), mac.count == Self.macBytes else {
        throw try mismatch(.environmentMismatch(environment: environment), db: db)
      }
      digest.add(mac)
    }
    try checkEnvironment(environment, secrets: digest.count, digest: digest.bytes, db: db)
  }

  /// Recomputes and stores `secretID`'s head from its rows (current version, fingerprint, exposures)
  /// and folds the change into its environment's set. `isNew`: the secret row was just inserted.
  /// Must run inside the write transaction that changed the secret.
  func seal(secretID: Int64, address: SecretAddress, isNew: Bool, db: Database) throws {
    let current = try Row.fetchOne(
      db.cachedStatement(
        sql: "SELECT version, fingerprint, nonce FROM secret_versions WHERE secret_id = ? AND state = 'current'"),
      arguments: [secretID])
    let version: Int? = current?[0]
    let fingerprint: String? = current?[1]
    let nonce: Data? = current?[2]
    let exposed = try version.map { try Self.exposedRecipients(secretID: secretID, version: $0, db: db) } ?? ""
    let newMAC = try mac(
      environment: address.environment, service: address.service, key: address.key,
      head: Head(version: version, fingerprint: fingerprint, exposed: exposed, nonce: nonce))
    let oldMAC = try Data.fetchOne(
      db.cachedStatement(sql: "SELECT head_mac FROM secrets WHERE id = ?"), arguments: [secretID])
    try db.cachedStatement(sql: "UPDATE secrets SET head_version = ?, head_exposed = ?, head_mac = ? WHERE id = ?")
      .execute(arguments: [version, exposed, Data(newMAC), secretID])
    var delta = newMAC
    if let oldMAC, oldMAC.count == Self.macBytes {
      for (i, byte) in oldMAC.enumerated() { delta[i] ^= byte }
    }
    try fold(delta, into: address.environment, added: isNew ? 1 : 0, db: db)
  }

  /// XORs `delta` into `environment`'s digest, adds `added` to its count, and re-MACs it.
  private func fold(_ delta: [UInt8], into environment: String, added: Int, db: Database) throws {
    let row = try Row.fetchOne(
      db.cachedStatement(sql: "SELECT secrets, digest FROM environment_heads WHERE environment = ?"),
      arguments: [environment])
    var count: Int = row?[0] ?? 0
    var digest = (row?[1] as String?).flatMap { ByteEncoding.bytes(hex: $0) } ?? []
    if digest.count != Self.macBytes { digest = [UInt8](repeating: 0, count: Self.macBytes) }
    for i in 0..<Self.macBytes { digest[i] ^= delta[i] }
    count += added
    try write(environment: environment, secrets: count, digest: digest, db: db)
  }

  private func write(environment: String, secrets: Int, digest: [UInt8], db: Database) throws {
    try db.cachedStatement(
      sql: """
        INSERT INTO environment_heads (environment, secrets, digest, mac) VALUES (?, ?, ?, ?)
        ON CONFLICT (environment) DO UPDATE SET secrets = excluded.secrets, digest = excluded.digest, mac = excluded.mac
        """
    ).execute(arguments: [
      environment, secrets, ByteEncoding.hex(digest),
      try environmentMAC(environment: environment, secrets: secrets, digest: digest),
    ])
  }

  /// Every secret with what its head stores (4-6: head_version, head_exposed, head_mac), its current
  /// row (7-9: version, fingerprint, nonce) and the exposures the table records for that row (10).
  private static let everySecretSQL = """
    SELECT s.id, s.environment, s.service, s.key, s.head_version, s.head_exposed, s.head_mac,
           v.version, v.fingerprint, v.nonce,
           (SELECT group_concat(recipient_id) FROM
              (SELECT recipient_id FROM exposures e WHERE e.secret_id = s.id AND e.version = v.version
               ORDER BY recipient_id))
    FROM secrets s LEFT JOIN secret_versions v ON v.secret_id = s.id AND v.state = 'current'
    """

  /// Checks every secret's head and every environment's set (an environment whose secrets were all
  /// deleted included), and that each head's exposure is what the exposures table records: what a
  /// re-key must do before it re-seals anything. Throws `headMismatch` or `environmentMismatch`.
  func verifyAll(db: Database) throws {
    var digests: [String: HeadDigest] = [:]
    var seen = Set<Int64>()
    let rows = try Row.fetchCursor(db, sql: Self.everySecretSQL)
    while let row = try rows.next() {
      let environment: String = row[1]
      let service: String = row[2]
      let key: String = row[3]
      let exposed: String = row[5] ?? ""
      let recorded: String = row[10] ?? ""
      guard seen.insert(row[0]).inserted, exposed == recorded else {
        throw try mismatch(
          .headMismatch(subject: SecretAddress(trusted: environment, service: service, key: key).description), db: db)
      }
      digests[environment, default: HeadDigest()].add(
        try check(
          environment: environment, service: service, key: key, storedVersion: row[4], exposed: exposed,
          storedMAC: row.dataNoCopy(atIndex: 6), foundVersion: row[7], foundFingerprint: row[8],
          foundNonce: row.dataNoCopy(atIndex: 9), db: db))
    }
    let recordedEnvironments = try String.fetchSet(db, sql: "SELECT environment FROM environment_heads")
    for environment in recordedEnvironments.union(digests.keys).sorted() {
      let digest = digests[environment] ?? HeadDigest()
      try checkEnvironment(environment, secrets: digest.count, digest: digest.bytes, db: db)
    }
  }

  /// Recomputes every secret's head and every environment's set from the rows as they are, under
  /// these keys: after a re-key, and when a vault from before authenticated heads is upgraded (the
  /// rows are trusted as found then). Must run inside a write transaction.
  func rebuildAll(db: Database) throws {
    try db.execute(sql: "DELETE FROM environment_heads")
    var sets: [String: HeadDigest] = [:]
    let rows = try Row.fetchAll(db, sql: Self.everySecretSQL + " ORDER BY s.id")
    var seen = Set<Int64>()
    let update = try db.makeStatement(
      sql: "UPDATE secrets SET head_version = ?, head_exposed = ?, head_mac = ? WHERE id = ?")
    for row in rows {
      let id: Int64 = row[0]
      guard seen.insert(id).inserted else {
        throw VaultError.corruptVault("secret \(row[1] as String)/\(row[2] as String)/\(row[3] as String) has two current versions")
      }
      let environment: String = row[1]
      let version: Int? = row[7]
      let exposed: String = row[10] ?? ""
      let mac = try mac(
        environment: environment, service: row[2], key: row[3],
        head: Head(version: version, fingerprint: row[8], exposed: exposed, nonce: row[9]))
      try update.execute(arguments: [version, exposed, Data(mac), id])
      sets[environment, default: HeadDigest()].add(mac)
    }
    for (environment, set) in sets {
      try write(environment: environment, secrets: set.count, digest: set.bytes, db: db)
    }
  }

  /// The removed recipients version `version` of `secretID` is exposed to, as stored in a head.
  static func exposedRecipients(secretID: Int64, version: Int, db: Database) throws -> String {
    try String.fetchOne(
      db.cachedStatement(
        sql: """
          SELECT group_concat(recipient_id) FROM
            (SELECT recipient_id FROM exposures WHERE secret_id = ? AND version = ? ORDER BY recipient_id)
          """), arguments: [secretID, version]) ?? ""
  }
}

/// XOR accumulator of head MACs, for checking an environment's set while its secrets are read.
struct HeadDigest {
  private(set) var count = 0
  private(set) var bytes = [UInt8](repeating: 0, count: SecretHeads.macBytes)

  mutating func add(_ mac: some Collection<UInt8>) {
    count += 1
    for (i, byte) in zip(0..<SecretHeads.macBytes, mac) { bytes[i] ^= byte }
  }
}

extension VaultSession {
  /// The head authenticator under this session's keys.
  var heads: SecretHeads { SecretHeads(keys: keys, vaultID: vaultID) }

  /// The authenticator reads check against, or nil for a vault from before authenticated heads
  /// (not yet re-keyed: its heads are written but not trusted).
  var headChecks: SecretHeads? { authenticatesHeads ? heads : nil }
}
