import Foundation
import GRDB
import HotSecretsModel

/// One transaction on a `SQLiteStore`: every repository of the vault over one GRDB connection.
/// Lives only inside the `write`/`read` call that made it.
final class SQLiteTransaction: StoreTransaction {
  let db: Database

  init(_ db: Database) { self.db = db }

  var header: any VaultHeaderRepository { self }
  var recipients: any RecipientRepository { self }
  var secrets: any SecretRepository { self }
  var audit: any AuditRepository { self }
  var journal: any RotationJournalRepository { self }
  var ledger: any PushLedgerRepository { self }
  var signingKey: any SigningKeyRepository { self }
  var tables: any TableCopyRepository { self }
}

/// Blob columns as byte arrays.
enum Bytes {
  static func optional(_ data: Data?) -> [UInt8]? { data.map { Array($0) } }
  static func blob(_ bytes: [UInt8]?) -> Data? { bytes.map { Data($0) } }
  /// Column `index` of `row` as bytes (empty for NULL), copied with one `memcpy`: `Array(Data)`
  /// walks the bytes one by one.
  static func column(_ row: Row, _ index: Int) -> [UInt8] {
    row.dataNoCopy(atIndex: index)?.withUnsafeBytes { Array($0) } ?? []
  }
}
