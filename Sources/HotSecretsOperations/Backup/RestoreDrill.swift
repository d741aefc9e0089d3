import Foundation
import HotSecretsModel
import HotSecretsPolicy
import HotSecretsVault

/// `verify ENV` on the live vault and on the restored copy.
public struct DrillVerify: Encodable, Equatable, Sendable {
  public let environment: String
  public let live_passed: Bool
  public let restored_passed: Bool
  /// Checks failed or warned, as `service/KEY check severity`, on each side.
  public let live_findings: Int
  public let restored_findings: Int
  /// Whether both sides gave the same findings; nil when the live vault changed since the backup
  /// (then a difference is expected and not a failure).
  public let same: Bool?
}

/// What a restore drill found.
public struct DrillReport: Sendable {
  public var checks: [BackupCheck] = []
  public var valuesDecrypted = 0
  public var verify: [DrillVerify] = []
  public var passed: Bool { checks.allSatisfy(\.passed) }

  public init() {}
}

/// The checks of a drill that need the restored copy unlocked.
public enum RestoreDrill {
  /// Checks `restored` (the copy, unlocked with the caller's identity) against `live`: every
  /// stored value of every version decrypts, the audit chain (hashes and MACs) and the
  /// checkpoints file verify, and `verify` of each of `policies` gives the same findings on both —
  /// compared only when the live vault's audit head, read after both checks ran, is still the
  /// backup's (`backupHead`): the chain only grows, so an unchanged head means nothing was written
  /// in between, and another process writing meanwhile makes a difference expected, not a failure.
  public static func run(
    restored: VaultSession, live: VaultSession, checkpoints: String, policies: [Policy],
    backupHead: (seq: Int64?, hash: String?), asOf: Date = Date()
  ) async throws -> DrillReport {
    var report = DrillReport()
    do {
      let values = try restored.storedValues(environment: nil, allVersions: true)
      report.valuesDecrypted = values.count
      report.checks.append(BackupCheck("values decrypt", true, "\(Plural.count(values.count, "stored value")) decrypted with your key"))
    } catch {
      report.checks.append(BackupCheck("values decrypt", false, "\(error.localizedDescription)"))
    }
    let chain = try restored.verifyAudit(checkpoints: checkpoints, throughSeq: backupHead.seq)
    report.checks.append(
      BackupCheck(
        "audit chain", chain.intact,
        chain.intact
          ? "\(Plural.count(chain.entries, "entry", "entries")), hashes and MACs checked, \(Plural.count(chain.checkpoints, "checkpoint")) of \(checkpoints) up to the backup's head verified"
          : "broken at seq \(chain.firstBadSeq.map(String.init) ?? "?"): \(chain.checkpointError ?? chain.reason ?? "unknown")"))
    for policy in policies {
      let options = PolicyCheck.Options(live: false, mirrorDirectory: nil, asOf: asOf)
      let onLive = try await PolicyCheck(session: live, policy: policy, probe: nil, options: options).run()
      let onCopy = try await PolicyCheck(session: restored, policy: policy, probe: nil, options: options).run()
      let head = try live.database.read { tx in try tx.audit.head() }
      let liveUnchanged = head?.seq == backupHead.seq && head?.hash == backupHead.hash
      let key = { (f: Finding) in "\(f.service)/\(f.key) \(f.check.rawValue) \(f.severity.rawValue)" }
      let same = Set(onLive.findings.map(key)) == Set(onCopy.findings.map(key))
      report.verify.append(
        DrillVerify(
          environment: policy.environment, live_passed: onLive.passed(strict: false),
          restored_passed: onCopy.passed(strict: false), live_findings: onLive.findings.count,
          restored_findings: onCopy.findings.count, same: liveUnchanged ? same : nil))
      if !liveUnchanged {
        report.checks.append(
          BackupCheck(
            "verify \(policy.environment)", true,
            "not compared: the live vault changed since the backup (a difference would be expected); the copy \(onCopy.passed(strict: false) ? "passes" : "fails") with \(Plural.count(onCopy.findings.count, "finding"))"))
      } else {
        report.checks.append(
          BackupCheck(
            "verify \(policy.environment)", same,
            same
              ? "the same result as on the live vault (\(onCopy.passed(strict: false) ? "passes" : "fails") with \(Plural.count(onCopy.findings.count, "finding")))"
              : "differs from the live vault: \(onLive.findings.count) findings live, \(onCopy.findings.count) in the copy"))
      }
    }
    return report
  }
}

extension VaultSession {
  /// Appends the `drill` audit entry: which backup (SHA-256, creation time), the result, and the
  /// names of the checks that failed.
  public func recordDrill(_ report: DrillReport, backup: BackupManifest?) throws {
    var detail: [String: CanonicalJSON] = [
      "result": .string(report.passed ? "passed" : "failed"),
      "failed_checks": .array(report.checks.filter { !$0.passed }.map { .string($0.name) }),
      "values_decrypted": .int(report.valuesDecrypted),
    ]
    if let backup {
      detail["backup_sha256"] = .string(backup.sha256)
      detail["backup_created_at"] = .string(backup.created_at)
    }
    try recordAudit(AuditEvent(action: .drill, detail: .object(detail)))
  }
}
