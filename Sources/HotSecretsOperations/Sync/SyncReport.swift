import HotSecretsModel

/// A secret that was (or, in a dry run, would be) sent to a target.
public struct PushedSecret: Sendable, Equatable {
  public let name: String
  public let source: ServiceKey
  public let version: Int
  public let fingerprint: String
  /// The target held a value someone changed elsewhere since hotsecrets' last push.
  public let repairedDrift: Bool
}

/// A secret a target did not accept, with the API's reason.
public struct FailedPush: Sendable, Equatable {
  public let name: String
  public let source: ServiceKey
  /// hotsecrets' words, never the API's.
  public let reason: String
  /// The fixed failure category (`http-422`, `timeout`, …; see `RemoteError.category`).
  public let category: String

  public init(name: String, source: ServiceKey, reason: String, category: String) {
    self.name = name
    self.source = source
    self.reason = reason
    self.category = category
  }
}

/// What a Fly rolling restart did.
public struct RollingRestart: Sendable, Equatable {
  /// Machines restarted with the new secrets version and started (checks passing), in order.
  public var restarted: [String] = []
  /// The machine that did not come back, and why; the machines after it were left untouched.
  public var failedMachine: String?
  public var failure: String?
  /// Machines not restarted: after a failure, or stopped ones (they load the secrets when started).
  public var untouched: [String] = []
}

/// How Fly machines get new secrets after a bulk update.
public enum FlyDeployMode: String, Sendable, CaseIterable {
  /// Leave machines alone; they load the secrets at the next deploy (`fly secrets deploy`).
  case stage
  /// Restart the machines one at a time with the new secrets version.
  case rolling
}

/// The outcome for one target.
public struct TargetReport: Sendable {
  public let id: SyncTargetID
  /// The target answered (its secrets could be listed): something ran there.
  public var reached = false
  /// False for a dry run without the target's credentials: the plan comes from the vault and the
  /// push ledger (what was last sent), not from the target.
  public var comparedWithTarget = true
  public var pushed: [PushedSecret] = []
  public var unchanged: [String] = []
  public var failed: [FailedPush] = []
  /// A failure of the whole target (cannot list, no token, bulk update refused), or nil.
  public var error: String?
  /// Facts worth telling (a digest that is not MD5, GitHub's dates not read back).
  public var notes: [String] = []
  /// Fly, `deploy: stage`: the new secrets were staged; the app's machines load them at the next
  /// deploy (the CLI says how to deploy them now).
  public var stagedForNextDeploy = false
  /// Fly: the app's secrets version after this run's bulk update.
  public var secretsVersion: Int?
  /// Fly: the deploy mode used, and what a rolling restart did.
  public var deploy: FlyDeployMode?
  public var restart: RollingRestart?
  public var seconds: Double = 0

  public init(id: SyncTargetID) { self.id = id }

  /// True when every secret arrived and, for a rolling deploy, every machine came back.
  public var succeeded: Bool { error == nil && failed.isEmpty && restart?.failure == nil }
}

/// The outcome of `sync`.
public struct SyncReport: Sendable {
  public let environment: String
  public let dryRun: Bool
  /// One per target, in policy order.
  public var targets: [TargetReport]

  public var succeeded: Bool { targets.allSatisfy(\.succeeded) }
}
