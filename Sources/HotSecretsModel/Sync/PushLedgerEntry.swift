/// What hotsecrets last pushed to a target under one name: GitHub never gives values back, so this
/// is how `sync` knows what is already there and `verify --targets` knows what is current.
public struct PushLedgerEntry: Sendable, Equatable {
  public let target: String
  public let name: String
  public let source: ServiceKey
  public let version: Int
  public let fingerprint: String
  public let pushedAt: String
  /// The target's own timestamp for the secret after the push (GitHub `updated_at`), when known.
  public let remoteUpdatedAt: String?

  package init(
    target: String, name: String, source: ServiceKey, version: Int, fingerprint: String, pushedAt: String,
    remoteUpdatedAt: String? = nil
  ) {
    self.target = target
    self.name = name
    self.source = source
    self.version = version
    self.fingerprint = fingerprint
    self.pushedAt = pushedAt
    self.remoteUpdatedAt = remoteUpdatedAt
  }
}
