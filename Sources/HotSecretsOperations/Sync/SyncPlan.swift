import Foundation
import HotSecretsModel
import HotSecretsPolicy
import HotSecretsVault
import RemoteAPIs

/// Where secrets are pushed: a Fly app or a GitHub repository environment.
public enum SyncTargetKind: String, Sendable, CaseIterable {
  case fly, github
}

/// One target of a policy, named `fly:APP` or `github:OWNER/REPO:ENVIRONMENT` in output, the audit
/// trail and the push ledger.
public struct SyncTargetID: Sendable, Hashable, Comparable, CustomStringConvertible {
  public let kind: SyncTargetKind
  /// The app, or `owner/repo:environment`.
  public let name: String

  public var description: String { "\(kind.rawValue):\(name)" }
  public static func < (a: SyncTargetID, b: SyncTargetID) -> Bool { a.description < b.description }
}

/// A secret as a target receives it: the name it lands under, where it comes from, and its value.
public struct PlannedSecret: Sendable {
  /// The name in the target: the policy's `target_name`, else the store's KEY.
  public let name: String
  public let source: ServiceKey
  public let version: Int
  public let fingerprint: String
  /// The plaintext, in ordinary memory; the sync wipes it when done.
  var value: [UInt8]
}

/// Everything one target should hold, sorted by name.
public struct TargetPlan: Sendable {
  public let id: SyncTargetID
  /// Set for Fly targets.
  public let fly: FlyTarget?
  /// Set for GitHub targets.
  public let github: GitHubEnvironment?
  public var secrets: [PlannedSecret]
}

/// Why a sync cannot start. Nothing has been sent when one of these is thrown.
public enum SyncError: LocalizedError, Equatable, Sendable {
  case nameCollision(target: String, name: String, first: String, second: String)
  case invalidTargetName(target: String, name: String, source: String, reason: String)
  case valueTooLarge(target: String, name: String, source: String, bytes: Int)
  case tooManySecrets(target: String, count: Int, limit: Int)
  case noTargets(environment: String, kind: SyncTargetKind?)

  public var errorDescription: String? {
    switch self {
    case .nameCollision(let target, let name, let first, let second):
      "\(target): \(first) and \(second) would both be pushed as \(name); give one of them another target_name in the policy"
    case .invalidTargetName(let target, let name, let source, let reason):
      "\(target): \(source) cannot be pushed as \(name): \(reason)"
    case .valueTooLarge(let target, let name, let source, let bytes):
      "\(target): \(source) is \(bytes) bytes; \(name) may be at most 49152 bytes (48 KB) in GitHub"
    case .tooManySecrets(let target, let count, let limit):
      "\(target): \(count) secrets, but a GitHub environment holds at most \(limit)"
    case .noTargets(let environment, let kind):
      "the policy for \(environment) has no \(kind.map { "\($0.rawValue) " } ?? "")targets"
    }
  }
}

/// Builds each target's plan from the policy and the store's current values, checking names
/// before anything is sent.
enum SyncPlanner {
  static let gitHubValueLimit = 48 * 1024
  static let gitHubSecretLimit = 100

  /// The plans of the policy's targets of `kinds`, in policy order. Every key the store holds for
  /// a target's services is included, declared in the policy or not. Throws `SyncError`.
  static func plans(
    policy: Policy, kinds: Set<SyncTargetKind>, stored: [ServiceKey: StoredSecret]
  ) throws -> [TargetPlan] {
    var plans: [TargetPlan] = []
    if kinds.contains(.fly) {
      for target in policy.flyTargets {
        let id = SyncTargetID(kind: .fly, name: target.app)
        plans.append(
          TargetPlan(
            id: id, fly: target, github: nil,
            secrets: try secrets(for: target.services, id: id, policy: policy, stored: stored, caseInsensitive: false)))
      }
    }
    if kinds.contains(.github) {
      for target in policy.githubTargets {
        let environment = GitHubEnvironment(repository: target.repository, environment: target.environment)
        let id = SyncTargetID(kind: .github, name: environment.description)
        let secrets = try secrets(
          for: target.services, id: id, policy: policy, stored: stored, caseInsensitive: true)
        for secret in secrets {
          if let reason = gitHubNameProblem(secret.name) {
            throw SyncError.invalidTargetName(
              target: id.description, name: secret.name, source: secret.source.description, reason: reason)
          }
          if secret.value.count > gitHubValueLimit {
            throw SyncError.valueTooLarge(
              target: id.description, name: secret.name, source: secret.source.description, bytes: secret.value.count)
          }
        }
        if secrets.count > gitHubSecretLimit {
          throw SyncError.tooManySecrets(target: id.description, count: secrets.count, limit: gitHubSecretLimit)
        }
        plans.append(TargetPlan(id: id, fly: nil, github: environment, secrets: secrets))
      }
    }
    return plans
  }

  /// The names of the values `plans` needs decrypted: every stored key of a targeted service.
  static func services(of policy: Policy, kinds: Set<SyncTargetKind>) -> Set<String> {
    var services: Set<String> = []
    if kinds.contains(.fly) { for target in policy.flyTargets { services.formUnion(target.services) } }
    if kinds.contains(.github) { for target in policy.githubTargets { services.formUnion(target.services) } }
    return services
  }

  private static func secrets(
    for services: [String], id: SyncTargetID, policy: Policy, stored: [ServiceKey: StoredSecret],
    caseInsensitive: Bool
  ) throws -> [PlannedSecret] {
    var byName: [String: PlannedSecret] = [:]
    let wanted = Set(services)
    for (source, secret) in stored where wanted.contains(source.service) {
      let name = policy.service(source.service)?.key(source.key)?.targetName ?? source.key
      let slot = caseInsensitive ? name.uppercased() : name
      if let other = byName[slot] {
        let pair = [other.source.description, source.description].sorted()
        throw SyncError.nameCollision(target: id.description, name: name, first: pair[0], second: pair[1])
      }
      byName[slot] = PlannedSecret(
        name: caseInsensitive ? slot : name, source: source, version: secret.version,
        fingerprint: secret.fingerprint, value: secret.value)
    }
    return byName.values.sorted { $0.name < $1.name }
  }

  /// Why GitHub would refuse `name` as a secret name, or nil.
  static func gitHubNameProblem(_ name: String) -> String? {
    guard !name.isEmpty else { return "the name is empty" }
    let bytes = Array(name.utf8)
    let allowed = bytes.allSatisfy {
      ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95
    }
    if !allowed { return "GitHub secret names may contain only letters, digits and underscores" }
    if bytes[0] >= 48 && bytes[0] <= 57 { return "GitHub secret names must not start with a digit" }
    if name.uppercased().hasPrefix("GITHUB_") { return "GitHub secret names must not start with GITHUB_" }
    return nil
  }
}
