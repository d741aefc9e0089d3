import Foundation
import HotSecretsModel
import Sodium

/// Copies a vault between stores (a file and PostgreSQL, either way) row for row: every version,
/// recipient, exposure, audit entry, journal and ledger row and the signing key, ids included, so
/// the copy is the same vault (same id, keys, MACs and audit chain). Nothing is decrypted and
/// nothing needs unlocking: only ciphertexts and metadata move.
public enum VaultCopy {
  /// One table's rows and their digest.
  public struct TableSummary: Sendable, Equatable, Encodable {
    public let table: String
    public let rows: Int
    /// BLAKE2b-256 over the rows in order, each value in a canonical form (hex).
    public let digest: String
  }

  /// Rows read and written per page.
  static let pageSize = 5_000

  /// Copies every table of `source` into `destination` in ONE write transaction (a failure leaves
  /// the destination as empty as it was), after checking that the destination holds no vault
  /// (`vaultExists` otherwise). Returns the source's summaries; `progress` gets each table's name
  /// and row count as it is done.
  public static func copy(
    from source: any VaultStore, to destination: any VaultStore, progress: (String, Int) -> Void = { _, _ in }
  ) throws -> [TableSummary] {
    try source.read { from in
      try destination.write { to in
        if try to.header.read() != nil || to.audit.head() != nil {
          throw VaultError.vaultExists(path: destination.location)
        }
        var summaries: [TableSummary] = []
        for table in VaultTables.all {
          var digest = Digest()
          var offset = 0
          while true {
            let rows = try from.tables.rows(of: table, offset: offset, limit: pageSize)
            if rows.isEmpty { break }
            try to.tables.insert(rows, into: table)
            for row in rows { try digest.add(row) }
            offset += rows.count
            if rows.count < pageSize { break }
          }
          try to.tables.resetIdentity(of: table)
          summaries.append(TableSummary(table: table.name, rows: offset, digest: digest.hex))
          progress(table.name, offset)
        }
        return summaries
      }
    }
  }

  /// Every table's row count and digest, read in one snapshot: two stores holding the same vault
  /// give the same summaries, whatever their backends.
  public static func summarize(_ store: any VaultStore) throws -> [TableSummary] {
    try store.read { tx in
      try VaultTables.all.map { table in
        var digest = Digest()
        var offset = 0
        while true {
          let rows = try tx.tables.rows(of: table, offset: offset, limit: pageSize)
          for row in rows { try digest.add(row) }
          offset += rows.count
          if rows.count < pageSize { break }
        }
        return TableSummary(table: table.name, rows: offset, digest: digest.hex)
      }
    }
  }

  /// A running BLAKE2b over rows. Integers and text are compared as text (PostgreSQL reads every
  /// column as text), bytes as bytes, NULL as NULL.
  struct Digest {
    private var state = [UInt8](repeating: 0, count: 32)

    mutating func add(_ row: [StoreValue]) throws {
      var bytes = state
      for value in row {
        switch value {
        case .null: bytes.append(0)
        case .int(let int): append(1, Array(String(int).utf8), to: &bytes)
        case .text(let text): append(1, Array(text.utf8), to: &bytes)
        case .bytes(let data): append(2, data, to: &bytes)
        }
      }
      state = try GenericHash.hash(bytes)
    }

    private func append(_ tag: UInt8, _ data: [UInt8], to bytes: inout [UInt8]) {
      bytes.append(tag)
      var length = UInt32(data.count).bigEndian
      withUnsafeBytes(of: &length) { bytes.append(contentsOf: $0) }
      bytes.append(contentsOf: data)
    }

    var hex: String { state.map { String(format: "%02x", $0) }.joined() }
  }
}
