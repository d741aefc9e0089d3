import Foundation

/// `verify --targets`: compares what each Fly app and GitHub environment of the policy holds with
/// the vault's current values (Fly digests, the push ledger for GitHub), and whether the machines
/// of `deploy: rolling` Fly targets run the app's newest secrets. Sends no write.
///
/// Findings name the key's service and KEY; target-wide problems (cannot list, stale machines)
/// name the target as the service and `*` or the machine id as the key.
public struct TargetCheck: Sendable {
  let session: VaultSession
  let policy: Policy
  let fly: FlyMachinesAPI?
  let github: GitHubSecretsAPI?

  public init(session: VaultSession, policy: Policy, fly: FlyMachinesAPI?, github: GitHubSecretsAPI?) {
    self.session = session
    self.policy = policy
    self.fly = fly
    self.github = github
  }

  /// Adds the target findings to `report`. Throws `SyncError` (a name collision, an invalid GitHub
  /// name) or a storage error.
  public func run(into report: inout VerifyReport) async throws {
    let environment = policy.environment
    let kinds = Set(SyncTargetKind.allCases)
    let services = SyncPlanner.services(of: policy, kinds: kinds)
    var stored = try session.database.read { db in
      try session.currentSecrets(environment: environment, decrypting: { services.contains($0.service) }, db: db)
    }
    var plans = try SyncPlanner.plans(policy: policy, kinds: kinds, stored: stored)
    for key in stored.keys { wipe(&stored[key]!.value) }
    defer {
      for index in plans.indices {
        for s in plans[index].secrets.indices { wipe(&plans[index].secrets[s].value) }
      }
    }
    let state = try session.database.read { db in
      try plans.map { plan in
        (
          try PushLedger.entries(environment: environment, target: plan.id.description, db: db),
          try PushLedger.secretsVersion(environment: environment, target: plan.id.description, db: db)
        )
      }
    }
    let results = await withTaskGroup(of: (Int, [Finding], Int).self) { group in
      for (index, plan) in plans.enumerated() {
        let (ledger, version) = state[index]
        group.addTask {
          let (findings, passed) = await check(plan, ledger: ledger, recordedVersion: version)
          return (index, findings, passed)
        }
      }
      var results = [([Finding], Int)](repeating: ([], 0), count: plans.count)
      for await (index, findings, passed) in group { results[index] = (findings, passed) }
      return results
    }
    for (findings, passed) in results {
      for finding in findings { report.record(finding) }
      report.passedChecks += passed
    }
  }

  private func check(_ plan: TargetPlan, ledger: [String: PushLedgerEntry], recordedVersion: Int?) async -> (
    [Finding], Int
  ) {
    let target = plan.id.description
    func targetWide(_ message: String) -> ([Finding], Int) {
      ([Finding(service: target, key: "*", check: .unreachable, severity: .error, message: message)], 0)
    }
    if let fly = plan.fly {
      guard let api = self.fly else { return targetWide("no Fly API token (FLY_API_TOKEN or hotsecrets/FLY_API_TOKEN)") }
      return await checkFly(plan, app: fly.app, rolling: fly.deploy == .rolling, api: api, ledger: ledger, version: recordedVersion)
    }
    if let environment = plan.github {
      guard let api = github else { return targetWide("no GitHub token (GITHUB_TOKEN or hotsecrets/GITHUB_TOKEN)") }
      return await checkGitHub(plan, environment: environment, api: api, ledger: ledger)
    }
    return ([], 0)
  }

  private func checkFly(
    _ plan: TargetPlan, app: String, rolling: Bool, api: FlyMachinesAPI, ledger: [String: PushLedgerEntry],
    version: Int?
  ) async -> ([Finding], Int) {
    let target = plan.id.description
    var findings: [Finding] = []
    var passed = 0
    let remote: [String: FlyAppSecret]
    do {
      remote = Dictionary(try await api.listSecrets(app: app).map { ($0.name, $0) }) { a, _ in a }
    } catch {
      return (
        [Finding(service: target, key: "*", check: .unreachable, severity: .error, message: "cannot list the app's secrets: \(RemoteReason.of(error))")],
        0
      )
    }
    for secret in plan.secrets {
      func finding(_ check: Finding.Check, _ severity: Finding.Severity, _ message: String) {
        findings.append(
          Finding(service: secret.source.service, key: secret.source.key, check: check, severity: severity, message: message))
      }
      guard let current = remote[secret.name] else {
        finding(.targetMissing, .error, "\(target) has no \(secret.name); run hotsecrets sync \(policy.environment)")
        continue
      }
      if FlyDigest.isMD5(current.digest) {
        if current.digest.lowercased() == FlyDigest.of(secret.value) {
          passed += 1
        } else {
          finding(.targetDrift, .error, "\(target) holds another value as \(secret.name) (digest differs)")
        }
      } else if let entry = ledger[secret.name] {
        if entry.fingerprint == secret.fingerprint {
          passed += 1
        } else {
          finding(.targetDrift, .error, "\(target) was last sent another version of \(secret.name) (push ledger)")
        }
      } else {
        finding(
          .targetDrift, .warning, "\(target)'s digest for \(secret.name) is not MD5 and hotsecrets never pushed it")
      }
    }
    if rolling, let version {
      do {
        for machine in try await api.listMachines(app: app) where machine.state == "started" {
          if let running = machine.minSecretsVersion {
            if running < version {
              findings.append(
                Finding(
                  service: target, key: machine.id, check: .targetStale, severity: .error,
                  message: "machine runs secrets version \(running), the app's is \(version); run hotsecrets sync \(policy.environment) --deploy rolling"))
            } else {
              passed += 1
            }
          } else {
            findings.append(
              Finding(
                service: target, key: machine.id, check: .targetStale, severity: .warning,
                message: "Fly did not report which secrets version the machine runs"))
          }
        }
      } catch {
        findings.append(
          Finding(
            service: target, key: "*", check: .unreachable, severity: .error,
            message: "cannot list the app's machines: \(RemoteReason.of(error))"))
      }
    }
    return (findings, passed)
  }

  private func checkGitHub(
    _ plan: TargetPlan, environment: GitHubEnvironment, api: GitHubSecretsAPI, ledger: [String: PushLedgerEntry]
  ) async -> ([Finding], Int) {
    let target = plan.id.description
    var findings: [Finding] = []
    var passed = 0
    let remote: [String: GitHubSecret]
    do {
      remote = Dictionary(try await api.listSecrets(environment).map { ($0.name.uppercased(), $0) }) { a, _ in a }
    } catch {
      return (
        [Finding(service: target, key: "*", check: .unreachable, severity: .error, message: "cannot list the environment's secrets: \(RemoteReason.of(error))")],
        0
      )
    }
    for secret in plan.secrets {
      func finding(_ check: Finding.Check, _ severity: Finding.Severity, _ message: String) {
        findings.append(
          Finding(service: secret.source.service, key: secret.source.key, check: check, severity: severity, message: message))
      }
      guard let current = remote[secret.name] else {
        finding(.targetMissing, .error, "\(target) has no \(secret.name); run hotsecrets sync \(policy.environment)")
        continue
      }
      guard let entry = ledger[secret.name] else {
        finding(.targetDrift, .warning, "\(target) holds \(secret.name), but hotsecrets never pushed it: its value is unknown")
        continue
      }
      if entry.fingerprint != secret.fingerprint {
        finding(.targetDrift, .error, "\(target) was last sent another version of \(secret.name); run hotsecrets sync \(policy.environment)")
      } else if let pushed = entry.remoteUpdatedAt, RemoteTimestamp.isNewer(current.updatedAt, than: pushed) {
        finding(.targetDrift, .error, "\(secret.name) was changed in \(target) after hotsecrets pushed it (updated \(current.updatedAt))")
      } else {
        passed += 1
      }
    }
    return (findings, passed)
  }
}
