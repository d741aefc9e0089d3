import Foundation
import GRDB

/// A removed recipient who could have read a value: it was stored while they were a recipient.
/// Re-keying cannot take that back; only rotating the credential does.
public struct Exposure: Sendable, Equatable, Hashable {
  public let recipientID: Int64
  public let name: String
  public let removedAt: String

  public init(recipientID: Int64, name: String, removedAt: String) {
    self.recipientID = recipientID
    self.name = name
    self.removedAt = removedAt
  }

  /// Recipient ids as a head stores them (`"1,4"`).
  static func recipientIDs(_ text: String) -> [Int64] {
    text.isEmpty ? [] : text.split(separator: ",").compactMap { Int64($0) }
  }



  /// The removed recipients a head's `exposed` text names, from `removed` (every removed recipient,
  /// by id). An id that is not there is an integrity error, never skipped.
  static func resolve(_ text: String, in removed: [Int64: Exposure]) throws -> [Exposure] {
    try recipientIDs(text).map { id in
      guard let exposure = removed[id] else { throw VaultError.recipientsMismatch }
      return exposure
    }
  }

  /// Records every version `recipient` could have read, at its removal: every version whose
  /// ciphertext is still stored (whatever its date says: dates are not authenticated, and a clock
  /// running ahead must not hide one), and every version created since it was added. Returns how
  /// many versions were recorded. Heads and the recipient MAC are not resealed here (the re-key that
  /// follows every removal rebuilds them). Must run inside the removal's write transaction.
  @discardableResult
  static func record(recipientID: Int64, addedAt: String, db: Database) throws -> Int {
    try db.execute(
      sql: """
        INSERT OR IGNORE INTO exposures (recipient_id, secret_id, version)
        SELECT ?, secret_id, version FROM secret_versions
        WHERE length(ciphertext) > 0 OR created_at >= ?
        """, arguments: [recipientID, addedAt])
    return db.changesCount
  }
}

/// One removed recipient's exposure to one secret, for offboarding evidence.
public struct ExposureRecord: Sendable, Equatable {
  public let exposure: Exposure
  public let address: SecretAddress
  /// The versions the recipient could have read, ascending.
  public let versions: [Int]
  /// The secret's current version now (nil when the secret was removed).
  public let currentVersion: Int?
  /// When the exposure ended: the creation time of the first current version the recipient never
  /// saw; nil while the current value is still exposed (or the secret was removed).
  public let closedAt: String?

  /// Whether the current value is still one the recipient could have read.
  public var isOpen: Bool { currentVersion.map { versions.contains($0) } ?? false }
}

extension VaultSession {
  /// Every removed recipient, by id, from the authenticated recipient set. Throws `recipientsMismatch`.
  func removedRecipients(db: Database) throws -> [Int64: Exposure] {
    var result: [Int64: Exposure] = [:]
    for record in try allRecipients(db: db) {
      guard let id = record.id, let removedAt = record.removedAt else { continue }
      result[id] = Exposure(recipientID: id, name: record.name, removedAt: removedAt)
    }
    return result
  }

  /// The exposures a head's `exposed` text names, resolving recipients through `removed` (read on
  /// first use). An id that names no removed recipient is an integrity error, never skipped.
  func resolveExposures(_ text: String, removed: inout [Int64: Exposure]?, db: Database) throws -> [Exposure] {
    guard !text.isEmpty else { return [] }
    if removed == nil { removed = try removedRecipients(db: db) }
    return try Exposure.resolve(text, in: removed ?? [:])
  }

  /// Every recorded exposure of `environment`'s secrets, by recipient and address.
  public func exposureRecords(environment: String) throws -> [ExposureRecord] {
    try database.read { db in try exposureRecords(environment: environment, db: db) }
  }

  func exposureRecords(environment: String, db: Database) throws -> [ExposureRecord] {
    try exposureRecords(environment: environment, removed: try removedRecipients(db: db), db: db)
  }

  /// `exposureRecords` with the removed recipients already read (`removedRecipients`).
  func exposureRecords(environment: String, removed: [Int64: Exposure], db: Database) throws -> [ExposureRecord] {
    let rows = try Row.fetchAll(
      db,
      sql: """
        SELECT e.recipient_id, s.service, s.key, group_concat(e.version), s.head_version,
               (SELECT v.created_at FROM secret_versions v WHERE v.secret_id = s.id AND v.version = s.head_version)
        FROM exposures e JOIN secrets s ON s.id = e.secret_id
        WHERE s.environment = ?
        GROUP BY e.recipient_id, s.id
        ORDER BY e.recipient_id, s.service, s.key
        """, arguments: [environment])
    return try rows.map { row in
      guard let exposure = removed[row[0]] else { throw VaultError.recipientsMismatch }
      let versions = ((row[3] as String?) ?? "").split(separator: ",").compactMap { Int($0) }.sorted()
      let current: Int? = row[4]
      let closed = current.map { !versions.contains($0) } ?? false
      return ExposureRecord(
        exposure: exposure, address: SecretAddress(trusted: environment, service: row[1], key: row[2]),
        versions: versions, currentVersion: current, closedAt: closed ? row[5] : nil)
    }
  }
}
