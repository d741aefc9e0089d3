import HotSecretsModel
import RemoteAPIs

/// How a target's copy of a secret compares with the vault's current value. One rule for `sync`
/// (what to push) and `verify --targets` (what to report).
enum TargetComparison: Equatable {
  case same
  case missing
  /// The target holds another value. `elsewhere`: the ledger says hotsecrets pushed the current
  /// value, so someone changed it there since.
  case differs(elsewhere: Bool)
  /// The target holds the name but nothing says what value (GitHub never pushed by hotsecrets; a
  /// Fly digest that is not MD5 with no ledger entry).
  case unknown

  /// Fly: the digest is the hex MD5 of the value; when it is not MD5 (*unconfirmed* format), the
  /// push ledger decides. `usedLedger` says the ledger was needed.
  static func fly(_ secret: PlannedSecret, remote: FlyAppSecret?, ledger: PushLedgerEntry?) -> (
    TargetComparison, usedLedger: Bool
  ) {
    guard let remote else { return (.missing, false) }
    if FlyDigest.isMD5(remote.digest), let digest = FlyDigest.of(secret.value) {
      if remote.digest.lowercased() == digest { return (.same, false) }
      return (.differs(elsewhere: ledger?.fingerprint == secret.fingerprint), false)
    }
    return (byLedger(secret, remoteUpdatedAt: remote.updatedAt, ledger: ledger), true)
  }

  /// GitHub never returns values: the ledger's fingerprint and `updated_at` decide.
  static func github(_ secret: PlannedSecret, remote: GitHubSecret?, ledger: PushLedgerEntry?) -> TargetComparison {
    guard let remote else { return .missing }
    return byLedger(secret, remoteUpdatedAt: remote.updatedAt, ledger: ledger)
  }

  private static func byLedger(_ secret: PlannedSecret, remoteUpdatedAt: String?, ledger: PushLedgerEntry?)
    -> TargetComparison
  {
    guard let ledger else { return .unknown }
    guard ledger.fingerprint == secret.fingerprint else { return .differs(elsewhere: false) }
    if let remote = remoteUpdatedAt, let pushed = ledger.remoteUpdatedAt, RemoteTimestamp.isNewer(remote, than: pushed)
    {
      return .differs(elsewhere: true)
    }
    return .same
  }
}
