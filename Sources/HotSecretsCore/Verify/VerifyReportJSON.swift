import Foundation

/// The JSON shape of a `verify` result (docs/json.md): what `verify --format json` prints and what
/// a compliance bundle stores as `policy-results.json`.
public struct VerifyReportJSON: Encodable, Sendable {
  public struct FindingJSON: Encodable, Sendable {
    public let service, key, check, severity, message: String
  }
  public struct Summary: Encodable, Sendable {
    public let passed, failed, warnings: Int
  }

  public let environment, policy: String
  public let passed: Bool
  public let findings: [FindingJSON]
  public let summary: Summary
}

extension VerifyReportJSON {
  public init(_ report: VerifyReport, policy: Policy, strict: Bool) {
    environment = report.environment
    self.policy = policy.file
    passed = report.passed(strict: strict)
    findings = report.findings.map {
      FindingJSON(
        service: $0.service, key: $0.key, check: $0.check.rawValue, severity: $0.severity.rawValue,
        message: $0.message)
    }
    summary = Summary(passed: report.passedChecks, failed: report.errors, warnings: report.warnings)
  }
}

/// The JSON every command prints and every bundle file holds: pretty-printed, keys sorted, slashes
/// not escaped, so equal data gives equal bytes.
public enum StableJSON {
  public static func encode<T: Encodable>(_ value: T) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return try encoder.encode(value)
  }
}
