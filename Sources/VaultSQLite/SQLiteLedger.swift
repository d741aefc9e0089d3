import GRDB
import HotSecretsModel

extension SQLiteTransaction: PushLedgerRepository {
  func entries(environment: String, target: String) throws -> [String: PushLedgerEntry] {
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

  func record(_ entry: PushLedgerEntry, environment: String) throws {
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

  func secretsVersion(environment: String, target: String) throws -> Int? {
    try Int.fetchOne(
      db, sql: "SELECT secrets_version FROM target_state WHERE environment = ? AND target = ?",
      arguments: [environment, target])
  }

  func recordSecretsVersion(_ version: Int, environment: String, target: String, at: String) throws {
    try db.execute(
      sql: """
        INSERT OR REPLACE INTO target_state (environment, target, secrets_version, updated_at) VALUES (?, ?, ?, ?)
        """, arguments: [environment, target, version, at])
  }

  func machineVersions(environment: String, target: String) throws -> [String: Int] {
    var result: [String: Int] = [:]
    let rows = try Row.fetchCursor(
      db, sql: "SELECT machine, secrets_version FROM machine_state WHERE environment = ? AND target = ?",
      arguments: [environment, target])
    while let row = try rows.next() { result[row[0]] = row[1] }
    return result
  }

  func recordMachineVersion(_ version: Int, machine: String, environment: String, target: String, at: String) throws {
    try db.execute(
      sql: """
        INSERT OR REPLACE INTO machine_state (environment, target, machine, secrets_version, updated_at)
        VALUES (?, ?, ?, ?, ?)
        """, arguments: [environment, target, machine, version, at])
  }
}
