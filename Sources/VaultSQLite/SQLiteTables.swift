import Foundation
import GRDB
import HotSecretsModel

extension SQLiteTransaction: TableCopyRepository {
  func rows(of table: VaultTables.Table, offset: Int, limit: Int) throws -> [[StoreValue]] {
    let sql = """
      SELECT \(table.columns.joined(separator: ", ")) FROM \(table.name)
      ORDER BY \(table.order.joined(separator: ", ")) LIMIT ? OFFSET ?
      """
    var result: [[StoreValue]] = []
    let cursor = try Row.fetchCursor(db, sql: sql, arguments: [limit, offset])
    while let row = try cursor.next() {
      result.append(
        (0..<table.columns.count).map { index in
          switch row[index] as DatabaseValue {
          case let value where value.isNull: .null
          case let value:
            switch value.storage {
            case .int64(let int): .int(int)
            case .double(let double): .text(String(double))
            case .string(let text): .text(text)
            case .blob(let data): .bytes(Array(data))
            case .null: .null
            }
          }
        })
    }
    return result
  }

  func insert(_ rows: [[StoreValue]], into table: VaultTables.Table) throws {
    let statement = try db.cachedStatement(
      sql: "INSERT INTO \(table.name) (\(table.columns.joined(separator: ", "))) VALUES (\(Array(repeating: "?", count: table.columns.count).joined(separator: ", ")))")
    for row in rows {
      try statement.execute(
        arguments: StatementArguments(
          row.map { value -> DatabaseValueConvertible? in
            switch value {
            case .null: nil
            case .int(let int): int
            case .text(let text): text
            case .bytes(let bytes): Data(bytes)
            }
          }))
    }
  }

  /// AUTOINCREMENT keeps its own high-water mark (sqlite_sequence) past every id inserted.
  func resetIdentity(of table: VaultTables.Table) throws {}
}
