import Foundation
import HotSecretsModel
import Sodium

/// Authenticated current versions: what a writer of the store without the keys cannot change.
///
/// Each secret's *head* — its current version (or none, once removed), that version's fingerprint,
/// and the removed recipients that version is exposed to — is MACed under the head subkey together
/// with the vault id and the secret's address (`secrets.head_mac`). Each environment's set of secrets
/// is authenticated by `environment_heads`: the number of secrets and the XOR of their head MACs,
/// MACed in turn. Reads compare what the rows say with the MACs, so swapping states, pointing the
/// current version at another row, deleting the current row, reviving a removed secret or deleting a
/// secret outright is an integrity error instead of a silently different value.
package struct SecretHeads: Sendable {
  let keys: VaultKeys
  let vaultID: String

  /// What the MAC of one secret covers.
  struct Head: Equatable {
    /// nil when the secret has no current version (removed).
    var version: Int?
    var fingerprint: String?
    /// Ids of the removed recipients the current version is exposed to, comma-separated, ascending.
    var exposed: String
    /// The current version's nonce: a ciphertext pasted in from a backup (even at a reused version
    /// number) comes with another nonce.
    var nonce: Data?
  }

  static let macBytes = 32

  /// MAC of one secret's head, as raw bytes. Built byte by byte: `verify` computes one per secret.
  func mac(environment: String, service: String, key: String, head: Head) throws -> [UInt8] {
    var message = Self.headTag
    message.reserveCapacity(
      Self.headTag.count + vaultID.utf8.count + environment.utf8.count + service.utf8.count + key.utf8.count
        + (head.fingerprint?.utf8.count ?? 0) + head.exposed.utf8.count + 32)
    message.append(contentsOf: vaultID.utf8)
    message.append(0)
    message.append(contentsOf: environment.utf8)
    message.append(0)
    message.append(contentsOf: service.utf8)
    message.append(0)
    message.append(contentsOf: key.utf8)
    message.append(0)
    if let version = head.version { Self.appendDecimal(version, to: &message) } else { message.append(0x2D) }
    message.append(0)
    if let fingerprint = head.fingerprint { message.append(contentsOf: fingerprint.utf8) }
    message.append(0)
    message.append(UInt8(truncatingIfNeeded: head.nonce?.count ?? 0))
    if let nonce = head.nonce { message.append(contentsOf: nonce) }
    message.append(contentsOf: head.exposed.utf8)
    return try GenericHash.hash(message, key: keys.headKey, length: Self.macBytes)
  }

  private static func appendDecimal(_ value: Int, to bytes: inout [UInt8]) {
    if value < 0 {
      bytes.append(contentsOf: String(value).utf8)
      return
    }
    var divisor = 1
    while divisor <= value / 10 { divisor *= 10 }
    var rest = value
    while divisor > 0 {
      bytes.append(UInt8(48 + rest / divisor))
      rest %= divisor
      divisor /= 10
    }
  }

  private static let headTag = Array("hotsecrets.head.v1\0".utf8)

  /// MAC of an environment's set: its number of secrets and the XOR of their head MACs.
  func environmentMAC(environment: String, secrets: Int, digest: [UInt8]) throws -> String {
    ByteEncoding.hex(
      try GenericHash.hash(
        Array("hotsecrets.environment.v1\0\(vaultID)\0\(environment)\0\(secrets)\0\(ByteEncoding.hex(digest))".utf8),
        key: keys.headKey, length: Self.macBytes))
  }

  /// Checks one secret's stored head against the current row found. `stored*` is what the secrets
  /// row records (`head_version`, `head_exposed`, `head_mac`, the MAC as a 32-byte blob); `found*` is
  /// the version and fingerprint of the row whose state is `current`, if any. Returns the MAC's raw
  /// bytes, for the environment's digest. Throws `headMismatch` naming the address.
  @discardableResult
  func check(
    environment: String, service: String, key: String, storedVersion: Int?, exposed: String, storedMAC: Data?,
    foundVersion: Int?, foundFingerprint: String?, foundNonce: Data?, tx: any StoreTransaction
  ) throws -> [UInt8] {
    func mismatch() throws -> VaultError {
      try self.mismatch(
        .headMismatch(subject: SecretAddress(trusted: environment, service: service, key: key).description), tx: tx)
    }
    guard let storedMAC, storedMAC.count == Self.macBytes, storedVersion == foundVersion else { throw try mismatch() }
    let expected = try mac(
      environment: environment, service: service, key: key,
      head: Head(version: foundVersion, fingerprint: foundFingerprint, exposed: exposed, nonce: foundNonce))
    let equal = expected.withUnsafeBytes { e in
      storedMAC.withUnsafeBytes { s in memcmp(e.baseAddress!, s.baseAddress!, Self.macBytes) == 0 }
    }
    guard equal else { throw try mismatch() }
    return expected
  }

  /// `check` for an address.
  @discardableResult
  func check(
    _ address: SecretAddress, storedVersion: Int?, exposed: String, storedMAC: Data?, foundVersion: Int?,
    foundFingerprint: String?, foundNonce: Data?, tx: any StoreTransaction
  ) throws -> [UInt8] {
    try check(
      environment: address.environment, service: address.service, key: address.key, storedVersion: storedVersion,
      exposed: exposed, storedMAC: storedMAC, foundVersion: foundVersion, foundFingerprint: foundFingerprint,
      foundNonce: foundNonce, tx: tx)
  }

  /// `error`, or `rekeyedMeanwhile` when these keys are stale (see `KeyEpoch.explain`).
  func mismatch(_ error: VaultError, tx: any StoreTransaction) throws -> VaultError {
    try KeyEpoch.explain(error, keys: keys, tx: tx)
  }

  /// Checks `environment`'s stored set against the secrets read (their count and XORed MACs).
  /// Throws `environmentMismatch`.
  func checkEnvironment(_ environment: String, secrets: Int, digest: [UInt8], tx: any StoreTransaction) throws {
    guard let stored = try tx.secrets.environmentHead(environment) else {
      if secrets == 0 { return }
      throw try mismatch(.environmentMismatch(environment: environment), tx: tx)
    }
    guard stored.secrets == secrets, stored.digest == ByteEncoding.hex(digest),
      try environmentMAC(environment: environment, secrets: secrets, digest: digest) == stored.mac
    else { throw try mismatch(.environmentMismatch(environment: environment), tx: tx) }
  }

  /// Recomputes `environment`'s set from every stored head MAC and checks it against the stored
  /// digest (a secret deleted or added without the keys). Throws `environmentMismatch`.
  func checkEnvironmentSet(_ environment: String, tx: any StoreTransaction) throws {
    var digest = HeadDigest()
    for mac in try tx.secrets.headMACs(environment: environment) {
      guard let mac, mac.count == Self.macBytes else {
        throw try mismatch(.environmentMismatch(environment: environment), tx: tx)
      }
      digest.add(mac)
    }
    try checkEnvironment(environment, secrets: digest.count, digest: digest.bytes, tx: tx)
  }

  /// Checks one row's stored head against its current version; returns the MAC (see `check`).
  @discardableResult
  func check(_ row: SecretRow, tx: any StoreTransaction) throws -> [UInt8] {
    try check(
      row.address, storedVersion: row.head.version, exposed: row.head.exposed, storedMAC: row.head.mac,
      foundVersion: row.current?.version, foundFingerprint: row.current?.fingerprint,
      foundNonce: row.current.map { Data($0.nonce) }, tx: tx)
  }

  /// Recomputes and stores `secretID`'s head from its rows (current version, fingerprint, exposures)
  /// and folds the change into its environment's set. `isNew`: the secret row was just inserted.
  /// Must run inside the write transaction that changed the secret.
  package func seal(secretID: Int64, address: SecretAddress, isNew: Bool, tx: any StoreTransaction) throws {
    let current = try tx.secrets.currentVersion(secretID: secretID)
    let exposed =
      try current.map { try tx.recipients.exposedRecipients(secretID: secretID, version: $0.version) } ?? ""
    let newMAC = try mac(
      environment: address.environment, service: address.service, key: address.key,
      head: Head(version: current?.version, fingerprint: current?.fingerprint, exposed: exposed, nonce: current?.nonce))
    let oldMAC = try tx.secrets.head(secretID: secretID)?.mac
    try tx.secrets.setHead(secretID: secretID, version: current?.version, exposed: exposed, mac: newMAC)
    var delta = newMAC
    if let oldMAC, oldMAC.count == Self.macBytes {
      for (i, byte) in oldMAC.enumerated() { delta[i] ^= byte }
    }
    try fold(delta, into: address.environment, added: isNew ? 1 : 0, tx: tx)
  }

  /// XORs `delta` into `environment`'s digest, adds `added` to its count, and re-MACs it.
  private func fold(_ delta: [UInt8], into environment: String, added: Int, tx: any StoreTransaction) throws {
    let stored = try tx.secrets.environmentHead(environment)
    var count = stored?.secrets ?? 0
    var digest = stored.flatMap { ByteEncoding.bytes(hex: $0.digest) } ?? []
    if digest.count != Self.macBytes { digest = [UInt8](repeating: 0, count: Self.macBytes) }
    for i in 0..<Self.macBytes { digest[i] ^= delta[i] }
    count += added
    try write(environment: environment, secrets: count, digest: digest, tx: tx)
  }

  private func write(environment: String, secrets: Int, digest: [UInt8], tx: any StoreTransaction) throws {
    try tx.secrets.setEnvironmentHead(
      environment,
      EnvironmentHead(
        secrets: secrets, digest: ByteEncoding.hex(digest),
        mac: try environmentMAC(environment: environment, secrets: secrets, digest: digest)))
  }

  /// Checks every secret's head and every environment's set (an environment whose secrets were all
  /// deleted included), and that each head's exposure is what the exposures table records: what a
  /// re-key must do before it re-seals anything. Throws `headMismatch` or `environmentMismatch`.
  func verifyAll(tx: any StoreTransaction) throws {
    var digests: [String: HeadDigest] = [:]
    var seen = Set<Int64>()
    for (row, recorded) in try tx.secrets.rowsWithRecordedExposures() {
      guard seen.insert(row.id).inserted, row.head.exposed == recorded else {
        throw try mismatch(.headMismatch(subject: row.address.description), tx: tx)
      }
      digests[row.address.environment, default: HeadDigest()].add(try check(row, tx: tx))
    }
    for environment in try tx.secrets.environmentsWithHeads().union(digests.keys).sorted() {
      let digest = digests[environment] ?? HeadDigest()
      try checkEnvironment(environment, secrets: digest.count, digest: digest.bytes, tx: tx)
    }
  }

  /// Recomputes every secret's head and every environment's set from the rows as they are, under
  /// these keys: after a re-key, and when a vault from before authenticated heads is upgraded (the
  /// rows are trusted as found then). Must run inside a write transaction.
  func rebuildAll(tx: any StoreTransaction) throws {
    let rows = try tx.secrets.rowsWithRecordedExposures()
    try tx.secrets.deleteEnvironmentHeads()
    var sets: [String: HeadDigest] = [:]
    var seen = Set<Int64>()
    for (row, exposed) in rows {
      guard seen.insert(row.id).inserted else {
        throw VaultError.corruptVault("secret \(row.address) has two current versions")
      }
      let mac = try mac(
        environment: row.address.environment, service: row.address.service, key: row.address.key,
        head: Head(
          version: row.current?.version, fingerprint: row.current?.fingerprint, exposed: exposed,
          nonce: row.current.map { Data($0.nonce) }))
      try tx.secrets.setHead(secretID: row.id, version: row.current?.version, exposed: exposed, mac: mac)
      sets[row.address.environment, default: HeadDigest()].add(mac)
    }
    for (environment, set) in sets {
      try write(environment: environment, secrets: set.count, digest: set.bytes, tx: tx)
    }
  }
}

/// XOR accumulator of head MACs, for checking an environment's set while its secrets are read.
package struct HeadDigest {
  private(set) var count = 0
  private(set) var bytes = [UInt8](repeating: 0, count: SecretHeads.macBytes)

  mutating func add(_ mac: some Collection<UInt8>) {
    count += 1
    for (i, byte) in zip(0..<SecretHeads.macBytes, mac) { bytes[i] ^= byte }
  }
}

extension VaultSession {
  /// The head authenticator under this session's keys.
  package var heads: SecretHeads { SecretHeads(keys: keys, vaultID: vaultID) }

  /// The authenticator reads check against, or nil for a vault from before authenticated heads
  /// (not yet re-keyed: its heads are written but not trusted).
  package var headChecks: SecretHeads? { authenticatesHeads ? heads : nil }
}
