import GRDB

/// What the store holds for one address right now, as needed to write a new version.
struct SecretState: Sendable {
  struct Current: Sendable {
    let version: Int
    let fingerprint: String
  }
  /// nil when the secret does not exist yet.
  var secretID: Int64?
  var current: Current?
  /// Highest version number ever written (0 when none): new versions never reuse a number.
  var maxVersion: Int

  static let absent = SecretState(secretID: nil, current: nil, maxVersion: 0)

  /// The state of one address, its head checked by `checking` (nil: a vault whose heads are not
  /// authenticated yet). Throws `headMismatch`.
  static func fetch(_ address: SecretAddress, checking: SecretHeads?, db: Database) throws -> SecretState {
    let rows = try Row.fetchAll(
      db.cachedStatement(
        sql: """
          SELECT s.id, c.version, c.fingerprint, (SELECT MAX(version) FROM secret_versions WHERE secret_id = s.id),
                 s.head_version, s.head_exposed, s.head_mac, c.nonce
          FROM secrets s LEFT JOIN secret_versions c ON c.secret_id = s.id AND c.state = 'current'
          WHERE s.environment = ? AND s.service = ? AND s.key = ?
          """), arguments: [address.environment, address.service, address.key])
    guard let row = rows.first else {
      // A new secret: make sure the environment's set is intact first, so that a secret deleted
      // without the keys is an integrity error rather than quietly created anew.
      if let checking { try checking.checkEnvironmentSet(address.environment, db: db) }
      return .absent
    }
    if let checking {
      guard rows.count == 1 else { throw VaultError.headMismatch(subject: address.description) }
      try check(row, address: address, checking: checking, db: db)
    }
    return state(from: row)
  }

  /// The state of every secret of `environment`, keyed by service and key, in one query; heads and
  /// the environment's set checked by `checking`. Throws `headMismatch` or `environmentMismatch`.
  static func fetchAll(environment: String, checking: SecretHeads?, db: Database) throws -> [ServiceKey: SecretState] {
    var result: [ServiceKey: SecretState] = [:]
    var digest = HeadDigest()
    let rows = try Row.fetchCursor(
      db,
      sql: """
        SELECT s.id, c.version, c.fingerprint, (SELECT MAX(version) FROM secret_versions WHERE secret_id = s.id),
               s.head_version, s.head_exposed, s.head_mac, s.service, s.key, c.nonce
        FROM secrets s LEFT JOIN secret_versions c ON c.secret_id = s.id AND c.state = 'current'
        WHERE s.environment = ?
        """, arguments: [environment])
    while let row = try rows.next() {
      let name = ServiceKey(service: row[7], key: row[8])
      if let checking {
        let address = SecretAddress(trusted: environment, service: name.service, key: name.key)
        guard result[name] == nil else { throw VaultError.headMismatch(subject: address.description) }
        digest.add(try check(row, address: address, checking: checking, db: db))
      }
      result[name] = state(from: row)
    }
    try checking?.checkEnvironment(environment, secrets: digest.count, digest: digest.bytes, db: db)
    return result
  }

  @discardableResult
  private static func check(_ row: Row, address: SecretAddress, checking: SecretHeads, db: Database) throws -> [UInt8] {
    try checking.check(
      address, storedVersion: row[4], exposed: row[5] ?? "", storedMAC: row.dataNoCopy(atIndex: 6), foundVersion: row[1],
      foundFingerprint: row[2], foundNonce: row.dataNoCopy(named: "nonce"), db: db)
  }

  private static func state(from row: Row) -> SecretState {
    let version: Int? = row[1]
    let fingerprint: String? = row[2]
    let current = version.flatMap { v in fingerprint.map { Current(version: v, fingerprint: $0) } }
    return SecretState(secretID: row[0], current: current, maxVersion: row[3] ?? 0)
  }
}
