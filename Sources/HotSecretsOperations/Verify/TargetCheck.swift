import Foundation
import HotSecretsModel
import HotSecretsPolicy
import HotSecretsVault
import RemoteAPIs

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
  /// Values expected instead of the current ones (a rotation verifying its pending versions).
  var overrides: [ServiceKey: StoredSecret] = [:]
  /// Only these targets; nil means all.
  var only: Set<SyncTargetID>?
  /// The deploy mode the caller used (a rotation's `--deploy`); nil means each target's policy.
  var deploy: FlyDeployMode?

  public init(session: VaultSession, policy: Policy, fly: FlyMachinesAPI?, github: GitHubSecretsAPI?) {
    self.session = session
    self.policy = policy
    self.fly = fly
    self.github = github
  }

  /// Adds the target findings to `report`. Throws `SyncError` (a name collision, an invalid GitHub
  /// name) or a storage error.
  public func run(into report: inout VerifyReport) async throws {
    var work = try TargetWork.load(
      session: session, policy: policy, kinds: Set(SyncTargetKind.allCases), overrides: overrides, only: only)
    defer { work.wipeValues() }
    var targets = Array(zip(work.plans, work.states))
    let results = await boundedMap(targets, limit: 4) { plan, state in await check(plan, state: state) }
    targets.removeAll()  // drop the shared copies so `wipeValues` zeroes the values in place
    for (findings, passed) in results {
      for finding in findings { report.record(finding) }
      report.passedChecks += passed
    }
  }

  private func check(_ plan: TargetPlan, state: TargetState) async -> ([Finding], Int) {
    let target = plan.id.description
    var findings: [Finding] = []
    var passed = 0
    func targetWide(
      _ check: Finding.Check, _ severity: Finding.Severity, key: String = "*", _ message: String,
      remedy: Finding.Remedy? = nil
    ) {
      findings.append(
        Finding(service: target, key: key, check: check, severity: severity, message: message, remedy: remedy))
    }
    var comparisons: [(PlannedSecret, TargetComparison)] = []
    var machines: [FlyMachine]?
    if let fly = plan.fly {
      guard let api = self.fly else {
        targetWide(.unreachable, .error, "no Fly API token (FLY_API_TOKEN or hotsecrets/FLY_API_TOKEN)")
        return (findings, 0)
      }
      do {
        let remote = Dictionary(try await api.listSecrets(app: fly.app).map { ($0.name, $0) }) { a, _ in a }
        comparisons = plan.secrets.map {
          ($0, TargetComparison.fly($0, remote: remote[$0.name], ledger: state.ledger[$0.name]).0)
        }
        let rolling = deploy.map { $0 == .rolling } ?? (fly.deploy == .rolling)
        if rolling, state.secretsVersion != nil {
          machines = try await api.listMachines(app: fly.app)
        }
      } catch {
        targetWide(.unreachable, .error, "cannot read the app: \(RemoteReason.of(error))")
        return (findings, 0)
      }
    } else if let environment = plan.github {
      guard let api = github else {
        targetWide(.unreachable, .error, "no GitHub token (GITHUB_TOKEN or hotsecrets/GITHUB_TOKEN)")
        return (findings, 0)
      }
      do {
        let remote = Dictionary(try await api.listSecrets(environment).map { ($0.name.uppercased(), $0) }) { a, _ in a }
        comparisons = plan.secrets.map {
          ($0, TargetComparison.github($0, remote: remote[$0.name], ledger: state.ledger[$0.name]))
        }
      } catch {
        targetWide(
          .unreachable, .error, "cannot list the environment's secrets: \(RemoteReason.of(error))")
        return (findings, 0)
      }
    }
    for (secret, comparison) in comparisons {
      func finding(_ check: Finding.Check, _ severity: Finding.Severity, _ message: String, remedy: Finding.Remedy?) {
        findings.append(
          Finding(
            service: secret.source.service, key: secret.source.key, check: check, severity: severity, message: message,
            remedy: remedy))
      }
      switch comparison {
      case .same: passed += 1
      case .missing: finding(.targetMissing, .error, "\(target) has no \(secret.name)", remedy: .sync)
      case .differs(elsewhere: true):
        finding(
          .targetDrift, .error, "\(secret.name) was changed in \(target) after hotsecrets pushed it", remedy: .sync)
      case .differs(elsewhere: false):
        finding(.targetDrift, .error, "\(target) holds another value as \(secret.name)", remedy: .sync)
      case .unknown:
        finding(
          .targetDrift, .warning,
          "\(target) holds \(secret.name), but hotsecrets never pushed it: its value is unknown",
          remedy: nil)
      }
    }
    if let machines, let version = state.secretsVersion {
      for machine in machines where machine.state == "started" {
        if let running = machine.minSecretsVersion ?? state.machines[machine.id] {
          if running < version {
            targetWide(
              .targetStale, .error, key: machine.id,
              "machine runs secrets version \(running), the app's is \(version)", remedy: .syncRolling)
          } else {
            passed += 1
          }
        } else {
          targetWide(
            .targetStale, .warning, key: machine.id,
            "hotsecrets never restarted this machine and Fly does not report its secrets version")
        }
      }
    }
    return (findings, passed)
  }
}
