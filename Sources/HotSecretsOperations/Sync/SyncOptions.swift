import Foundation
import HotSecretsModel

/// How `sync` runs.
public struct SyncOptions: Sendable {
  /// Which kinds of target to push to.
  public var kinds: Set<SyncTargetKind>
  /// Print what would change; send no write.
  public var dryRun: Bool
  /// Fly deploy mode; nil means each target's policy `deploy`, else `stage`.
  public var deploy: FlyDeployMode?
  /// Seconds a restarted machine may take to start (and pass its checks).
  public var machineTimeout: Int
  /// Seconds between looks at a restarted machine's checks.
  public var checkInterval: Double
  /// Targets handled at once.
  public var targetConcurrency: Int
  /// Requests in flight at once within one GitHub environment.
  public var gitHubConcurrency: Int
  /// Keys sent whatever the target seems to hold (a rotation's rollback puts the previous values
  /// back without trusting the ledger).
  public var force: Set<ServiceKey> = []
  /// Called as each step of a target starts and ends (from several tasks at once).
  public var onStep: @Sendable (SyncProgress) -> Void = { _ in }

  public init(
    kinds: Set<SyncTargetKind> = Set(SyncTargetKind.allCases), dryRun: Bool = false, deploy: FlyDeployMode? = nil,
    machineTimeout: Int = 60, checkInterval: Double = 1, targetConcurrency: Int = 4, gitHubConcurrency: Int = 4
  ) {
    self.kinds = kinds
    self.dryRun = dryRun
    self.deploy = deploy
    self.machineTimeout = machineTimeout
    self.checkInterval = checkInterval
    self.targetConcurrency = targetConcurrency
    self.gitHubConcurrency = gitHubConcurrency
  }
}

/// Timestamps as remote APIs write them (ISO 8601, with or without fractions).
enum RemoteTimestamp {
  /// True when `a` is strictly later than `b`; false when either cannot be read.
  static func isNewer(_ a: String, than b: String) -> Bool {
    guard let x = parse(a), let y = parse(b) else { return false }
    return x > y
  }

  static func parse(_ text: String) -> Date? {
    if let date = Timestamp.date(from: text) { return date }
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    if let date = formatter.date(from: text) { return date }
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.date(from: text)
  }
}
