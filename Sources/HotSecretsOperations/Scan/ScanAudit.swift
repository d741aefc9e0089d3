import HotSecretsModel
import HotSecretsVault

/// What a leak scan looked at, for its audit entry.
public enum LeakScanSource: String, Sendable {
  /// Files of the working tree (or the paths given).
  case files
  /// What is staged for commit.
  case staged
  /// Every blob of the repository's history.
  case history
}

extension VaultSession {
  /// Appends the one `scan` audit entry of a leak scan: subject the environment (nil for all),
  /// detail the source, which versions were looked for, how many files (or blobs) and bytes were
  /// read, how many findings, and the names of the secrets found (ENV/SERVICE/KEY and version).
  /// Where they were found is not recorded: a path and line point at a plaintext copy of a live
  /// credential until it is cleaned up, and the chain is permanent and exported to auditors.
  public func recordScan(
    environment: String?, source: LeakScanSource, allVersions: Bool, report: LeakScanReport
  ) throws {
    let found = Set(report.findings.map { "\($0.address)#\($0.version)" }).sorted()
    var detail: [String: CanonicalJSON] = [
      "source": .string(source.rawValue), "versions": .string(allVersions ? "all" : "current"),
      "files": .int(report.files), "bytes": .int(report.bytes), "findings": .int(report.findings.count),
      "found": .array(found.map(CanonicalJSON.string)),
    ]
    if source == .history { detail["commits"] = .int(report.commits) }
    try recordAudit(AuditEvent(action: .scan, subject: environment, detail: .object(detail)))
  }
}
