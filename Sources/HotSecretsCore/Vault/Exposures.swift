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

  /// The exposures a head's `exposed` text names, resolving recipients through `removed` (read on
  /// first use: every removed recipient's id, name and removal date).
  static func resolve(_ text: String, removed: inout [Int64: Exposure]?, db: Database) throws -> [Exposure] {
    let ids = recipientIDs(text)
    guard !ids.isEmpty else { return [] }
    if removed == nil { removed = try removedRecipients(db: db) }
    return ids.compactMap { removed?[$0] }
  }

  /// Every removed recipient, by id.
  static func removedRecipients(db: Database) throws -> [Int64: Exposure] {
    var result: [Int64: Exposure] = [:]
    for row in try Row.fetchAll(
      db, sql: "SELECT id, name, removed_at FROM recipients WHERE removed_at IS NOT NULL")
    {
      let id: Int64 = row[0]
      result[id] = Exposure(recipientID: id, name: row[1], removedAt: row[2])
    }
    return result
  }

  /// Records every version `recipient` could have read, at its removal: every version created before
  /// the removal whose ciphertext is still stored, or that was created while it was a recipient.
  /// Returns how many versions were recorded. Heads are not resealed here (the re-key that follows
  /// every removal rebuilds them). Must run inside the removal's write transaction.
  @discardableResult
  static func record(recipientID: Int64, addedAt: String, removedAt: String, db: Database) throws -> Int {
    try db.execute(
      sql: """
        INSERT OR IGNORE INTO exposures (recipient_id, secret_id, version)
        SELECT ?, secret_id, version FROM secret_versions
        WHERE created_at <= ? AND (length(ciphertext) > 0 OR created_at >= ?)
        """, arguments: [recipientID, removedAt, addedAt])
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
  /// Every recorded exposure of `environment`'s secrets, by recipient and address.
  public func exposureRecords(environment: String) throws -> [ExposureRecord] {
    try database.read { db in try exposureRecords(environment: environment, db: db) }
  }

  func exposureRecords(environment: String, db: Database) throws -> [ExposureRecord] {
    let removed = try Exposure.removedRecipients(db: db)
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
    return rows.compactMap { row in
      guard let exposure = removed[row[0]] else { return nil }
      let versions = ((row[3] as String?) ?? "").split(separator: ",").compactMap { Int($0) }.sorted()
      let current: Int? = row[4]
      let closed = current.map { !versions.contains($0) } ?? false
      return ExposureRecord(
        exposure: exposure, address: SecretAddress(trusted: environment, service: row[1], key: row[2]),
        versions: versions, currentVersion: current, closedAt: closed ? row[5] : nil)
    }
  }
}
