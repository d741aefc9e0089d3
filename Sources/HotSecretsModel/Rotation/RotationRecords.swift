import Foundation

/// The steps of a rotation run, in order. Each is journaled (and audited) before the next begins.
public enum RotationStep: String, Sendable, CaseIterable, Comparable {
  case plan, create, test, push, verify, promote, revoke, rollback, done

  public static func < (a: RotationStep, b: RotationStep) -> Bool {
    allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
  }
}

/// Where one key of a run stands.
public enum RotationItemState: String, Sendable {
  case planned, created, tested, pushed, verified, promoted
  /// Promoted and its old credential handled (revoked, kept, or left to the operator).
  case done
  case failed
  case rolledBack = "rolled-back"
}

/// What happened to a key's old credential.
public enum Revocation: String, Sendable {
  /// Revoked at the provider after every target verified the new one.
  case revoked
  /// Kept live on purpose (`--revoke-old never`) or because no match was certain.
  case kept
  /// The operator must revoke it (Shopify, manual keys); `--confirm-revoked` records it.
  case pendingOperator = "pending-operator"
  /// The provider refused to revoke it; it is still live.
  case failed
  /// Nothing to revoke (generated values; single-phase providers, whose old token died at once).
  case notNeeded = "not-needed"
  /// Kept because a Fly target was only staged: its machines still run the old value until their
  /// next deploy. Revoke it by hand afterwards, then `--confirm-revoked`.
  case deferred
  /// Not revoked because the same value is current elsewhere in the vault (another key or environment).
  case shared
  /// A new value kept after a rollback that could not restore every target: a target may run it, so
  /// it is neither revoked nor forgotten (its version keeps its ciphertext, `verify` warns) until
  /// `Rotation.finish()` settles it: revoked when no target holds it, else pushed everywhere and
  /// promoted.
  case live
}

/// One key of a rotation run, as journaled.
public struct RotationItem: Sendable, Equatable {
  public let service: String
  public let key: String
  public let mode: RotationSource
  /// Minting killed the old credential (Chatwoot): promoted at once, never rolled back.
  public let singlePhase: Bool
  public var oldVersion: Int?
  public var newVersion: Int?
  public var oldCredentialID: String?
  public var newCredentialID: String?
  public var state: RotationItemState
  public var revocation: Revocation?
  /// What happened to the new credential of a failed or rolled-back item: `revoked`, or `failed`
  /// (still live at the provider; `verify` warns until `--confirm-revoked`).
  public var newRevocation: Revocation? = nil
  public var error: String?

  public var name: ServiceKey { ServiceKey(service: service, key: key) }

  package init(
    service: String, key: String, mode: RotationSource, singlePhase: Bool, oldVersion: Int? = nil,
    newVersion: Int? = nil, oldCredentialID: String? = nil, newCredentialID: String? = nil, state: RotationItemState,
    revocation: Revocation? = nil, newRevocation: Revocation? = nil, error: String? = nil
  ) {
    self.service = service
    self.key = key
    self.mode = mode
    self.singlePhase = singlePhase
    self.oldVersion = oldVersion
    self.newVersion = newVersion
    self.oldCredentialID = oldCredentialID
    self.newCredentialID = newCredentialID
    self.state = state
    self.revocation = revocation
    self.newRevocation = newRevocation
    self.error = error
  }
}

/// A rotation run as journaled.
public struct RotationRunRecord: Sendable {
  public let id: Int64
  public let environment: String
  public let startedAt: String
  public let actorUser: String
  public let state: String
  public let step: RotationStep
  public let deploy: String
  public let revokeOld: String

  package init(
    id: Int64, environment: String, startedAt: String, actorUser: String, state: String, step: RotationStep,
    deploy: String, revokeOld: String
  ) {
    self.id = id
    self.environment = environment
    self.startedAt = startedAt
    self.actorUser = actorUser
    self.state = state
    self.step = step
    self.deploy = deploy
    self.revokeOld = revokeOld
  }
}
