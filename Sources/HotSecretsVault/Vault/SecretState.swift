import HotSecretsModel

/// What the store holds for one address right now, as needed to write a new version.
package struct SecretState: Sendable {
  package struct Current: Sendable {
    let version: Int
    package let fingerprint: String
  }
  /// nil when the secret does not exist yet.
  package var secretID: Int64?
  package var current: Current?
  /// Highest version number ever written (0 when none): new versions never reuse a number.
  package var maxVersion: Int

  package static let absent = SecretState(secretID: nil, current: nil, maxVersion: 0)

  /// The state of one address, its head checked by `checking` (nil: a vault whose heads are not
  /// authenticated yet). Throws `headMismatch`.
  package static func fetch(_ address: SecretAddress, checking: SecretHeads?, tx: any StoreTransaction) throws
    -> SecretState
  {
    let rows = try tx.secrets.rows(at: address, ciphertexts: false)
    guard let row = rows.first else {
      // A new secret: make sure the environment's set is intact first, so that a secret deleted
      // without the keys is an integrity error rather than quietly created anew.
      if let checking { try checking.checkEnvironmentSet(address.environment, tx: tx) }
      return .absent
    }
    if let checking {
      guard rows.count == 1 else { throw VaultError.headMismatch(subject: address.description) }
      try checking.check(row, tx: tx)
    }
    return state(from: row)
  }

  /// The state of every secret of `environment`, keyed by service and key, in one query; heads and
  /// the environment's set checked by `checking`. Throws `headMismatch` or `environmentMismatch`.
  package static func fetchAll(environment: String, checking: SecretHeads?, tx: any StoreTransaction) throws
    -> [ServiceKey: SecretState]
  {
    var result: [ServiceKey: SecretState] = [:]
    var digest = HeadDigest()
    for row in try tx.secrets.rows(in: environment, ciphertexts: false) {
      let name = ServiceKey(service: row.address.service, key: row.address.key)
      if let checking {
        guard result[name] == nil else { throw VaultError.headMismatch(subject: row.address.description) }
        digest.add(try checking.check(row, tx: tx))
      }
      result[name] = state(from: row)
    }
    try checking?.checkEnvironment(environment, secrets: digest.count, digest: digest.bytes, tx: tx)
    return result
  }

  private static func state(from row: SecretRow) -> SecretState {
    SecretState(
      secretID: row.id, current: row.current.map { Current(version: $0.version, fingerprint: $0.fingerprint) },
      maxVersion: row.maxVersion)
  }
}
