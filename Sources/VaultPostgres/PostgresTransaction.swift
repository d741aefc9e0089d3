import Foundation
import HotSecretsModel

/// One transaction on a `PostgresStore`: every repository of the vault over its connection. Lives
/// only inside the `write`/`read` call that made it. The statements are VaultSQLite's, in
/// PostgreSQL's dialect (`$n` parameters, `RETURNING id`, `ON CONFLICT`, `string_agg`).
final class PostgresTransaction: StoreTransaction {
  let connection: PostgresConnection

  init(_ connection: PostgresConnection) { self.connection = connection }

  var header: any VaultHeaderRepository { self }
  var recipients: any RecipientRepository { self }
  var secrets: any SecretRepository { self }
  var audit: any AuditRepository { self }
  var journal: any RotationJournalRepository { self }
  var ledger: any PushLedgerRepository { self }
  var signingKey: any SigningKeyRepository { self }
  var tables: any TableCopyRepository { self }

  @discardableResult
  func run(_ sql: String, _ parameters: [PostgresValue] = []) throws -> PostgresRows {
    try connection.execute(sql, parameters)
  }

  /// Rows mapped by `map`, in order.
  func all<T>(_ sql: String, _ parameters: [PostgresValue] = [], _ map: (PostgresRows, Int) throws -> T) throws -> [T] {
    let rows = try run(sql, parameters)
    return try (0..<rows.count).map { try map(rows, $0) }
  }

  /// The first row mapped by `map`, nil when there is none.
  func first<T>(_ sql: String, _ parameters: [PostgresValue] = [], _ map: (PostgresRows, Int) throws -> T) throws -> T? {
    let rows = try run(sql, parameters)
    return rows.count == 0 ? nil : try map(rows, 0)
  }
}

extension PostgresRows {
  /// A column that must not be NULL (a damaged row reads as a corrupt vault).
  func required(_ row: Int, _ column: Int) throws -> String {
    guard let value = string(row, column) else { throw VaultError.corruptVault("a required column is empty") }
    return value
  }

  func requiredInt(_ row: Int, _ column: Int) throws -> Int {
    guard let value = int(row, column) else { throw VaultError.corruptVault("a required number is empty") }
    return value
  }

  func requiredInt64(_ row: Int, _ column: Int) throws -> Int64 {
    guard let value = int64(row, column) else { throw VaultError.corruptVault("a required number is empty") }
    return value
  }
}
