import Foundation
import HotSecretsModel
import HotSecretsPolicy
import HotSecretsVault
import RemoteAPIs

/// How `rotate` runs.
public struct RotationOptions: Sendable {
  /// What happens to the old credential after every target verified the new one.
  public enum RevokeOld: String, Sendable, CaseIterable {
    case afterVerify = "after-verify"
    case never
  }

  /// Keys named on the command line.
  public var keys: [ServiceKey]
  /// Also every key whose current version is past its max age or within `dueWithinDays` of it.
  public var due: Bool
  public var dueWithinDays: Int
  /// Also every declared key whose current value is exposed to a removed recipient.
  public var exposed: Bool
  /// Stop after the plan.
  public var dryRun: Bool
  /// Fly deploy mode; nil means each target's policy `deploy`, else `stage`.
  public var deploy: FlyDeployMode?
  public var revokeOld: RevokeOld
  /// New values supplied by the operator (Shopify and manual keys), in plain memory.
  public var operatorValues: [ServiceKey: [UInt8]]
  /// The moment ages are measured at.
  public var asOf: Date
  public var machineTimeout: Int
  public var checkInterval: Double

  public init(
    keys: [ServiceKey] = [], due: Bool = false, dueWithinDays: Int = 7, dryRun: Bool = false,
    deploy: FlyDeployMode? = nil, revokeOld: RevokeOld = .afterVerify, operatorValues: [ServiceKey: [UInt8]] = [:],
    asOf: Date = Date(), machineTimeout: Int = 60, checkInterval: Double = 1, exposed: Bool = false
  ) {
    self.keys = keys
    self.due = due
    self.exposed = exposed
    self.dueWithinDays = dueWithinDays
    self.dryRun = dryRun
    self.deploy = deploy
    self.revokeOld = revokeOld
    self.operatorValues = operatorValues
    self.asOf = asOf
    self.machineTimeout = machineTimeout
    self.checkInterval = checkInterval
  }
}

/// One key a run will rotate.
public struct PlannedRotation: Sendable, Equatable {
  public let name: ServiceKey
  public let mode: RotationSource
  /// Minting kills the old credential at once (Chatwoot): pushed immediately, no rollback.
  public let singlePhase: Bool
  /// The targets that carry the key (`fly:APP`, `github:OWNER/REPO:ENV`).
  public let targets: [SyncTargetID]
  public let currentVersion: Int
  public let ageDays: Int
  /// The new value must come from the operator (Shopify, manual) and none was given.
  public let needsOperator: Bool
  /// `generate`: the length of the new value.
  let length: Int

  /// The provider kind behind `mode`, when it is a provider.
  public var provider: ProviderKind? { mode.provider }
}

/// Chooses the keys of a run from the policy, the command line and the keys' ages.
enum RotationPlanner {
  static func plan(
    policy: Policy, options: RotationOptions, stored: [ServiceKey: StoredSecret]
  ) throws -> [PlannedRotation] {
    var names: [ServiceKey] = []
    for name in options.keys where !names.contains(name) { names.append(name) }
    if options.due {
      for service in policy.services {
        for key in service.keys {
          let name = ServiceKey(service: service.name, key: key.name)
          guard let maxAge = key.effectiveMaxAgeDays(in: policy), let secret = stored[name], !names.contains(name)
          else { continue }
          if age(secret, at: options.asOf) >= maxAge - options.dueWithinDays { names.append(name) }
        }
      }
    }
    if options.exposed {
      for service in policy.services {
        for key in service.keys {
          let name = ServiceKey(service: service.name, key: key.name)
          if let secret = stored[name], !secret.exposed.isEmpty, !names.contains(name) { names.append(name) }
        }
      }
    }
    if names.isEmpty && !options.due && !options.exposed {
      throw RotationError.nothingSelected(environment: policy.environment)
    }
    return try names.map { name in
      guard let service = policy.service(name.service), let key = service.key(name.key) else {
        throw RotationError.notInPolicy(name.description)
      }
      guard let secret = stored[name] else { throw RotationError.notInVault(name.description) }
      let mode: RotationSource
      var length = 0
      switch key.rotate {
      case .provider:
        guard let provider = service.provider else { throw RotationError.noProvider(name.description) }
        mode = .provider(provider.kind)
      case .generate(let n):
        mode = .generate
        length = n
      case .manual: mode = .manual
      }
      let needsOperator = mode.needsOperatorValue && options.operatorValues[name] == nil
      if needsOperator && options.keys.contains(name) { throw RotationError.needsOperatorValue(name.description) }
      return PlannedRotation(
        name: name, mode: mode, singlePhase: mode.isSinglePhase,
        targets: targets(of: name.service, in: policy), currentVersion: secret.version,
        ageDays: age(secret, at: options.asOf), needsOperator: needsOperator, length: length)
    }
  }

  static func targets(of service: String, in policy: Policy) -> [SyncTargetID] {
    policy.flyTargets.filter { $0.services.contains(service) }.map { SyncTargetID(kind: .fly, name: $0.app) }
      + policy.githubTargets.filter { $0.services.contains(service) }.map {
        SyncTargetID(
          kind: .github, name: GitHubEnvironment(repository: $0.repository, environment: $0.environment).description)
      }
  }

  private static func age(_ secret: StoredSecret, at date: Date) -> Int {
    Timestamp.date(from: secret.createdAt).map { Timestamp.days(from: $0, to: date) } ?? 0
  }
}
