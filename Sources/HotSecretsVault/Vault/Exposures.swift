import Foundation
import HotSecretsModel

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
  package static func resolve(_ text: String, in removed: [Int64: Exposure]) throws -> [Exposure] {
    try recipientIDs(text).map { id in
      guard let exposure = removed[id] else { throw VaultError.recipientsMismatch }
      return exposure
    }
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
  package func removedRecipients(tx: any StoreTransaction) throws -> [Int64: Exposure] {
    var result: [Int64: Exposure] = [:]
    for record in try allRecipients(tx: tx) {
      guard let id = record.id, let removedAt = record.removedAt else { continue }
      result[id] = Exposure(recipientID: id, name: record.name, removedAt: removedAt)
    }
    return result
  }

  /// The exposures a head's `exposed` text names, resolving recipients through `removed` (read on
  /// first use). An id that names no removed recipient is an integrity error, never skipped.
  func resolveExposures(_ text: String, removed: inout [Int64: Exposure]?, tx: any StoreTransaction) throws
    -> [Exposure]
  {
    guard !text.isEmpty else { return [] }
    if removed == nil { removed = try removedRecipients(tx: tx) }
    return try Exposure.resolve(text, in: removed ?? [:])
  }

  /// Every recorded exposure of `environment`'s secrets, by recipient and address.
  public func exposureRecords(environment: String) throws -> [ExposureRecord] {
    try database.read { tx in try exposureRecords(environment: environment, tx: tx) }
  }

  package func exposureRecords(environment: String, tx: any StoreTransaction) throws -> [ExposureRecord] {
    try exposureRecords(environment: environment, removed: try removedRecipients(tx: tx), tx: tx)
  }

  /// `exposureRecords` with the removed recipients already read (`removedRecipients`).
  package func exposureRecords(environment: String, removed: [Int64: Exposure], tx: any StoreTransaction) throws
    -> [ExposureRecord]
  {
    return try tx.recipients.exposureSummaries(environment: environment).map { row in
      guard let exposure = removed[row.recipientID] else { throw VaultError.recipientsMismatch }
      let versions = row.versions.sorted()
      let closed = row.headVersion.map { !versions.contains($0) } ?? false
      return ExposureRecord(
        exposure: exposure, address: SecretAddress(trusted: environment, service: row.service, key: row.key),
        versions: versions, currentVersion: row.headVersion, closedAt: closed ? row.headCreatedAt : nil)
    }
  }
}
