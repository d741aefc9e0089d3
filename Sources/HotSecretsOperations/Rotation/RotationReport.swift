import HotSecretsModel

/// One line of progress: a key (or the whole run) and the step it is at.
public struct RotationProgress: Sendable {
  public let name: ServiceKey?
  public let step: RotationStep
  public let message: String
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
