import Foundation
import HotSecretsModel
import RemoteAPIs

/// One Fly app's sync, in two phases the caller records separately: `push` lists the app's secrets
/// and sends what differs in one bulk update; `deploy` then stages or restarts the machines one at a
/// time.
struct FlyPush: Sendable {
  let plan: TargetPlan
  let app: String
  let api: FlyMachinesAPI
  /// What hotsecrets last pushed to this app, by name.
  let ledger: [String: PushLedgerEntry]
  let options: SyncOptions

  /// A target's result and what the vault should record about it.
  struct Outcome: Sendable {
    var report: TargetReport
    var ledger: [PushLedgerEntry] = []
    var secretsVersion: Int?
  }

  func push(at stamp: String) async -> Outcome {
    var outcome = Outcome(report: TargetReport(id: plan.id))
    let remote: [String: FlyAppSecret]
    step(.listing)
    do {
      remote = Dictionary(try await api.listSecrets(app: app).map { ($0.name, $0) }) { a, _ in a }
      outcome.report.reached = true
    } catch {
      outcome.report.error = "cannot list the app's secrets: \(RemoteReason.of(error))"
      return outcome
    }

    var changed: [(secret: PlannedSecret, repaired: Bool)] = []
    var comparedWithLedger = false
    for secret in plan.secrets {
      let entry = ledger[secret.name]
      var (comparison, usedLedger) = TargetComparison.fly(secret, remote: remote[secret.name], ledger: entry)
      if options.force.contains(secret.source) { comparison = .differs(elsewhere: false) }
      comparedWithLedger = comparedWithLedger || usedLedger
      switch comparison {
      case .same:
        outcome.report.unchanged.append(secret.name)
        if !options.dryRun, entry?.fingerprint != secret.fingerprint {
          outcome.ledger.append(ledgerEntry(secret, at: stamp, remote: remote[secret.name]?.updatedAt))
        }
      case .differs(let elsewhere): changed.append((secret, elsewhere))
      case .missing, .unknown: changed.append((secret, false))
      }
    }
    if comparedWithLedger {
      outcome.report.notes.append("Fly's digests are not MD5 hex here: compared with the push ledger instead")
    }
    let pushed = changed.map {
      PushedSecret(
        name: $0.secret.name, source: $0.secret.source, version: $0.secret.version,
        fingerprint: $0.secret.fingerprint, repairedDrift: $0.repaired)
    }
    if options.dryRun || changed.isEmpty {
      outcome.report.pushed = pushed
      return outcome
    }
    var body: [String: String] = [:]
    for item in changed { body[item.secret.name] = String(decoding: item.secret.value, as: UTF8.self) }
    step(.sending(count: changed.count))
    do {
      let update = try await api.updateSecrets(app: app, values: body)
      step(.sent(count: changed.count, failed: 0, secretsVersion: update.version))
      outcome.secretsVersion = update.version
      outcome.report.secretsVersion = update.version
      outcome.report.pushed = pushed
      let after = Dictionary(update.secrets.map { ($0.name, $0.updatedAt) }) { a, _ in a }
      for item in changed {
        outcome.ledger.append(ledgerEntry(item.secret, at: stamp, remote: after[item.secret.name] ?? nil))
      }
    } catch {
      let reason = RemoteReason.of(error)
      step(.sent(count: changed.count, failed: changed.count, secretsVersion: nil))
      outcome.report.error = "the bulk secrets update failed: \(reason)"
      let category = RemoteReason.category(of: error)
      outcome.report.failed = changed.map {
        FailedPush(name: $0.secret.name, source: $0.secret.source, reason: reason, category: category)
      }
    }
    return outcome
  }

  private func step(_ step: SyncStep) { options.onStep(SyncProgress(target: plan.id, step: step)) }

  private func ledgerEntry(_ secret: PlannedSecret, at stamp: String, remote: String?) -> PushLedgerEntry {
    PushLedgerEntry(
      target: plan.id.description, name: secret.name, source: secret.source, version: secret.version,
      fingerprint: secret.fingerprint, pushedAt: stamp, remoteUpdatedAt: remote)
  }

  /// Restarts the app's started machines that run an older secrets version than `version` (all of
  /// them right after a bulk update), one at a time, with `min_secrets_version` = `version`, waiting
  /// for each to start and pass its checks. Stops at the first failure; the machines after it are
  /// untouched. A machine's version is what Fly reports (`min_secrets_version`, *unconfirmed*) or
  /// else what hotsecrets recorded when it last restarted it (`restartedAt`); unknown is stale.
  /// `restarted` is called after each machine that came back, so the caller can record it at once.
  func rollingRestart(
    to version: Int, restartedAt: [String: Int], restarted: (String) -> Void
  ) async -> RollingRestart {
    var result = RollingRestart()
    let machines: [FlyMachine]
    do {
      machines = try await api.listMachines(app: app).sorted { $0.id < $1.id }
    } catch {
      result.failure = "cannot list the app's machines: \(RemoteReason.of(error))"
      return result
    }
    var remaining = machines.filter { $0.state != "destroyed" && $0.state != "destroying" }[...]
    while let machine = remaining.popFirst() {
      if let running = machine.minSecretsVersion ?? restartedAt[machine.id], running >= version { continue }
      guard machine.state == "started" else {
        result.untouched.append(machine.id)
        continue
      }
      step(.restarting(machine: machine.id))
      if let failure = await restart(machine, version: version) {
        step(.machineFailed(machine: machine.id, reason: failure))
        result.failedMachine = machine.id
        result.failure = failure
        result.untouched += remaining.map(\.id)
        break
      }
      result.restarted.append(machine.id)
      restarted(machine.id)
    }
    return result
  }

  /// Restarts one machine; returns why it did not come back, or nil.
  private func restart(_ machine: FlyMachine, version: Int) async -> String? {
    do {
      let updated = try await api.updateMachine(app: app, machine: machine, minSecretsVersion: version)
      let started = try await api.waitStarted(
        app: app, machineID: machine.id, instanceID: updated.instanceID, timeout: options.machineTimeout)
      guard started else { return "machine \(machine.id) did not reach started within \(options.machineTimeout) s" }
      step(.machineState(machine: machine.id, state: "started"))
      guard !updated.checks.isEmpty || !machine.checks.isEmpty else { return nil }
      // Checks may be missing right after a restart: wait until the machine reports them passing.
      let deadline = Date().addingTimeInterval(Double(options.machineTimeout))
      while true {
        let current = try await api.machine(app: app, id: machine.id)
        if current.checksPassing {
          step(.machineState(machine: machine.id, state: "checks passing"))
          return nil
        }
        if Date() >= deadline {
          let failing = current.checks.filter { $0.status != "passing" }.map { "\($0.name) \($0.status)" }
          let detail = failing.isEmpty ? "no checks reported" : failing.joined(separator: ", ")
          return
            "machine \(machine.id) started but its checks did not pass within \(options.machineTimeout) s (\(detail))"
        }
        try await Task.sleep(for: .seconds(options.checkInterval))
      }
    } catch {
      return "machine \(machine.id): \(RemoteReason.of(error))"
    }
  }
}
