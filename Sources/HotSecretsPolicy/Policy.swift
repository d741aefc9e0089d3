import Foundation
import HotSecretsModel

/// `policies/<env>.yaml`, schema version 1: which keys an environment must hold, their format and
/// maximum age, how each is rotated, and where they are deployed. See docs/policy.md.
public struct Policy: Sendable {
  /// The file it was read from (for messages).
  public let file: String
  public let version: Int
  public let environment: String
  /// Default maximum age for secret keys; nil means no limit.
  public let maxAgeDays: Int?
  /// Days a current value may stay exposed to a removed recipient before `verify` fails on it
  /// (a warning until then); `exposed_max_days`, default 7.
  public let exposedMaxDays: Int
  public let services: [ServicePolicy]
  public let flyTargets: [FlyTarget]
  public let githubTargets: [GitHubTarget]

  public static let defaultExposedMaxDays = 7

  /// The policy of `service`, if declared.
  public func service(_ name: String) -> ServicePolicy? { services.first { $0.name == name } }
}

/// One service's provider and keys.
public struct ServicePolicy: Sendable {
  public let name: String
  public let provider: ProviderConfig?
  public let keys: [KeyPolicy]

  public func key(_ name: String) -> KeyPolicy? { keys.first { $0.name == name } }
}

/// A service's provider and its settings (`project_id`, `project_ref`, `shop`, `base_url`, …).
public struct ProviderConfig: Sendable {
  public let kind: ProviderKind
  public let settings: [String: String]

  public subscript(_ setting: String) -> String? { settings[setting] }
}

/// How a key is replaced by `hotsecrets rotate`.
public enum RotationMode: Sendable, Equatable {
  /// The service's provider mints a new credential.
  case provider
  /// A random value of `length` URL-safe characters.
  case generate(length: Int)
  /// The operator supplies the new value.
  case manual

  public var name: String {
    switch self {
    case .provider: "provider"
    case .generate: "generate"
    case .manual: "manual"
    }
  }
}

/// A position in a policy file (1-based).
public struct SourcePosition: Sendable, Equatable, CustomStringConvertible {
  public let line: Int
  public let column: Int
  public var description: String { "\(line):\(column)" }
}

/// A key's `format`: a regular expression searched in the value, not implicitly anchored (the
/// convention of JSON Schema's `pattern`). Matched by `FormatMatcher` in time linear in the value's
/// length, so no pattern can stall `verify`; the syntax it reads is a subset of the usual one
/// (docs/policy.md), and anything else is refused when the policy is read.
public struct FormatRule: Sendable {
  /// The expression's source text, as written in the policy.
  public let pattern: String
  private let matcher: FormatMatcher

  /// Throws `FormatPatternError` when `pattern` is invalid, uses a construct that is not supported,
  /// or is too large once its repetitions are written out.
  init(pattern: String) throws(FormatPatternError) {
    self.pattern = pattern
    matcher = try FormatMatcher(pattern: pattern)
  }

  /// Whether the expression matches somewhere in `value`.
  public func matches(_ value: String) -> Bool { matcher.matches(value) }
}

/// The rules for one key.
public struct KeyPolicy: Sendable {
  public let name: String
  public let required: Bool
  /// Non-secret keys have no maximum age and may be printed.
  public let secret: Bool
  /// The regular expression the value must contain a match of.
  public let format: FormatRule?
  /// This key's own limit (overrides the policy's); see `effectiveMaxAgeDays`.
  public let maxAgeDays: Int?
  public let rotate: RotationMode
  /// The name the key gets in Fly and GitHub when it differs from the store's.
  public let targetName: String?
  public let position: SourcePosition

  /// The name the key is deployed under.
  public var deployedName: String { targetName ?? name }

  /// The age limit that applies: none for non-secrets, else the key's, else the policy's.
  public func effectiveMaxAgeDays(in policy: Policy) -> Int? {
    secret ? (maxAgeDays ?? policy.maxAgeDays) : nil
  }
}

/// A Fly.io app that receives services' keys as app secrets.
public struct FlyTarget: Sendable {
  public enum Deploy: String, Sendable { case stage, rolling }
  public let app: String
  public let services: [String]
  /// How machines pick up new secrets; nil means the command's default.
  public let deploy: Deploy?
  /// Answers 200 when the app is healthy (checked after a rolling restart).
  public let healthURL: String?
}

/// A GitHub Actions environment that receives services' keys as environment secrets.
public struct GitHubTarget: Sendable {
  public let repository: String
  public let environment: String
  public let services: [String]
}
