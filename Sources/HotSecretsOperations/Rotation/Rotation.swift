import Foundation
import HotSecretsModel
import HotSecretsPolicy
import HotSecretsVault
import RemoteAPIs
import Sodium

/// `hotsecrets rotate`: replaces credentials at their providers and everywhere they are deployed, as
/// a journaled run: plan, create, test, push, verify, promote, revoke. Every step is written to the
/// journal and the audit trail before the next begins. A failure before promote rolls back: the
/// targets get the previous value again (it was never revoked), the new credential is revoked and
/// the pending version marked failed. An interrupted run is finished by `resume()`.
///
/// Invariants: a credential is revoked only when no target can still be using it — the old one
/// after every target verified the new one (and, for Fly, its machines restarted with it), a new
/// one only after the previous value was restored everywhere. Single-phase providers (Chatwoot)
/// kill the old credential when minting: such keys become current at once and are never rolled back.
public struct Rotation: Sendable {
  let session: VaultSession
  let policy: Policy
  /// Credential providers by kind (`openai`, `supabase`, `chatwoot`).
  let providers: [ProviderKind: CredentialProvider]
  /// Validation probes for operator-supplied credentials (Shopify) and health URLs.
  let probe: LiveProbe?
  let fly: FlyMachinesAPI?
  let github: GitHubSecretsAPI?
  var options: RotationOptions
  let progress: @Sendable (RotationProgress) -> Void
  /// Called after each step is journaled. A throw stops the run right there, as a crash would (the
  /// journal says where it stopped; `resume()` finishes it): tests inject failures at every step
  /// through it, and the debug binary's crash hook ends the process there.
  let checkpoint: @Sendable (RotationStep) throws -> Void

  public init(
    session: VaultSession, policy: Policy, providers: [ProviderKind: CredentialProvider], probe: LiveProbe?,
    fly: FlyMachinesAPI?, github: GitHubSecretsAPI?, options: RotationOptions,
    progress: @escaping @Sendable (RotationProgress) -> Void = { _ in },
    checkpoint: @escaping @Sendable (RotationStep) throws -> Void = { _ in }
  ) {
    self.session = session
    self.policy = policy
    self.providers = providers
    self.probe = probe
    self.fly = fly
    self.github = github
    self.options = options
    self.progress = progress
    self.checkpoint = checkpoint
  }

  var environment: String { policy.environment }

  /// The keys a run would rotate. Throws `RotationError` (nothing selected, unknown key, a provider
  /// without credentials — not for a dry run, which needs none) or `SyncError` (a target that cannot
  /// take the keys) before anything changes.
  public func plan() throws -> [PlannedRotation] {
    let services = SyncPlanner.services(of: policy, kinds: Set(SyncTargetKind.allCases))
    var stored = try session.database.read { tx in
      try session.currentSecrets(environment: environment, decrypting: { services.contains($0.service) }, tx: tx)
    }
    defer { for key in stored.keys { wipe(&stored[key]!.value) } }
    let plan = try RotationPlanner.plan(policy: policy, options: options, stored: stored)
    for item in plan where !options.dryRun {
      if let kind = item.mode.mintingProvider, providers[kind] == nil {
        throw RotationError.noCredentials(provider: kind.rawValue)
      }
    }
    // The same checks `sync` makes (names, sizes), before any credential is minted.
    var plans = try SyncPlanner.plans(policy: policy, kinds: Set(SyncTargetKind.allCases), stored: stored)
    for index in plans.indices {
      for s in plans[index].secrets.indices { wipe(&plans[index].secrets[s].value) }
    }
    return plan
  }

  // MARK: - Run

  /// Plans and, unless a dry run, rotates. Throws when it cannot start (nothing has changed then);
  /// failures after that are in the report.
  public func run() async throws -> RotationReport {
    // An operator's value that could never be stored (e.g. `valueTooLarge`) stops the run before
    // anything is journaled or minted.
    for (name, value) in options.operatorValues {
      try VaultSession.validate(
        value: value, for: SecretAddress(trusted: environment, service: name.service, key: name.key))
    }
    let plan = try plan()
    var report = RotationReport(environment: environment, plan: plan, outcome: .planned)
    guard !options.dryRun else { return report }
    try checkCredentialURLs()
    let lock = try session.database.rotationLock(environment: environment)
    defer { withExtendedLifetime(lock) {} }
    // Keys that need a person (Shopify, manual) without a value are reported, not journaled.
    let rotatable = plan.filter { !$0.needsOperator }
    for item in plan where item.needsOperator {
      say(item.name, .plan, .needsOperator)
    }
    guard !rotatable.isEmpty else {
      report.outcome = .failed
      report.error = "every selected key needs a value from an operator"
      return report
    }
    let runID = try begin(rotatable)
    report.run = runID
    for item in rotatable { report.targets[item.name] = item.targets }
    var items = try session.database.read { tx in try tx.journal.items(run: runID) }
    say(nil, .plan, .started(run: runID, keys: rotatable.map { "\($0.name) (\($0.mode))" }))
    for item in rotatable where item.singlePhase {
      say(item.name, .plan, .singlePhase)
    }
    try checkpoint(.plan)

    // create: two-phase keys first; single-phase ones (their old token dies now) last, so the window
    // in which targets hold a dead token is as short as possible.
    try setStep(.create, runID)
    let order = items.indices.sorted { (items[$0].singlePhase ? 1 : 0, $0) < (items[$1].singlePhase ? 1 : 0, $1) }
    for index in order {
      items[index] = try await create(items[index], planned: rotatable[index], run: runID)
    }
    try checkpoint(.create)

    // test
    try setStep(.test, runID)
    for index in items.indices where items[index].state == .created || items[index].state == .promoted {
      items[index] = try await test(items[index], run: runID)
    }
    try checkpoint(.test)
    return try await deliver(runID, &items, &report, planned: rotatable)
  }

  /// push, verify, promote and revoke for the live items of the run.
  private func deliver(
    _ runID: Int64, _ items: inout [RotationItem], _ report: inout RotationReport, planned: [PlannedRotation]
  ) async throws -> RotationReport {
    let live = items.indices.filter { [.tested, .promoted].contains(items[$0].state) }
    guard !live.isEmpty else {
      // Nothing left to deliver: every key failed at create, or was minted and then failed its test.
      let minted = items.contains { $0.newVersion != nil }
      return try finish(runID, items, &report, failedStep: minted ? .test : .create)
    }
    let targets = Set(live.flatMap { planned[$0].targets })

    // push: every pending value of the run in one sync (one bulk update per Fly app, one restart per machine)
    var overrides = try pendingOverrides(items, indices: live)
    defer { for key in overrides.keys { wipe(&overrides[key]!.value) } }
    if !targets.isEmpty {
      try setStep(.push, runID)
      do {
        let pushed = try await push(overrides: overrides, targets: targets)
        report.pushes = pushed.targets
        if !pushed.succeeded {
          let reason = "push failed: " + failures(pushed)
          say(nil, .push, .failed(reason: reason))
          return try await rollBack(runID, &items, &report, reason: reason, step: .push, targets: targets)
        }
      } catch {
        let reason = "push failed: \(RemoteReason.of(error))"
        return try await rollBack(runID, &items, &report, reason: reason, step: .push, targets: targets)
      }
    }
    for index in live where items[index].state == .tested {
      items[index].state = .pushed
      try session.journal(items[index], step: .push, environment: environment, run: runID)
      say(items[index].name, .push, .sent(targets: planned[index].targets.map(\.description)))
    }
    try checkpoint(.push)

    // verify: each target reports the new values; machines run them (rolling); health URLs answer 200
    if !targets.isEmpty {
      try setStep(.verify, runID)
      let problem: String?
      do { problem = try await verify(overrides: overrides, targets: targets) } catch {
        problem = "verify failed: \(RemoteReason.of(error))"
      }
      if let problem {
        say(nil, .verify, .failed(reason: problem))
        return try await rollBack(runID, &items, &report, reason: problem, step: .verify, targets: targets)
      }
    }
    for index in live where items[index].state == .pushed {
      items[index].state = .verified
      try session.journal(items[index], step: .verify, environment: environment, run: runID)
      say(items[index].name, .verify, .verified)
    }
    try checkpoint(.verify)

    // promote
    let toPromote = live.filter { items[$0].state == .verified }
    let promoted = try session.promote(toPromote.map { items[$0] }, environment: environment, run: runID)
    for (index, item) in zip(toPromote, promoted) {
      items[index] = item
      say(item.name, .promote, .promoted(version: item.newVersion ?? 0, previous: item.oldVersion ?? 0))
    }
    try checkpoint(.promote)
    return try await revokeAll(runID, &items, &report)
  }

  private func revokeAll(_ runID: Int64, _ items: inout [RotationItem], _ report: inout RotationReport) async throws
    -> RotationReport
  {
    try setStep(.revoke, runID)
    for index in items.indices where items[index].state == .promoted {
      items[index] = try await revokeOld(items[index], run: runID)
    }
    try checkpoint(.revoke)
    return try finish(runID, items, &report, failedStep: nil)
  }

  /// Completes or rolls back the unfinished run of the environment with the options it was started
  /// with: before promote it rolls back; after, it finishes revoking. Throws `nothingToResume` or
  /// `busy`.
  public func resume() async throws -> RotationReport {
    try checkCredentialURLs()
    let lock = try session.database.rotationLock(environment: environment)
    defer { withExtendedLifetime(lock) {} }
    guard
      let run = try session.database.read({ tx in try tx.journal.unfinished(environment: environment) })
    else { throw RotationError.nothingToResume(environment: environment) }
    var resumed = self
    resumed.options.deploy = FlyDeployMode(rawValue: run.deploy)
    resumed.options.revokeOld = RotationOptions.RevokeOld(rawValue: run.revokeOld) ?? .afterVerify
    return try await resumed.finishInterrupted(run)
  }

  private func finishInterrupted(_ run: RotationRunRecord) async throws -> RotationReport {
    var items = try session.database.read { tx in try tx.journal.items(run: run.id) }
    var report = RotationReport(environment: environment, run: run.id, plan: [], items: items, outcome: .failed)
    for item in items { report.targets[item.name] = RotationPlanner.targets(of: item.service, in: policy) }
    say(nil, run.step, .resuming(run: run.id, startedAt: run.startedAt, by: run.actorUser, stoppedAt: run.step))
    let targets = Set(items.flatMap { RotationPlanner.targets(of: $0.service, in: policy) })
    if run.step < .promote || run.step == .rollback {
      return try await rollBack(
        run.id, &items, &report, reason: "the run was interrupted at step \(run.step.rawValue)", step: run.step,
        targets: targets)
    }
    return try await revokeAll(run.id, &items, &report)
  }

  /// Records that the operator revoked `name`'s old credential (Shopify, manual keys, deferred ones)
  /// and the new credentials failed runs left live; a new value kept live loses its ciphertext then.
  public func confirmRevoked(_ name: ServiceKey) throws {
    let live = try session.database.read { tx in try tx.journal.liveNewValues(environment: environment) }
      .filter { $0.item.name == name }
    try session.database.write { tx in
      let run = try tx.journal.confirmRevoked(environment: environment, name: name)
      try AuditChain.append(
        AuditEvent(
          action: .rotateConfirmRevoked,
          subject: SecretAddress(trusted: environment, service: name.service, key: name.key).description,
          detail: .object(["run": .int(Int(run))])),
        actor: session.actor, keys: session.keys, at: session.now(), in: tx)
    }
    for (run, item) in live {
      var revoked = item
      revoked.newRevocation = .revoked
      _ = try session.failPending(
        revoked, environment: environment, run: run, reason: "its new credential was revoked by hand")
    }
  }

  // MARK: - Steps

  private func begin(_ plan: [PlannedRotation]) throws -> Int64 {
    try session.database.write { tx in
      if let open = try tx.journal.unfinished(environment: environment) {
        throw RotationError.unfinished(
          environment: environment, run: open.id, startedAt: open.startedAt, by: open.actorUser,
          step: open.step.rawValue)
      }
      let items = plan.map {
        RotationItem(
          service: $0.name.service, key: $0.name.key, mode: $0.mode, singlePhase: $0.singlePhase,
          oldVersion: $0.currentVersion, newVersion: nil, oldCredentialID: nil, newCredentialID: nil,
          state: .planned, revocation: nil, error: nil)
      }
      let date = session.now()
      let id = try tx.journal.begin(
        environment: environment, items: items, deploy: options.deploy?.rawValue ?? "policy",
        revokeOld: options.revokeOld.rawValue, actor: session.actor.user, at: Timestamp.string(from: date))
      try AuditChain.append(
        AuditEvent(
          action: .rotatePlan, subject: environment,
          detail: .object([
            "run": .int(Int(id)),
            "keys": .array(plan.map { .string("\($0.name) (\($0.mode))") }),
            "targets": .array(Set(plan.flatMap(\.targets)).sorted().map { .string($0.description) }),
          ])),
        actor: session.actor, keys: session.keys, at: date, in: tx)
      return id
    }
  }

  /// Journals `item` inside a step whose other failures are the provider's: a failed write stops the
  /// run (`resume()` finishes it) rather than pass for the provider's answer (the catch blocks of
  /// `test` and `revokeOld` rethrow it).
  private func record(_ item: RotationItem, step: RotationStep, run: Int64) throws {
    do { try session.journal(item, step: step, environment: environment, run: run) } catch {
      throw JournalWriteFailed(underlying: error)
    }
  }

  /// A journal write that failed inside a step (see `record`, and `create`'s pending value).
  private struct JournalWriteFailed: Error {
    let underlying: any Error
  }

  private func setStep(_ step: RotationStep, _ run: Int64) throws {
    try session.database.write { tx in try tx.journal.setStep(step, run: run) }
  }

  func say(_ name: ServiceKey?, _ step: RotationStep, _ event: RotationEvent) {
    progress(RotationProgress(name: name, step: step, event: event))
  }

  func address(_ item: RotationItem) -> SecretAddress {
    SecretAddress(trusted: environment, service: item.service, key: item.key)
  }

  /// Every URL of the policy (and the Supabase project URLs of the vault) a credential may be sent
  /// to is https or loopback, checked before any request (`InsecureURLError` names the setting).
  func checkCredentialURLs() throws {
    try session.checkCredentialURLs(policy, in: session.currentVersions(environment: environment))
  }

  /// The provider's view of one key: its settings and the service's current values.
  func context(for item: RotationItem) throws -> CredentialContext? {
    guard let provider = policy.service(item.service)?.provider else { return nil }
    var stored = try session.database.read { tx in
      try session.currentSecrets(environment: environment, decrypting: { $0.service == item.service }, tx: tx)
    }
    defer { for key in stored.keys { wipe(&stored[key]!.value) } }
    var values: [String: String] = [:]
    for (name, secret) in stored { values[name.key] = String(decoding: secret.value, as: UTF8.self) }
    return CredentialContext(service: item.service, key: item.key, provider: provider, serviceValues: values)
  }

  /// Mints (or takes from the operator, or generates) the new value and stores it pending (current,
  /// for a single-phase item). A credential minted but not stored is revoked at once.
  private func create(_ item: RotationItem, planned: PlannedRotation, run: Int64) async throws -> RotationItem {
    var item = item
    var mintedID: String?
    do {
      var value: [UInt8]
      switch item.mode {
      case .generate:
        value = try Self.generate(length: planned.length)
      case .provider(.shopify), .manual:
        guard let given = options.operatorValues[item.name] else {
          throw RotationError.needsOperatorValue(item.name.description)
        }
        value = given
      default:
        guard let kind = item.mode.provider, let provider = providers[kind], let context = try context(for: item) else {
          throw RotationError.noCredentials(provider: item.mode.rawValue)
        }
        let minted = try await provider.mint(context, current: context.serviceValues[item.key] ?? "")
        mintedID = minted.id
        value = Array(minted.value.utf8)
      }
      defer { wipe(&value) }
      do {
        item = try session.storePending(address(item), value: value, credentialID: mintedID, item: item, run: run)
      } catch {
        throw JournalWriteFailed(underlying: error)
      }
      say(item.name, .create, .created(version: item.newVersion ?? 0, mode: item.mode))
      if item.singlePhase { say(item.name, .create, .currentAtOnce) }
    } catch {
      // A value the vault could not store is revoked at once, journaled as failed, and then (a
      // storage failure) stops the run: `resume()` finishes it.
      let stop = error as? JournalWriteFailed
      let cause = stop?.underlying ?? error
      item.state = .failed
      item.error = "create: \(RemoteReason.of(cause))"
      say(item.name, .create, .failed(reason: RemoteReason.of(cause)))
      if let mintedID, !item.singlePhase {
        item.newCredentialID = mintedID
        item = try await revokeNew(item, run: run)
      }
      try session.journal(item, step: .create, environment: environment, run: run)
      if let stop { throw stop.underlying }
    }
    return item
  }

  /// Asks the provider whether the new value works. A rejected two-phase credential is revoked at
  /// once (nothing was pushed yet) and its version marked failed.
  private func test(_ item: RotationItem, run: Int64) async throws -> RotationItem {
    var item = item
    guard let version = item.newVersion else { return item }
    var failure: String?
    do {
      var value = try session.versionValue(address(item), version: version)
      defer { wipe(&value) }
      let text = String(decoding: value, as: UTF8.self)
      let result: LiveResult
      switch item.mode {
      case .generate, .manual:
        result = .accepted
      case .provider(.shopify):
        let shop = policy.service(item.service)?.provider
        result =
          await probe?.check(
            .shopify(shop: shop?["shop"] ?? "", apiVersion: shop?["api_version"] ?? "2025-10", accessToken: text))
          ?? .accepted
      default:
        guard let kind = item.mode.provider, let provider = providers[kind], let context = try context(for: item) else {
          throw RotationError.noCredentials(provider: item.mode.rawValue)
        }
        result = await provider.test(context, value: text)
      }
      switch result {
      case .accepted:
        if item.state == .created { item.state = .tested }
        try record(item, step: .test, run: run)
        say(item.name, .test, .accepted)
        return item
      case .rejected(let reason), .unreachable(let reason):
        failure = reason
      }
    } catch let stop as JournalWriteFailed {
      throw stop.underlying
    } catch {
      failure = RemoteReason.of(error)
    }
    let reason = failure ?? "failed"
    say(item.name, .test, .failed(reason: reason))
    if item.singlePhase {
      // The old token is gone: the new one is all there is, so it still goes out.
      item.error = "test: \(reason) (the old token no longer works: the new one is pushed anyway)"
      try session.journal(item, step: .test, environment: environment, run: run)
      return item
    }
    item.error = "test: \(reason)"
    item = try await revokeNew(item, run: run)
    item = try session.failPending(item, environment: environment, run: run, reason: item.error!)
    return item
  }

  /// Pending values of the items at `indices` (single-phase ones are already current).
  private func pendingOverrides(_ items: [RotationItem], indices: [Int]) throws -> [ServiceKey: StoredSecret] {
    var overrides: [ServiceKey: StoredSecret] = [:]
    for index in indices where !items[index].singlePhase {
      let item = items[index]
      guard let version = item.newVersion else { continue }
      let value = try session.versionValue(address(item), version: version)
      overrides[item.name] = StoredSecret(
        version: version, createdAt: Timestamp.string(from: session.now()),
        fingerprint: try session.pendingFingerprint(address(item), version: version) ?? "", value: value)
    }
    return overrides
  }

  func push(overrides: [ServiceKey: StoredSecret], targets: Set<SyncTargetID>, force: Set<ServiceKey> = [])
    async throws -> SyncReport
  {
    var syncOptions = SyncOptions(
      kinds: Set(SyncTargetKind.allCases), deploy: options.deploy, machineTimeout: options.machineTimeout,
      checkInterval: options.checkInterval)
    syncOptions.force = force
    let progress = self.progress
    syncOptions.onStep = { progress(RotationProgress(name: nil, step: .push, event: .targetStep($0))) }
    var sync = SecretsSync(session: session, policy: policy, fly: fly, github: github, options: syncOptions)
    sync.overrides = overrides
    sync.only = targets
    sync.duringRotation = true
    return try await sync.run { target in say(nil, .push, .target(target)) }
  }

  func failures(_ report: SyncReport) -> String {
    report.targets.filter { !$0.succeeded }.map { target in
      "\(target.id): "
        + (target.error ?? target.failed.first.map { "\($0.name): \($0.reason)" } ?? target.restart?.failure ?? "failed")
    }.joined(separator: "; ")
  }

  /// Nil when every target holds the new values, the machines of rolling Fly targets run them, and
  /// every health URL of a pushed Fly app answers 200.
  func verify(overrides: [ServiceKey: StoredSecret], targets: Set<SyncTargetID>) async throws -> String? {
    var check = TargetCheck(session: session, policy: policy, fly: fly, github: github)
    check.overrides = overrides
    check.only = targets
    check.deploy = options.deploy
    var verification = VerifyReport(environment: environment)
    try await check.run(into: &verification)
    let problems = verification.findings.filter { $0.severity == .error }
    if !problems.isEmpty {
      return "verify failed: "
        + problems.prefix(3).map { "\($0.service)/\($0.key): \($0.message)" }.joined(separator: "; ")
    }
    for target in policy.flyTargets where targets.contains(SyncTargetID(kind: .fly, name: target.app)) {
      guard let url = target.healthURL, let probe else { continue }
      switch await probe.check(.health(url: url)) {
      case .accepted: continue
      case .rejected(let reason), .unreachable(let reason):
        return "verify failed: fly:\(target.app) health check: \(reason)"
      }
    }
    return nil
  }

  /// The Fly apps carrying `item` whose machines were only staged: they still run the old value.
  private func stagedApps(for item: RotationItem) -> [String] {
    policy.flyTargets.filter { $0.services.contains(item.service) }.filter { target in
      (options.deploy ?? target.deploy.flatMap { FlyDeployMode(rawValue: $0.rawValue) } ?? .stage) == .stage
    }.map(\.app)
  }

  /// Handles the old credential after every target verified the new one: revoked at the provider,
  /// or kept (and said why) when something may still use it.
  func revokeOld(_ item: RotationItem, run: Int64) async throws -> RotationItem {
    var item = item
    let staged = stagedApps(for: item)
    let shared = try item.oldVersion.flatMap { old in
      try session.database.read { tx in
        try tx.secrets.sharedValue(
          SecretAddress(trusted: environment, service: item.service, key: item.key), version: old)
      }
    }
    if item.singlePhase || item.mode == .generate {
      item.revocation = .notNeeded
    } else if options.revokeOld == .never {
      item.revocation = .kept
      say(item.name, .revoke, .oldKept(.kept))
    } else if !staged.isEmpty {
      item.revocation = .deferred
      say(item.name, .revoke, .oldKept(.deferred, stagedApps: staged))
    } else if let shared {
      item.revocation = .shared
      say(item.name, .revoke, .oldKept(.shared, sharedWith: shared))
    } else if item.mode.needsOperatorValue {
      item.revocation = .pendingOperator
      say(item.name, .revoke, .oldKept(.pendingOperator))
    } else {
      item = try await revokeOldAtProvider(item, run: run)
    }
    item.state = .done
    try session.journal(item, step: .revoke, environment: environment, run: run)
    return item
  }

  /// Revokes `item`'s old credential at its provider (the id journaled first), or says why it
  /// could not: `revoked`, `kept` (no certain match) or `failed`. Does not journal the outcome.
  func revokeOldAtProvider(_ item: RotationItem, run: Int64) async throws -> RotationItem {
    var item = item
    do {
      guard let kind = item.mode.provider, let provider = providers[kind], let context = try context(for: item) else {
        throw RotationError.noCredentials(provider: item.mode.rawValue)
      }
      var id = item.oldCredentialID
      if id == nil, let old = item.oldVersion {
        id = try session.database.read { tx in
          try tx.journal.credentialID(environment: environment, name: item.name, version: old)
        }
        if id == nil {
          var oldValue = try session.versionValue(address(item), version: old)
          defer { wipe(&oldValue) }
          id = try await provider.findID(context, value: String(decoding: oldValue, as: UTF8.self))
        }
      }
      if let id {
        // Journal the id first: a crash during the call must not lose what to revoke.
        item.oldCredentialID = id
        try record(item, step: .revoke, run: run)
        try await provider.revoke(context, id: id)
        item.revocation = .revoked
        say(item.name, .revoke, .oldRevoked(mode: item.mode))
      } else {
        item.revocation = .kept
        item.error = "no certain match for the old credential at \(item.mode): it is still live; revoke it by hand"
        say(item.name, .revoke, .oldNotFound(mode: item.mode))
      }
    } catch let stop as JournalWriteFailed {
      throw stop.underlying
    } catch {
      item.revocation = .failed
      item.error = "revoke: \(RemoteReason.of(error)); the old credential is still live"
      say(item.name, .revoke, .failed(reason: RemoteReason.of(error)))
    }
    return item
  }

  /// Revokes a new credential that will not be used (a failed or rolled-back item). When it cannot,
  /// the item's error says to revoke it by hand.
  func revokeNew(_ item: RotationItem, run: Int64) async throws -> RotationItem {
    var item = item
    guard let id = item.newCredentialID else { return item }
    do {
      guard let kind = item.mode.provider, let provider = providers[kind], let context = try context(for: item) else {
        throw RotationError.noCredentials(provider: item.mode.rawValue)
      }
      try await provider.revoke(context, id: id)
      item.newRevocation = .revoked
      say(item.name, .rollback, .newRevoked(mode: item.mode))
    } catch {
      item.newRevocation = .failed
      item.error =
        (item.error.map { $0 + "; " } ?? "")
        + "revoking the new credential failed (\(RemoteReason.of(error))): revoke it by hand at \(item.mode)"
      say(item.name, .rollback, .newRevokeFailed(reason: RemoteReason.of(error)))
      try session.journal(item, step: .rollback, environment: environment, run: run)
    }
    return item
  }

  /// Puts the previous values back on every target that may not hold them (those whose digests or
  /// ledger show them are left alone; the others are sent them whatever they seem to hold), then
  /// revokes the new credentials and marks their versions failed — but only when every target holds
  /// the previous value again: a target is never left holding a revoked credential. Otherwise the new
  /// values stay live, tracked, until `settle()`.
  private func rollBack(
    _ run: Int64, _ items: inout [RotationItem], _ report: inout RotationReport, reason: String,
    step: RotationStep, targets: Set<SyncTargetID>
  ) async throws -> RotationReport {
    try setStep(.rollback, run)
    say(nil, .rollback, .rollingBack(reason: reason))
    let rolling = items.filter { !$0.singlePhase && [.created, .tested, .pushed, .verified].contains($0.state) }
    // Restore only where the evidence does not show the previous values: a target whose Fly digests,
    // or GitHub ledger and read-back, show them needs nothing. (A single-phase key already current
    // must reach every target that missed it: then every target is sent to.)
    var restoring = targets
    if !items.contains(where: { $0.singlePhase && $0.state == .promoted }) {
      restoring = await targetsToRestore(Set(rolling.map(\.name)), among: targets)
      let untouched = targets.subtracting(restoring)
      if !untouched.isEmpty { say(nil, .rollback, .restoreNotNeeded(targets: untouched.sorted().map(\.description))) }
    }
    var restored = true
    if !restoring.isEmpty {
      do {
        let restore = try await push(overrides: [:], targets: restoring, force: Set(rolling.map(\.name)))
        report.pushes += restore.targets
        restored = restore.succeeded
        if !restored { say(nil, .rollback, .restoreFailed(reason: failures(restore))) }
      } catch {
        restored = false
        say(nil, .rollback, .restoreFailed(reason: RemoteReason.of(error)))
      }
    }
    for index in items.indices {
      let item = items[index]
      if item.singlePhase, item.state == .promoted {
        // Its old token died at mint: the new one is current and stays (restored targets got it).
        items[index].state = .done
        items[index].revocation = .notNeeded
        try session.journal(items[index], step: .rollback, environment: environment, run: run)
        continue
      }
      guard !item.singlePhase, [.created, .tested, .pushed, .verified].contains(item.state) else { continue }
      if restored || item.state == .created || targets.isEmpty {
        items[index] = try await revokeNew(item, run: run)
        items[index] = try session.failPending(items[index], environment: environment, run: run, reason: reason)
      } else {
        // A target may run the new value: it stays live, its version keeps its ciphertext, and the
        // journal says so until `settle()` revokes it (no target holds it) or promotes it.
        items[index].state = .rolledBack
        items[index].newRevocation = .live
        items[index].error =
          reason
          + "; the previous value could not be restored everywhere, so the new credential was kept live (tracked until it is settled)"
        try session.journal(items[index], step: .rollback, environment: environment, run: run)
        say(item.name, .rollback, .newKeptLive)
      }
    }
    report.failedStep = step
    report.error = reason
    return try finish(run, items, &report, failedStep: step, rolledBack: true)
  }

  /// The targets among `targets` that may not hold the previous (current) value of every key in
  /// `names`: those whose check finds one missing or different, and those that cannot be read.
  private func targetsToRestore(_ names: Set<ServiceKey>, among targets: Set<SyncTargetID>) async -> Set<SyncTargetID> {
    var result: Set<SyncTargetID> = []
    for target in targets {
      var check = TargetCheck(session: session, policy: policy, fly: fly, github: github)
      check.only = [target]
      var report = VerifyReport(environment: environment)
      do { try await check.run(into: &report) } catch {
        result.insert(target)
        continue
      }
      let unsure = report.findings.contains { finding in
        finding.check == .unreachable
          || ([.targetMissing, .targetDrift].contains(finding.check)
            && names.contains(ServiceKey(service: finding.service, key: finding.key)))
      }
      if unsure { result.insert(target) }
    }
    return result
  }

  private func finish(
    _ run: Int64, _ items: [RotationItem], _ report: inout RotationReport, failedStep: RotationStep?,
    rolledBack: Bool = false
  ) throws -> RotationReport {
    report.items = items
    let done = items.filter { $0.state == .done && $0.error == nil }
    let settled: Set<Revocation> = [.revoked, .notNeeded, .pendingOperator, .deferred, .shared]
    let clean = done.filter { item in
      item.revocation.map { settled.contains($0) || ($0 == .kept && options.revokeOld == .never) } ?? false
    }
    let needsOperator = report.plan.contains(where: \.needsOperator)
    let state: String
    if done.count == items.count && clean.count == done.count && !needsOperator && !rolledBack {
      report.outcome = .completed
      state = "completed"
    } else if !done.isEmpty {
      report.outcome = .partial
      state = "failed"
    } else {
      report.outcome = rolledBack ? .rolledBack : .failed
      state = rolledBack ? "rolled-back" : "failed"
    }
    if report.failedStep == nil, let failedStep, report.outcome != .completed { report.failedStep = failedStep }
    if report.error == nil {
      report.error =
        items.compactMap(\.error).first ?? (needsOperator ? "some keys need a value from an operator" : nil)
    }
    let error = report.error
    try session.database.write { tx in
      try tx.journal.finish(
        run: run, state: state, error: error, at: Timestamp.string(from: session.now()))
      try AuditChain.append(
        AuditEvent(
          action: .rotateFinish, subject: environment,
          detail: .object([
            "run": .int(Int(run)), "result": .string(state),
            "failed_step": report.failedStep.map { .string($0.rawValue) } ?? .null,
            "error": error.map { .string($0) } ?? .null,
          ])),
        actor: session.actor, keys: session.keys, at: session.now(), in: tx)
    }
    say(nil, .done, .finished(run: run, outcome: report.outcome))
    return report
  }

  /// `length` characters of the URL-safe alphabet, uniformly from libsodium's generator.
  static func generate(length: Int) throws -> [UInt8] {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    return try (0..<length).map { _ in alphabet[Int(try RandomBytes.uniform(UInt32(alphabet.count)))] }
  }
}
