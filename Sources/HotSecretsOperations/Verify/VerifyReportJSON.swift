import Foundation
import HotSecretsModel
import HotSecretsPolicy

/// The JSON shape of a `verify` result (docs/json.md): what `verify --format json` prints and what
/// a compliance bundle stores as `policy-results.json`.
public struct VerifyReportJSON: Encodable, Sendable {
  public struct FindingJSON: Encodable, Sendable {
    public let service, key, check, severity, message: String
  }
  public struct Summary: Encodable, Sendable {
    public let passed, failed, warnings: Int
  }

  /// One removed recipient's exposure to one secret: still `open`, `closed` by a rotation, or the
  /// secret `removed`.
  public struct ExposureJSON: Encodable, Sendable {
    public let recipient: Int64
    public let name, removed_at, service, key, status: String
    public let versions: [Int]
    @NullEncoded public var current_version: Int?
    @NullEncoded public var closed_at: String?
  }

  public let environment, policy: String
  public let passed: Bool
  public let findings: [FindingJSON]
  public let summary: Summary
  /// Offboarding evidence: every recorded exposure of the environment's secrets.
  public var exposures: [ExposureJSON] = []
}

extension VerifyReportJSON {
  /// `words` puts a finding into one line (its message and what to run about it: the CLI's words).
  public init(_ report: VerifyReport, policy: Policy, strict: Bool, words: (Finding) -> String) {
    environment = report.environment
    self.policy = policy.file
    passed = report.passed(strict: strict)
    findings = report.findings.map {
      FindingJSON(
        service: $0.service, key: $0.key, check: $0.check.rawValue, severity: $0.severity.rawValue,
        message: words($0))
    }
    summary = Summary(passed: report.passedChecks, failed: report.errors, warnings: report.warnings)
    exposures = report.exposures.map {
      ExposureJSON(
        recipient: $0.exposure.recipientID, name: $0.exposure.name, removed_at: $0.exposure.removedAt,
        service: $0.address.service, key: $0.address.key,
        status: $0.isOpen ? "open" : ($0.closedAt != nil ? "closed" : "removed"), versions: $0.versions,
        current_version: $0.currentVersion, closed_at: $0.closedAt)
    }
  }
}
