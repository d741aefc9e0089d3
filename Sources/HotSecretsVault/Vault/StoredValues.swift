import HotSecretsModel

/// One stored value, decrypted into secure memory, with where it lives.
public struct StoredValue: Sendable {
  public let address: SecretAddress
  public let version: Int
  /// Whether this is the secret's current version.
  public let isCurrent: Bool
  public let value: SecretBytes
}

extension VaultSession {
  /// The values stored for `environment` (every environment when nil): each current version, and
  /// with `allVersions` every older version that still has a ciphertext (previous, retired,
  /// pending; removed and failed versions have none). Read in one snapshot, current versions
  /// authenticated by their heads and each environment's set checked; every ciphertext
  /// authenticates its own address and version. Not audited: the caller records what it did with
  /// them, and must not let a value leave the process.
  public func storedValues(environment: String?, allVersions: Bool) throws -> [StoredValue] {
    try database.read { tx in
      let environments: Set<String> =
        try environment.map { [$0] } ?? Set(tx.secrets.rows(in: nil, ciphertexts: false).map(\.address.environment))
      var result: [StoredValue] = []
      var current = Set<String>()
      for name in environments.sorted() {
        let versions = try currentVersions(environment: name, tx: tx)
        for key in versions.names.sorted(by: { ($0.service, $0.key) < ($1.service, $1.key) }) {
          guard let entry = versions.entries[key] else { continue }
          let address = SecretAddress(trusted: name, service: key.service, key: key.key)
          let value = try cipher.open(nonce: entry.nonce, ciphertext: entry.ciphertext, for: address, version: entry.version)
          result.append(StoredValue(address: address, version: entry.version, isCurrent: true, value: value))
          current.insert("\(address)#\(entry.version)")
        }
      }
      guard allVersions else { return result }
      for sealed in try tx.secrets.sealedValues()
      where environments.contains(sealed.address.environment) && !current.contains("\(sealed.address)#\(sealed.version)") {
        let value = try cipher.open(nonce: sealed.nonce, ciphertext: sealed.ciphertext, for: sealed.address, version: sealed.version)
        result.append(StoredValue(address: sealed.address, version: sealed.version, isCurrent: false, value: value))
      }
      return result
    }
  }
}
