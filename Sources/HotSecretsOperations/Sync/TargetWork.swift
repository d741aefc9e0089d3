import HotSecretsModel
import HotSecretsPolicy
import HotSecretsVault

/// What the vault knows about one target before a run: the push ledger, the Fly app's secrets
/// version after hotsecrets' last bulk update, and the version each machine was restarted with.
struct TargetState: Sendable {
  let ledger: [String: PushLedgerEntry]
  let secretsVersion: Int?
  let machines: [String: Int]
}

/// The targets `sync` and `verify --targets` work on: each target's plan (with values) and state.
struct TargetWork {
  private(set) var plans: [TargetPlan]
  let states: [TargetState]

  /// Plans the policy's targets of `kinds` (only those in `only`, when given) from the current
  /// values, with `overrides` (a rotation's pending versions) in their place, and loads each
  /// target's state. Throws `SyncError` or a storage error; nothing decrypted is left unwiped then.
  /// Call `wipeValues()` when done.
  static func load(
    session: VaultSession, policy: Policy, kinds: Set<SyncTargetKind>, overrides: [ServiceKey: StoredSecret],
    only: Set<SyncTargetID>?
  ) throws -> TargetWork {
    let environment = policy.environment
    let services = SyncPlanner.services(of: policy, kinds: kinds)
    var stored = try session.database.read { tx in
      try session.currentSecrets(environment: environment, decrypting: { services.contains($0.service) }, tx: tx)
    }
    defer { for key in stored.keys { wipe(&stored[key]!.value) } }
    for (name, secret) in overrides {
      if stored[name] != nil { wipe(&stored[name]!.value) }
      stored[name] = secret
    }
    var work = TargetWork(plans: try SyncPlanner.plans(policy: policy, kinds: kinds, stored: stored), states: [])
    if let only { work.plans.removeAll { !only.contains($0.id) } }
    do {
      let plans = work.plans
      let states = try session.database.read { tx in
        try plans.map { plan in
          let target = plan.id.description
          return TargetState(
            ledger: try tx.ledger.entries(environment: environment, target: target),
            secretsVersion: try tx.ledger.secretsVersion(environment: environment, target: target),
            machines: try tx.ledger.machineVersions(environment: environment, target: target))
        }
      }
      return TargetWork(plans: plans, states: states)
    } catch {
      work.wipeValues()
      throw error
    }
  }

  /// Zeroes every planned value.
  mutating func wipeValues() {
    for index in plans.indices {
      for s in plans[index].secrets.indices { wipe(&plans[index].secrets[s].value) }
    }
  }
}
