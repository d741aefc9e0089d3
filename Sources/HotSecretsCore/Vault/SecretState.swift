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

  /// The state of one address.
  static func fetch(_ address: SecretAddress, db: Database) throws -> SecretState {
    let row = try Row.fetchOne(
      db,
      sql: """
        SELECT s.id, c.version, c.fingerprint, (SELECT MAX(version) FROM secret_versions WHERE secret_id = s.id)
        FROM secrets s LEFT JOIN secret_versions c ON c.secret_id = s.id AND c.state = 'current'
        WHERE s.environment = ? AND s.service = ? AND s.key = ?
        """, arguments: [address.environment, address.service, address.key])
    guard let row else { return .absent }
    return state(from: row)
  }

  /// The state of every secret of `environment`, keyed by service and key, in one query.
  static func fetchAll(environment: String, db: Database) throws -> [ServiceKey: SecretState] {
    var result: [ServiceKey: SecretState] = [:]
    let rows = try Row.fetchCursor(
      db,
      sql: """
        SELECT s.id, c.version, c.fingerprint, (SELECT MAX(version) FROM secret_versions WHERE secret_id = s.id),
               s.service, s.key
        FROM secrets s LEFT JOIN secret_versions c ON c.secret_id = s.id AND c.state = 'current'
        WHERE s.environment = ?
        """, arguments: [environment])
    while let row = try rows.next() {
      result[ServiceKey(service: row[4], key: row[5])] = state(from: row)
    }
    return result
  }

  private static func state(from row: Row) -> SecretState {
    let version: Int? = row[1]
    let fingerprint: String? = row[2]
    let current = version.flatMap { v in fingerprint.map { Current(version: v, fingerprint: $0) } }
    return SecretState(secretID: row[0], current: current, maxVersion: row[3] ?? 0)
  }
}

/// A secret's name within one environment.
public struct ServiceKey: Hashable, Sendable, Comparable, CustomStringConvertible {
  public let service: String
  public let key: String

  public init(service: String, key: String) {
    self.service = service
    self.key = key
  }

  public var description: String { "\(service)/\(key)" }

  public static func < (a: ServiceKey, b: ServiceKey) -> Bool { (a.service, a.key) < (b.service, b.key) }
}
