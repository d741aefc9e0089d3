import Foundation

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

/// Why a rotation cannot start (or resume). Nothing has changed when one is thrown.
public enum RotationError: LocalizedError, Equatable, Sendable {
  case nothingSelected(environment: String)
  case notInPolicy(String)
  case notInVault(String)
  case noProvider(String)
  case needsOperatorValue(String)
  case unfinished(environment: String, run: Int64, startedAt: String, by: String, step: String)
  case nothingToResume(environment: String)
  case busy(environment: String)
  case notPendingRevocation(String)
  case noCredentials(provider: String)
  case keyInUnfinishedRun(name: String, environment: String, run: Int64, step: String)

  public var errorDescription: String? {
    switch self {
    case .nothingSelected(let environment):
      "nothing to rotate: name keys as SERVICE/KEY, or use --due to take those near or past their max age in \(environment)"
    case .notInPolicy(let name): "\(name) is not declared in the policy"
    case .notInVault(let name): "\(name) is not in the vault"
    case .noProvider(let name): "\(name) has rotate: provider, but its service has no provider in the policy"
    case .needsOperatorValue(let name):
      "\(name) cannot be minted by hotsecrets: give the new value with --value-from FILE (or - for stdin)"
    case .unfinished(let environment, let run, let startedAt, let by, let step):
      "a rotation of \(environment) is unfinished (run \(run), started \(startedAt) by \(by), at step \(step)): run hotsecrets rotate \(environment) --resume"
    case .nothingToResume(let environment): "no unfinished rotation of \(environment) to resume"
    case .busy(let environment): "another hotsecrets rotate of \(environment) is running right now"
    case .notPendingRevocation(let name): "\(name) has no old credential waiting to be revoked by hand"
    case .keyInUnfinishedRun(let name, let environment, let run, let step):
      "\(name) is being rotated (run \(run), stopped at step \(step)): run hotsecrets rotate \(environment) --resume first"
    case .noCredentials(let provider):
      switch provider {
      case "openai":
        "rotating openai keys needs OPENAI_ADMIN_KEY (environment, or the vault's hotsecrets/OPENAI_ADMIN_KEY)"
      case "supabase":
        "rotating supabase keys needs SUPABASE_ACCESS_TOKEN (environment, or the vault's hotsecrets/SUPABASE_ACCESS_TOKEN)"
      default: "no credentials for the \(provider) provider"
      }
    }
  }
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
