import Foundation

/// One step of a target's sync as it starts or ends: what progress output shows while a sync (or a
/// rotation's push) runs. Names and counts only, never a value.
public enum SyncStep: Sendable, Equatable {
  /// Asking the target what it holds.
  case listing
  /// Fly: one bulk update of `count` secrets; GitHub: `count` secrets sealed and put, a few at a time.
  case sending(count: Int)
  /// The send ended: `failed` of them were refused; `secretsVersion` is Fly's new secrets version.
  case sent(count: Int, failed: Int, secretsVersion: Int?)
  /// A Fly machine is being updated to the new secrets version (a rolling restart).
  case restarting(machine: String)
  /// The machine reached `state` ("started", "checks passing") while restarting.
  case machineState(machine: String, state: String)
  /// The machine did not come back (the rolling restart stops here).
  case machineFailed(machine: String, reason: String)
}

/// A step of one target.
public struct SyncProgress: Sendable, Equatable {
  public let target: SyncTargetID
  public let step: SyncStep

  public init(target: SyncTargetID, step: SyncStep) {
    self.target = target
    self.step = step
  }
}
