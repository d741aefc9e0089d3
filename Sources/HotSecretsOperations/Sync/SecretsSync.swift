import Foundation
import HotSecretsModel
import HotSecretsPolicy
import HotSecretsVault
import RemoteAPIs

/// `hotsecrets sync`: pushes an environment's current values to the policy's Fly apps and GitHub
/// environments, a few targets at a time. Each target's pushes are recorded in the push ledger and
/// the audit trail (names and fingerprints, never values) as soon as that target finishes.
public struct SecretsSync: Sendable {
  let session: VaultSession
  let policy: Policy
  let fly: FlyMachinesAPI?
  let github: GitHubSecretsAPI?
  let options: SyncOptions
  /// Values pushed instead of the current ones (a rotation's pending versions).
  var overrides: [ServiceKey: StoredSecret] = [:]
  /// Only these targets (a rotation pushes to the targets that carry its keys); nil means all.
  var only: Set<SyncTargetID>?
  /// Set by a rotation's own pushes; any other sync refuses while a rotation is unfinished (it would
  /// put back values the rotation is about to revoke).
  var duringRotation = false

  /// `fly` / `github` nil means no credentials: those targets fail with a reason saying so.
  public init(
    session: VaultSession, policy: Policy, fly: FlyMachinesAPI?, github: GitHubSecretsAPI?, options: SyncOptions
  ) {
    self.session = session
    self.policy = policy
    self.fly = fly
    self.github = github
    self.options = options
  }

  /// Runs every target and returns their reports in policy order; `progress` gets each report as
  /// its target finishes. Throws `SyncError` (before anything is sent) or a storage error.
  public func run(progress: @Sendable (TargetReport) -> Void = { _ in }) async throws -> SyncReport {
    let environment = policy.environment
    if !duringRotation,
      let open = try session.database.read({ tx in try tx.journal.unfinished(environment: environment) })
    {
      throw RotationError.unfinished(
        environment: environment, run: open.id, startedAt: open.startedAt, by: open.actorUser, step: open.step.rawValue)
    }
    var work = try TargetWork.load(
      session: session, policy: policy, kinds: options.kinds, overrides: overrides, only: only)
    defer { work.wipeValues() }
    guard !work.plans.isEmpty else {
      throw SyncError.noTargets(environment: environment, kind: options.kinds.count == 1 ? options.kinds.first : nil)
    }
    var targets = Array(zip(work.plans, work.states))
    let reports = await boundedMap(targets, limit: options.targetConcurrency, each: { _, report in progress(report) }) {
      plan, state in
      await run(plan, state: state)
    }
    targets.removeAll()  // drop the shared copies so `wipeValues` zeroes the values in place
    return SyncReport(environment: environment, dryRun: options.dryRun, targets: reports)
  }

  /// One target: push, record the push at once (ledger, secrets version, audit), then for Fly
  /// deploy and record each restarted machine as it comes back. A failure to record is reported on
  /// the target; the other targets go on.
  private func run(_ plan: TargetPlan, state: TargetState) async -> TargetReport {
    let started = Date()
    let stamp = Timestamp.string(from: session.now())
    var report: TargetReport
    if options.dryRun, plan.fly != nil ? fly == nil : github == nil {
      report = ledgerPlan(plan, state: state)
    } else if let target = plan.fly {
      guard let fly else {
        report = TargetReport(id: plan.id)
        report.error = "no Fly API token: set FLY_API_TOKEN or store it in the vault as hotsecrets/FLY_API_TOKEN"
        return report
      }
      let push = FlyPush(plan: plan, app: target.app, api: fly, ledger: state.ledger, options: options)
      let outcome = await push.push(at: stamp)
      report = outcome.report
      let mode = options.deploy ?? target.deploy.flatMap { FlyDeployMode(rawValue: $0.rawValue) } ?? .stage
      report.deploy = mode
      recordOrReport(outcome, into: &report)
      if !options.dryRun, report.error == nil {
        switch mode {
        case .stage:
          if outcome.secretsVersion != nil { report.stagedForNextDeploy = true }
        case .rolling:
          // A run that changed nothing still finishes a restart an earlier staged sync left pending.
          if let version = outcome.secretsVersion ?? state.secretsVersion {
            var recordFailure: String?
            let restart = await push.rollingRestart(to: version, restartedAt: state.machines) { machine in
              do {
                try session.database.write { tx in
                  try tx.ledger.recordMachineVersion(
                    version, machine: machine, environment: policy.environment, target: plan.id.description,
                    at: Timestamp.string(from: session.now()))
                }
              } catch {
                recordFailure = "restarted, but the vault could not record it: \(RemoteReason.of(error))"
              }
            }
            if !restart.restarted.isEmpty || restart.failure != nil || !restart.untouched.isEmpty {
              report.restart = restart
              auditRestart(restart, version: version, target: plan.id, into: &report)
            }
            if let recordFailure { report.error = recordFailure }
          }
        }
      }
    } else if let environment = plan.github {
      guard let github else {
        report = TargetReport(id: plan.id)
        report.error = "no GitHub token: set GITHUB_TOKEN or store it in the vault as hotsecrets/GITHUB_TOKEN"
        return report
      }
      let outcome = await GitHubPush(
        plan: plan, environment: environment, api: github, ledger: state.ledger, options: options
      ).run(at: stamp)
      report = outcome.report
      recordOrReport(outcome, into: &report)
    } else {
      report = TargetReport(id: plan.id)
    }
    report.seconds = Date().timeIntervalSince(started)
    return report
  }

  /// A dry run's plan for a target it has no credentials for: what the vault holds against what the
  /// push ledger says was last sent there. The target itself is not asked, so a value changed there
  /// since is not seen (`comparedWithTarget` false says so).
  private func ledgerPlan(_ plan: TargetPlan, state: TargetState) -> TargetReport {
    var report = TargetReport(id: plan.id)
    report.comparedWithTarget = false
    for secret in plan.secrets {
      if state.ledger[secret.name]?.fingerprint == secret.fingerprint {
        report.unchanged.append(secret.name)
      } else {
        report.pushed.append(
          PushedSecret(
            name: secret.name, source: secret.source, version: secret.version, fingerprint: secret.fingerprint,
            repairedDrift: false))
      }
    }
    return report
  }

  private func recordOrReport(_ outcome: FlyPush.Outcome, into report: inout TargetReport) {
    guard !options.dryRun else { return }
    do {
      try record(outcome)
    } catch {
      report.error = "pushed, but the vault could not record it: \(RemoteReason.of(error))"
    }
  }

  /// Writes a push's ledger entries, the app's new secrets version and its audit entry in one
  /// transaction. A target where nothing was pushed or failed gets no audit entry.
  private func record(_ outcome: FlyPush.Outcome) throws {
    let report = outcome.report
    let acted = !report.pushed.isEmpty || !report.failed.isEmpty || report.error != nil
    guard acted || !outcome.ledger.isEmpty else { return }
    let environment = policy.environment
    let date = session.now()
    try session.database.write { tx in
      for entry in outcome.ledger { try tx.ledger.record(entry, environment: environment) }
      if let version = outcome.secretsVersion {
        try tx.ledger.recordSecretsVersion(
          version, environment: environment, target: report.id.description, at: Timestamp.string(from: date))
      }
      guard acted else { return }
      try AuditChain.append(
        AuditEvent(action: .sync, subject: report.id.description, detail: Self.auditDetail(report, environment)),
        actor: session.actor, keys: session.keys, at: date, in: tx)
    }
  }

  /// The audit entry of a rolling restart: which machines restarted with which secrets version.
  private func auditRestart(
    _ restart: RollingRestart, version: Int, target: SyncTargetID, into report: inout TargetReport
  ) {
    var detail: [String: CanonicalJSON] = [
      "environment": .string(policy.environment), "secrets_version": .int(version),
      "restarted": .array(restart.restarted.map { .string($0) }),
      "untouched": .array(restart.untouched.map { .string($0) }),
      "result": .string(restart.failure == nil ? "ok" : "failed"),
    ]
    if let machine = restart.failedMachine { detail["failed_machine"] = .string(machine) }
    if let failure = restart.failure { detail["failure"] = .string(failure) }
    do {
      try session.recordAudit(
        AuditEvent(action: .syncRestart, subject: target.description, detail: .object(detail)))
    } catch {
      report.error = "restarted, but the vault could not record it: \(RemoteReason.of(error))"
    }
  }

  /// The audit entry's detail: names, sources, versions and fingerprints; never a value.
  static func auditDetail(_ report: TargetReport, _ environment: String) -> CanonicalJSON {
    var fields: [String: CanonicalJSON] = [
      "environment": .string(environment),
      "result": .string(report.error == nil && report.failed.isEmpty ? "ok" : "failed"),
      "pushed": .array(
        report.pushed.map {
          .object([
            "name": .string($0.name), "source": .string($0.source.description), "version": .int($0.version),
            "fingerprint": .string($0.fingerprint), "repaired_drift": .bool($0.repairedDrift),
          ])
        }),
      "failed": .array(
        report.failed.map {
          .object([
            "name": .string($0.name), "source": .string($0.source.description), "reason": .string($0.reason),
            "category": .string($0.category),
          ])
        }),
    ]
    if let error = report.error { fields["error"] = .string(error) }
    if let version = report.secretsVersion { fields["secrets_version"] = .int(version) }
    if let mode = report.deploy { fields["deploy"] = .string(mode.rawValue) }
    return .object(fields)
  }
}
