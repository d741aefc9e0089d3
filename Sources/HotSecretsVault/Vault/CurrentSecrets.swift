import Foundation
import HotSecretsModel

/// A secret's current version, with its value when it was decrypted.
package struct StoredSecret: Sendable {
  package let version: Int
  package let createdAt: String
  package let fingerprint: String
  /// Decrypted only for the names asked for; empty otherwise. In ordinary memory: wipe after use.
  package var value: [UInt8]
  /// Removed recipients' ids this value is exposed to, from its authenticated head ("" for none).
  package var exposed = ""

  package init(version: Int, createdAt: String, fingerprint: String, value: [UInt8], exposed: String = "") {
    self.version = version
    self.createdAt = createdAt
    self.fingerprint = fingerprint
    self.value = value
    self.exposed = exposed
  }
}

/// One environment's current versions as stored, values still sealed: read in one query, so that
/// values can be decrypted later, one at a time and on several threads (`VaultSession.open`).
public struct CurrentVersions: Sendable {
  package struct Entry: Sendable {
    package let version: Int
    let createdAt: String
    let fingerprint: String
    let nonce: [UInt8]
    let ciphertext: [UInt8]
    /// Removed recipients' ids this value is exposed to, as the authenticated head records them.
    package let exposed: String
  }

  /// The environment read.
  public let environment: String
  package let entries: [ServiceKey: Entry]

  /// The names present.
  package var names: Dictionary<ServiceKey, Entry>.Keys { entries.keys }
}

extension VaultSession {
  /// Every current version of `environment` with its value still sealed, read in its own snapshot,
  /// each head and the environment's set checked. Nothing is decrypted and nothing audited. Throws
  /// `headMismatch` or `environmentMismatch`.
  public func currentVersions(environment: String) throws -> CurrentVersions {
    try database.read { tx in try currentVersions(environment: environment, tx: tx) }
  }

  func currentVersions(environment: String, tx: any StoreTransaction) throws -> CurrentVersions {
    var entries: [ServiceKey: CurrentVersions.Entry] = [:]
    let checks = headChecks
    var digest = HeadDigest()
    for row in try tx.secrets.rows(in: environment, ciphertexts: true) {
      if let checks { digest.add(try checks.check(row, tx: tx)) }
      guard let current = row.current else { continue }
      // (Two current rows of one secret cannot both match its head, so a checked read never gets
      // here twice.)
      entries[ServiceKey(service: row.address.service, key: row.address.key)] = CurrentVersions.Entry(
        version: current.version, createdAt: current.createdAt, fingerprint: current.fingerprint,
        nonce: current.nonce, ciphertext: current.ciphertext, exposed: row.head.exposed)
    }
    try checks?.checkEnvironment(environment, secrets: digest.count, digest: digest.bytes, tx: tx)
    return CurrentVersions(environment: environment, entries: entries)
  }

  /// `name`'s current value from `versions` as a `String` (for a URL or a header), the decrypted
  /// bytes wiped; nil when `name` has none. The `String` itself cannot be wiped: keep it briefly.
  package func openText(_ name: ServiceKey, in versions: CurrentVersions) throws -> String? {
    guard var secret = try open(name, in: versions) else { return nil }
    defer { wipe(&secret.value) }
    return String(decoding: secret.value, as: UTF8.self)
  }

  /// `name`'s current version from `versions`, its value decrypted when `decrypting` (else empty);
  /// nil when `name` has none. Throws `integrity` when the ciphertext does not authenticate.
  package func open(_ name: ServiceKey, in versions: CurrentVersions, decrypting: Bool = true) throws -> StoredSecret? {
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
  package func currentSecrets(
    environment: String, decrypting: (ServiceKey) -> Bool, tx: any StoreTransaction
  ) throws -> [ServiceKey: StoredSecret] {
    let versions = try currentVersions(environment: environment, tx: tx)
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
