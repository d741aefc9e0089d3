import HotSecretsModel
import HotSecretsOperations
import HotSecretsPolicy

/// Formatting of `verify` results.
enum VerifyOutput {
  static func json(_ report: VerifyReport, policy: Policy, strict: Bool) -> VerifyReportJSON {
    VerifyReportJSON(report, policy: policy, strict: strict) { FindingWords.line($0, environment: report.environment) }
  }

  /// One block per service, one line per key: `ok`, `FAIL` or `warn`, then each finding. The
  /// policy's services and keys come first, in its order; keys only findings name (undeclared)
  /// follow in the order found.
  static func text(_ report: VerifyReport, policy: Policy) -> String {
    var blocks = policy.services.map { (service: $0.name, keys: $0.keys.map(\.name)) }
    var blockIndex = Dictionary(blocks.enumerated().map { ($1.service, $0) }, uniquingKeysWith: { first, _ in first })
    var listed = Set(
      policy.services.flatMap { service in service.keys.map { ServiceKey(service: service.name, key: $0.name) } })
    var byKey: [ServiceKey: [Finding]] = [:]
    for finding in report.findings {
      let name = ServiceKey(service: finding.service, key: finding.key)
      byKey[name, default: []].append(finding)
      guard listed.insert(name).inserted else { continue }
      if let index = blockIndex[finding.service] {
        blocks[index].keys.append(finding.key)
      } else {
        blockIndex[finding.service] = blocks.count
        blocks.append((finding.service, [finding.key]))
      }
    }
    let width = max(12, blocks.lazy.flatMap(\.keys).map(\.count).max() ?? 12)
    // The check column fits the longest check name shown, so no check runs into its message.
    let checkWidth = max(12, (report.findings.map(\.check.rawValue.count).max() ?? 0) + 2)
    var lines: [String] = []
    lines.reserveCapacity(listed.count + blocks.count + 1)
    for (service, keys) in blocks {
      lines.append(service)
      for key in keys {
        guard let findings = byKey[ServiceKey(service: service, key: key)] else {
          lines.append("  \(Colour.paint("ok", .green, fd: 1))    \(key)")
          continue
        }
        for (i, finding) in findings.enumerated() {
          let mark = finding.severity == .error ? Colour.paint("FAIL", .red, fd: 1) : Colour.paint("warn", .yellow, fd: 1)
          let name = i == 0 ? pad(key, width) : pad("", width)
          lines.append(
            "  \(mark)  \(name)  \(pad(finding.check.rawValue, checkWidth))\(FindingWords.line(finding, environment: report.environment))"
          )
        }
      }
    }
    lines.append(counts(report))
    return lines.joined(separator: "\n")
  }

  /// `verify prod: 40 passed, 0 failed, 1 warning`: the text's last line.
  static func counts(_ report: VerifyReport) -> String {
    let warnings = Plural.count(report.warnings, "warning")
    return "verify \(report.environment): \(report.passedChecks) passed, \(report.errors) failed, \(warnings)"
  }

  /// The counts and the verdict, in one line (a tool result's summary).
  static func summary(_ report: VerifyReport, passed: Bool) -> String {
    counts(report) + (passed ? " (passed)" : " (FAILED: not deployable)")
  }

  /// `text` followed by spaces up to `width` characters.
  private static func pad(_ text: String, _ width: Int) -> String {
    text + String(repeating: " ", count: max(0, width - text.count))
  }
}
