import HotSecretsModel

/// One line of progress: a key (or the whole run) and the step it is at.
public struct RotationProgress: Sendable {
  /// The key concerned, nil for the whole run.
  public let name: ServiceKey?
  public let step: RotationStep
  public let event: RotationEvent
}

/// What just happened in a run, as a fact: the CLI puts it into words (and names its commands and
/// flags there). Reasons are hotsecrets' own words (`RemoteReason`), never a provider's text.
public enum RotationEvent: Sendable {
  /// The key needs a new value from an operator and none was given: it is not rotated.
  case needsOperator
  /// The run was journaled with these keys (`SERVICE/KEY (mode)`).
  case started(run: Int64, keys: [String])
  /// Minting the new token kills the old one at once: pushed right away, never rolled back.
  case singlePhase
  case created(version: Int, mode: RotationSource)
  /// A single-phase key's new token is current already (its old one died when it was minted).
  case currentAtOnce
  /// The step failed for this key (or, without a key, for the run).
  case failed(reason: String)
  /// The provider accepts the new credential.
  case accepted
  /// The new value was sent to these targets.
  case sent(targets: [String])
  /// One target's push, during the run or its rollback.
  case target(TargetReport)
  /// A step of a target's push as it starts or ends.
  case targetStep(SyncProgress)
  /// Every target holds the new value.
  case verified
  case promoted(version: Int, previous: Int)
  case resuming(run: Int64, startedAt: String, by: String, stoppedAt: RotationStep)
  /// The old credential was revoked at the provider.
  case oldRevoked(mode: RotationSource)
  /// The old credential stays live; `revocation` says why (`kept` on request, `deferred` for staged
  /// Fly apps, `shared` with another key, `pendingOperator` for a person to do).
  case oldKept(Revocation, stagedApps: [String] = [], sharedWith: String? = nil)
  /// No credential at the provider matches the old value for certain: it is still live.
  case oldNotFound(mode: RotationSource)
  /// The unused new credential was revoked.
  case newRevoked(mode: RotationSource)
  case newRevokeFailed(reason: String)
  /// The previous value could not be restored everywhere: the new one stays live (tracked) until
  /// `settle()` revokes or promotes it.
  case newKeptLive
  case rollingBack(reason: String)
  /// These targets show the previous values already (they never took the new ones): not re-sent.
  case restoreNotNeeded(targets: [String])
  case restoreFailed(reason: String)
  case finished(run: Int64, outcome: RotationReport.Outcome)
}

/// The outcome of `rotate` (or of the plan, in a dry run).
public struct RotationReport: Sendable {
  public enum Outcome: String, Sendable {
    /// A dry run: nothing happened.
    case planned
    /// Every key rotated (its old credential handled as the options said).
    case completed
    /// Some keys rotated and some failed, or an old credential could not be revoked.
    case partial
    /// The run failed before promote and was rolled back: targets hold the previous values again.
    case rolledBack = "rolled-back"
    /// Nothing was rotated.
    case failed
  }

  public let environment: String
  /// The journal's run id (nil in a dry run).
  public var run: Int64?
  public var plan: [PlannedRotation]
  public var items: [RotationItem] = []
  public var outcome: Outcome
  /// The step that failed the run, and why.
  public var failedStep: RotationStep?
  public var error: String?
  /// The pushes of the run (and of its rollback), per target.
  public var pushes: [TargetReport] = []
  /// The targets that carry each key of the run.
  public var targets: [ServiceKey: [SyncTargetID]] = [:]

  /// True when every key rotated and nothing is left for later.
  public var succeeded: Bool { outcome == .completed || outcome == .planned }
}
