import HotSecretsVault
import RemoteAPIs

/// One problem `verify` found, named by service, key and check, with a one-line reason that never
/// contains the value.
public struct Finding: Sendable, Equatable {
  public enum Severity: String, Sendable { case error, warning }

  /// The checks `verify` runs. Raw values are the `check` field of the JSON output.
  public enum Check: String, Sendable {
    case missing, empty, placeholder, format, age, drift, live, unreachable, undeclared
    /// `verify --targets`: a key the policy sends to a target is absent there.
    case targetMissing = "target-missing"
    /// The target holds another value than the vault's current one (or one changed elsewhere).
    case targetDrift = "target-drift"
    /// A Fly machine runs an older secrets version than the app's (targets with `deploy: rolling`).
    case targetStale = "target-stale"
    /// A rotated key's previous credential is still live (kept, revoke failed, or left to the operator).
    case oldCredential = "old-credential"
    /// A credential minted by a failed rotation could not be revoked: still live at the provider.
    case orphanCredential = "orphan-credential"
    /// The current value was stored while a since-removed recipient could read it: rotate it.
    case exposed
  }

  /// What the user can do about a finding. Command and flag names are the CLI's: it puts a remedy
  /// into words after the message (`FindingWords` there); the core states facts only.
  public enum Remedy: String, Sendable {
    /// Store the mirror files' values in the vault.
    case importFiles = "import"
    /// Write the vault's values into the mirror files.
    case renderFiles = "render"
    /// Both the files and the vault changed a key: keep one side explicitly.
    case resolveConflict = "resolve-conflict"
    /// Push the vault's current values to the targets.
    case sync
    /// Push, and restart the Fly machines so that they run the new secrets version.
    case syncRolling = "sync-rolling"
    /// Revoke the credential by hand, then record that it was.
    case confirmRevoked = "confirm-revoked"
    /// Rotate the values a removed recipient could read.
    case rotateExposed = "rotate-exposed"
    /// Let hotsecrets settle what a rotation left live (deferred revocations, kept new values).
    case finishRotation = "finish-rotation"
  }

  public let service: String
  public let key: String
  public let check: Check
  public let severity: Severity
  /// The facts, without a value and without a remedy.
  public let message: String
  public let remedy: Remedy?

  public init(service: String, key: String, check: Check, severity: Severity, message: String, remedy: Remedy? = nil) {
    self.service = service
    self.key = key
    self.check = check
    self.severity = severity
    self.message = message
    self.remedy = remedy
  }
}

/// The outcome of `verify`: every finding, and how many checks ran and passed.
public struct VerifyReport: Sendable {
  public let environment: String
  public var findings: [Finding] = []
  /// Checks that ran and found nothing (one per key and check).
  public var passedChecks = 0
  /// Every recorded exposure of the environment's secrets to removed recipients, open or closed.
  public var exposures: [ExposureRecord] = []

  public init(environment: String) { self.environment = environment }

  public var errors: Int { findings.filter { $0.severity == .error }.count }
  public var warnings: Int { findings.filter { $0.severity == .warning }.count }
  /// True when no check failed; with `strict`, warnings fail too.
  public func passed(strict: Bool) -> Bool { errors == 0 && (!strict || warnings == 0) }

  mutating func record(_ finding: Finding) { findings.append(finding) }
}
