import HotSecretsModel

extension PostgresTransaction: TableCopyRepository {
  func rows(of table: VaultTables.Table, offset: Int, limit: Int) throws -> [[StoreValue]] {
    let rows = try run(
      """
      SELECT \(table.columns.joined(separator: ", ")) FROM \(table.name)
      ORDER BY \(table.order.map(Self.byteOrder).joined(separator: ", ")) LIMIT $1 OFFSET $2
      """, [.int(Int64(limit)), .int(Int64(offset))])
    return (0..<rows.count).map { i in
      table.columns.enumerated().map { column, name in
        if rows.isNull(i, column) { return .null }
        if table.blobs.contains(name) { return .bytes(rows.bytes(i, column) ?? []) }
        if table.booleans.contains(name) { return .int(rows.bool(i, column) == true ? 1 : 0) }
        return .text(rows.string(i, column) ?? "")
      }
    }
  }

  /// Integer columns of the tables' keys; every other key column is text.
  static let integerColumns: Set<String> = ["id", "seq", "version", "run_id", "recipient_id", "secret_id", "position"]

  /// `column` ordered as SQLite orders it: text byte by byte (`COLLATE "C"`), whatever the database's
  /// collation, so both stores list rows (and digest tables) in one order.
  static func byteOrder(_ column: String) -> String {
    integerColumns.contains(column) ? column : "\(column) COLLATE \"C\""
  }

  /// In statements of many rows each (at most 60,000 parameters): a copy of 100,000 audit entries
  /// is 20 round trips, not 100,000.
  func insert(_ rows: [[StoreValue]], into table: VaultTables.Table) throws {
    let width = table.columns.count
    let perStatement = max(1, 60_000 / width)
    var start = 0
    while start < rows.count {
      let batch = rows[start..<min(rows.count, start + perStatement)]
      var tuples: [String] = []
      var parameters: [PostgresValue] = []
      parameters.reserveCapacity(batch.count * width)
      for row in batch {
        let first = parameters.count
        tuples.append("(" + (1...width).map { "$\(first + $0)" }.joined(separator: ", ") + ")")
        for (index, value) in row.enumerated() {
          switch value {
          case .null: parameters.append(.null)
          case .int(let int):
            parameters.append(table.booleans.contains(table.columns[index]) ? .text(int == 0 ? "false" : "true") : .int(int))
          case .text(let text): parameters.append(.text(text))
          case .bytes(let bytes): parameters.append(.bytes(bytes))
          }
        }
      }
      try run(
        "INSERT INTO \(table.name) (\(table.columns.joined(separator: ", "))) VALUES \(tuples.joined(separator: ", "))",
        parameters)
      start += batch.count
    }
  }

  func resetIdentity(of table: VaultTables.Table) throws {
    guard let column = table.identity else { return }
    try run(
      "SELECT setval(pg_get_serial_sequence('\(table.name)', '\(column)'), max(\(column))) FROM \(table.name) HAVING max(\(column)) IS NOT NULL"
    )
  }
}
