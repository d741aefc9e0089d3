import Foundation
import GRDB

/// A secret's current version, with its value when it was decrypted.
struct StoredSecret: Sendable {
  let version: Int
  let createdAt: String
  let fingerprint: String
  /// Decrypted only for the names asked for; empty otherwise. In ordinary memory: wipe after use.
  var value: [UInt8]
  /// Removed recipients' ids this value is exposed to, from its authenticated head ("" for none).
  var exposed = ""
}

/// One environment's current versions as stored, values still sealed: read in one query, so that
/// values can be decrypted later, one at a time and on several threads (`VaultSession.open`).
public struct CurrentVersions: Sendable {
  struct Entry: Sendable {
    let version: Int
    let createdAt: String
    let fingerprint: String
    let nonce: [UInt8]
    let ciphertext: [UInt8]
    /// Removed recipients' ids this value is exposed to, as the authenticated head records them.
    let exposed: String
  }

  /// The environment read.
  public let environment: String
  let entries: [ServiceKey: Entry]

  /// The names present.
  var names: Dictionary<ServiceKey, Entry>.Keys { entries.keys }
}

extension VaultSession {
  /// Every current version of `environment` with its value still sealed, read in its own snapshot,
  /// each head and the environment's set checked. Nothing is decrypted and nothing audited. Throws
  /// `headMismatch` or `environmentMismatch`.
  public func currentVersions(environment: String) throws -> CurrentVersions {
    try database.read { db in try currentVersions(environment: environment, db: db) }
  }

  func currentVersions(environment: String, db: Database) throws -> CurrentVersions {
    var entries: [ServiceKey: CurrentVersions.Entry] = [:]
    let checks = headChecks
    var digest = HeadDigest()
    let rows = try Row.fetchCursor(
      db,
      sql: """
        SELECT s.service, s.key, v.version, v.created_at, v.fingerprint, v.nonce, v.ciphertext,
               s.head_version, s.head_exposed, s.head_mac
        FROM secrets s LEFT JOIN secret_versions v ON v.secret_id = s.id AND v.state = 'current'
        WHERE s.environment = ?
        """, arguments: [environment])
    while let row = try rows.next() {
      let service: String = row[0]
      let key: String = row[1]
      let version: Int? = row[2]
      let fingerprint: String? = row[4]
      let exposed: String = row[8] ?? ""
      if let checks {
        digest.add(
          try checks.check(
            environment: environment, service: service, key: key, storedVersion: row[7], exposed: exposed,
            storedMAC: row.dataNoCopy(atIndex: 9), foundVersion: version, foundFingerprint: fingerprint,
            foundNonce: row.dataNoCopy(atIndex: 5), db: db))
      }
      guard let version, let fingerprint else { continue }
      // The blobs are copied once, straight from SQLite's buffer into the arrays. (Two current rows
      // of one secret cannot both match its head, so a checked read never gets here twice.)
      entries[ServiceKey(service: service, key: key)] = CurrentVersions.Entry(
        version: version, createdAt: row[3], fingerprint: fingerprint, nonce: Self.bytes(row, 5),
        ciphertext: Self.bytes(row, 6), exposed: exposed)
    }
    try checks?.checkEnvironment(environment, secrets: digest.count, digest: digest.bytes, db: db)
    return CurrentVersions(environment: environment, entries: entries)
  }

  /// Column `index` of `row` as bytes (empty for NULL), copied with one `memcpy`: `Array(Data)`
  /// walks the bytes one by one.
  private static func bytes(_ row: Row, _ index: Int) -> [UInt8] {
    row.dataNoCopy(atIndex: index)?.withUnsafeBytes { Array($0) } ?? []
  }

  /// `name`'s current value from `versions` as a `String` (for a URL or a header), the decrypted
  /// bytes wiped; nil when `name` has none. The `String` itself cannot be wiped: keep it briefly.
  func openText(_ name: ServiceKey, in versions: CurrentVersions) throws -> String? {
    guard var secret = try open(name, in: versions) else { return nil }
    defer { wipe(&secret.value) }
    return String(decoding: secret.value, as: UTF8.self)
  }

  /// `name`'s current version from `versions`, its value decrypted when `decrypting` (else empty);
  /// nil when `name` has none. Throws `integrity` when the ciphertext does not authenticate.
  func open(_ name: ServiceKey, in versions: CurrentVersions, decrypting: Bool = true) throws -> StoredSecret? {
    guard let entry = versions.entries[name] else { return nil }
    let value =
      decrypting
      ? try cipher.openPlain(
        nonce: entry.nonce, ciphertext: entry.ciphertext,
        for: SecretAddress(trusted: versions.environment, service: name.service, key: name.key),
        version: entry.version) : []
    return StoredSecret(
      version: entry.version, createdAt: entry.createdAt, fingerprint: entry.fingerprint, value: value,
      exposed: entry.exposed)
  }

  /// Every current version of `environment`, decrypting the values of the names `decrypting`
  /// accepts. Not audited: callers that reveal values must audit the read themselves. Throws
  /// `integrity` when a ciphertext does not authenticate (values decrypted so far are wiped).
  func currentSecrets(
    environment: String, decrypting: (ServiceKey) -> Bool, db: Database
  ) throws -> [ServiceKey: StoredSecret] {
    let versions = try currentVersions(environment: environment, db: db)
    var result: [ServiceKey: StoredSecret] = [:]
    result.reserveCapacity(versions.entries.count)
    do {
      for name in versions.entries.keys {
        result[name] = try open(name, in: versions, decrypting: decrypting(name))
      }
    } catch {
      for key in result.keys { wipe(&result[key]!.value) }
      throw error
    }
    return result
  }
}
