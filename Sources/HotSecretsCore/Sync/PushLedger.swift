import GRDB

/// What hotsecrets last pushed to a target under one name: GitHub never gives values back, so this
/// is how `sync` knows what is already there and `verify --targets` knows what is current.
public struct PushLedgerEntry: Sendable, Equatable {
  public let target: String
  public let name: String
  public let source: ServiceKey
  public let version: Int
  public let fingerprint: String
  public let pushedAt: String
  /// The target's own timestamp for the secret after the push (GitHub `updated_at`), when known.
  public let remoteUpdatedAt: String?
}

/// Reads and writes the `push_ledger` and `target_state` tables.
enum PushLedger {
  /// The ledger of `target` in `environment`, by name.
  static func entries(environment: String, target: String, db: Database) throws -> [String: PushLedgerEntry] {
    var result: [String: PushLedgerEntry] = [:]
    let rows = try Row.fetchCursor(
      db,
      sql: """
        SELECT name, service, key, version, fingerprint, pushed_at, remote_updated_at FROM push_ledger
        WHERE environment = ? AND target = ?
        """, arguments: [environment, target])
    while let row = try rows.next() {
      let name: String = row[0]
      result[name] = PushLedgerEntry(
        target: target, name: name, source: ServiceKey(service: row[1], key: row[2]), version: row[3],
        fingerprint: row[4], pushedAt: row[5], remoteUpdatedAt: row[6])
    }
    return result
  }

  /// Records a push (replacing what the ledger held for that name).
  static func record(_ entry: PushLedgerEntry, environment: String, db: Database) throws {
    try db.cachedStatement(
      sql: """
        INSERT OR REPLACE INTO push_ledger
          (environment, target, name, service, key, version, fingerprint, pushed_at, remote_updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        """
    ).execute(arguments: [
      environment, entry.target, entry.name, entry.source.service, entry.source.key, entry.version,
      entry.fingerprint, entry.pushedAt, entry.remoteUpdatedAt,
    ])
  }

  /// The Fly secrets version hotsecrets last produced for `target`, if any.
  static func secretsVersion(environment: String, target: String, db: Database) throws -> Int? {
    try Int.fetchOne(
      db, sql: "SELECT secrets_version FROM target_state WHERE environment = ? AND target = ?",
      arguments: [environment, target])
  }

  static func recordSecretsVersion(_ version: Int, environment: String, target: String, at: String, db: Database)
    throws
  {
    try db.execute(
      sql: """
        INSERT OR REPLACE INTO target_state (environment, target, secrets_version, updated_at) VALUES (?, ?, ?, ?)
        """, arguments: [environment, target, version, at])
  }

  /// The secrets version hotsecrets last restarted each machine of `target` with.
  static func machineVersions(environment: String, target: String, db: Database) throws -> [String: Int] {
    var result: [String: Int] = [:]
    let rows = try Row.fetchCursor(
      db, sql: "SELECT machine, secrets_version FROM machine_state WHERE environment = ? AND target = ?",
      arguments: [environment, target])
    while let row = try rows.next() { result[row[0]] = row[1] }
    return result
  }

  static func recordMachineVersion(
    _ version: Int, machine: String, environment: String, target: String, at: String, db: Database
  ) throws {
    try db.execute(
      sql: """
        INSERT OR REPLACE INTO machine_state (environment, target, machine, secrets_version, updated_at)
        VALUES (?, ?, ?, ?, ?)
        """, arguments: [environment, target, machine, version, at])
  }
}
