import Foundation
import GRDB

/// `hotsecrets sync`: pushes an environment's current values to the policy's Fly apps and GitHub
/// environments, a few targets at a time. Each target's pushes are recorded in the push ledger and
/// the audit trail (names and fingerprints, never values) as soon as that target finishes.
public struct SecretsSync: Sendable {
  let session: VaultSession
  let policy: Policy
  let fly: FlyMachinesAPI?
  let github: GitHubSecretsAPI?
  let options: SyncOptions

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
    let services = SyncPlanner.services(of: policy, kinds: options.kinds)
    var stored = try session.database.read { db in
      try session.currentSecrets(environment: environment, decrypting: { services.contains($0.service) }, db: db)
    }
    var plans: [TargetPlan] = []
    defer {
      for index in plans.indices {
        for s in plans[index].secrets.indices { wipe(&plans[index].secrets[s].value) }
      }
    }
    do {
      plans = try SyncPlanner.plans(policy: policy, kinds: options.kinds, stored: stored)
    } catch {
      for key in stored.keys { wipe(&stored[key]!.value) }
      throw error
    }
    for key in stored.keys { wipe(&stored[key]!.value) }
    guard !plans.isEmpty else {
      throw SyncError.noTargets(environment: environment, kind: options.kinds.count == 1 ? options.kinds.first : nil)
    }
    let (ledgers, versions) = try session.database.read { db in
      var ledgers: [SyncTargetID: [String: PushLedgerEntry]] = [:]
      var versions: [SyncTargetID: Int] = [:]
      for plan in plans {
        ledgers[plan.id] = try PushLedger.entries(environment: environment, target: plan.id.description, db: db)
        versions[plan.id] = try PushLedger.secretsVersion(environment: environment, target: plan.id.description, db: db)
      }
      return (ledgers, versions)
    }

    var reports: [TargetReport?] = Array(repeating: nil, count: plans.count)
    try await withThrowingTaskGroup(of: (Int, FlyPush.Outcome).self) { group in
      var next = 0
      let work = plans
      func submit() {
        let index = next
        let plan = work[index]
        next += 1
        let ledger = ledgers[plan.id] ?? [:]
        let version = versions[plan.id]
        group.addTask { (index, await run(plan, ledger: ledger, recordedVersion: version)) }
      }
      while next < min(work.count, max(1, options.targetConcurrency)) { submit() }
      while let (index, outcome) = try await group.next() {
        var report = outcome.report
        if !options.dryRun { try record(outcome, environment: environment) }
        report.seconds = max(report.seconds, 0)
        reports[index] = report
        progress(report)
        if next < work.count { submit() }
      }
    }
    return SyncReport(environment: environment, dryRun: options.dryRun, targets: reports.compactMap { $0 })
  }

  private func run(_ plan: TargetPlan, ledger: [String: PushLedgerEntry], recordedVersion: Int?) async
    -> FlyPush.Outcome
  {
    let started = Date()
    let stamp = Timestamp.string(from: session.now())
    var outcome: FlyPush.Outcome
    if let target = plan.fly {
      if let fly {
        outcome = await FlyPush(
          plan: plan, app: target.app, api: fly, ledger: ledger, recordedVersion: recordedVersion,
          mode: options.deploy ?? target.deploy.flatMap { FlyDeployMode(rawValue: $0.rawValue) } ?? .stage,
          options: options
        ).run(at: stamp)
      } else {
        outcome = .init(report: TargetReport(id: plan.id))
        outcome.report.error = "no Fly API token: set FLY_API_TOKEN or store it in the vault as hotsecrets/FLY_API_TOKEN"
      }
    } else if let environment = plan.github {
      if let github {
        outcome = await GitHubPush(plan: plan, environment: environment, api: github, ledger: ledger, options: options)
          .run(at: stamp)
      } else {
        outcome = .init(report: TargetReport(id: plan.id))
        outcome.report.error = "no GitHub token: set GITHUB_TOKEN or store it in the vault as hotsecrets/GITHUB_TOKEN"
      }
    } else {
      outcome = .init(report: TargetReport(id: plan.id))
    }
    outcome.report.seconds = Date().timeIntervalSince(started)
    return outcome
  }

  /// Writes a target's ledger entries, its new secrets version and its audit entry in one transaction.
  /// A target where nothing was pushed or failed leaves no entry.
  private func record(_ outcome: FlyPush.Outcome, environment: String) throws {
    let report = outcome.report
    let restart = report.restart
    let acted =
      !report.pushed.isEmpty || !report.failed.isEmpty || report.error != nil || !(restart?.restarted.isEmpty ?? true)
      || restart?.failure != nil
    guard acted || !outcome.ledger.isEmpty else { return }
    let date = session.now()
    try session.database.write { db in
      for entry in outcome.ledger { try PushLedger.record(entry, environment: environment, db: db) }
      if let version = outcome.secretsVersion {
        try PushLedger.recordSecretsVersion(
          version, environment: environment, target: report.id.description, at: Timestamp.string(from: date), db: db)
      }
      guard acted else { return }
      try AuditChain.append(
        AuditEvent(action: "sync", subject: report.id.description, detail: Self.auditDetail(report, environment)),
        actor: session.actor, keys: session.keys, at: date, in: db)
    }
  }

  /// The audit entry's detail: names, sources, versions and fingerprints; never a value.
  static func auditDetail(_ report: TargetReport, _ environment: String) -> CanonicalJSON {
    var fields: [String: CanonicalJSON] = [
      "environment": .string(environment),
      "result": .string(report.succeeded ? "ok" : "failed"),
      "pushed": .array(
        report.pushed.map {
          .object([
            "name": .string($0.name), "source": .string($0.source.description), "version": .int($0.version),
            "fingerprint": .string($0.fingerprint), "repaired_drift": .bool($0.repairedDrift),
          ])
        }),
      "failed": .array(
        report.failed.map {
          .object(["name": .string($0.name), "source": .string($0.source.description), "reason": .string($0.reason)])
        }),
    ]
    if let error = report.error { fields["error"] = .string(error) }
    if let version = report.secretsVersion { fields["secrets_version"] = .int(version) }
    if let mode = report.deploy { fields["deploy"] = .string(mode.rawValue) }
    if let restart = report.restart {
      var r: [String: CanonicalJSON] = ["restarted": .array(restart.restarted.map { .string($0) })]
      if let machine = restart.failedMachine { r["failed_machine"] = .string(machine) }
      if let failure = restart.failure { r["failure"] = .string(failure) }
      fields["restart"] = .object(r)
    }
    return .object(fields)
  }
}
