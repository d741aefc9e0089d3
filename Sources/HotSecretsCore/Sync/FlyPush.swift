import Foundation

/// One Fly app's sync: list the app's secrets, send what differs in one bulk update, then stage or
/// restart the machines one at a time.
struct FlyPush: Sendable {
  let plan: TargetPlan
  let app: String
  let api: FlyMachinesAPI
  /// What hotsecrets last pushed to this app, by name.
  let ledger: [String: PushLedgerEntry]
  /// The app's secrets version after hotsecrets' last bulk update, if any.
  let recordedVersion: Int?
  let mode: FlyDeployMode
  let options: SyncOptions

  struct Outcome: Sendable {
    var report: TargetReport
    var ledger: [PushLedgerEntry] = []
    var secretsVersion: Int?
  }

  func run(at stamp: String) async -> Outcome {
    var outcome = Outcome(report: TargetReport(id: plan.id))
    outcome.report.deploy = mode
    let remote: [String: FlyAppSecret]
    do {
      remote = Dictionary(try await api.listSecrets(app: app).map { ($0.name, $0) }) { a, _ in a }
    } catch {
      outcome.report.error = "cannot list the app's secrets: \(RemoteReason.of(error))"
      return outcome
    }

    var changed: [(secret: PlannedSecret, repaired: Bool)] = []
    var comparedWithLedger = false
    for secret in plan.secrets {
      let entry = ledger[secret.name]
      guard let current = remote[secret.name] else {
        changed.append((secret, false))
        continue
      }
      let same: Bool
      if FlyDigest.isMD5(current.digest) {
        same = current.digest.lowercased() == FlyDigest.of(secret.value)
      } else {
        comparedWithLedger = true
        same =
          entry?.fingerprint == secret.fingerprint
          && !(current.updatedAt.map { remote in entry?.remoteUpdatedAt.map { RemoteTimestamp.isNewer(remote, than: $0) } ?? false } ?? false)
      }
      if same {
        outcome.report.unchanged.append(secret.name)
        if !options.dryRun, entry?.fingerprint != secret.fingerprint {
          outcome.ledger.append(ledgerEntry(secret, at: stamp, remote: current.updatedAt))
        }
      } else {
        // The ledger says this value was pushed, yet Fly holds another: someone changed it elsewhere.
        changed.append((secret, entry?.fingerprint == secret.fingerprint))
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
    if options.dryRun {
      outcome.report.pushed = pushed
      return outcome
    }

    var version: Int?
    if !changed.isEmpty {
      var values: [String: String] = [:]
      for item in changed { values[item.secret.name] = String(decoding: item.secret.value, as: UTF8.self) }
      do {
        let update = try await api.updateSecrets(app: app, values: values)
        values.removeAll()
        version = update.version
        outcome.secretsVersion = update.version
        outcome.report.secretsVersion = update.version
        outcome.report.pushed = pushed
        let after = Dictionary(update.secrets.map { ($0.name, $0.updatedAt) }) { a, _ in a }
        for item in changed {
          outcome.ledger.append(ledgerEntry(item.secret, at: stamp, remote: after[item.secret.name] ?? nil))
        }
      } catch {
        let reason = RemoteReason.of(error)
        outcome.report.error = "the bulk secrets update failed: \(reason)"
        outcome.report.failed = changed.map { FailedPush(name: $0.secret.name, source: $0.secret.source, reason: reason) }
        return outcome
      }
    }

    switch mode {
    case .stage:
      if version != nil {
        outcome.report.notes.append(
          "staged: the app's machines load the new secrets at the next deploy, or run `fly secrets deploy -a \(app)`")
      }
    case .rolling:
      // A run that changed nothing still finishes a restart an earlier staged sync left pending.
      if let target = version ?? recordedVersion {
        outcome.report.restart = await rollingRestart(to: target, onlyStale: version == nil)
        if version == nil, outcome.report.restart?.restarted.isEmpty == true, outcome.report.restart?.failure == nil {
          outcome.report.restart = nil
        }
      }
    }
    return outcome
  }

  private func ledgerEntry(_ secret: PlannedSecret, at stamp: String, remote: String?) -> PushLedgerEntry {
    PushLedgerEntry(
      target: plan.id.description, name: secret.name, source: secret.source, version: secret.version,
      fingerprint: secret.fingerprint, pushedAt: stamp, remoteUpdatedAt: remote)
  }

  /// Restarts the app's running machines one at a time with `min_secrets_version` = `version`,
  /// waiting for each to start and pass its checks. Stops at the first failure; the machines after
  /// it are untouched. With `onlyStale`, machines already at `version` are skipped.
  func rollingRestart(to version: Int, onlyStale: Bool) async -> RollingRestart {
    var result = RollingRestart()
    let machines: [FlyMachine]
    do {
      machines = try await api.listMachines(app: app).sorted { $0.id < $1.id }
    } catch {
      result.failure = "cannot list the app's machines: \(RemoteReason.of(error))"
      return result
    }
    var remaining = machines[...]
    while let machine = remaining.popFirst() {
      if machine.state == "destroyed" || machine.state == "destroying" { continue }
      if onlyStale, (machine.minSecretsVersion ?? Int.max) >= version { continue }
      guard machine.state == "started" else {
        result.untouched.append(machine.id)
        continue
      }
      if let failure = await restart(machine, version: version) {
        result.failedMachine = machine.id
        result.failure = failure
        result.untouched += remaining.filter { $0.state != "destroyed" && $0.state != "destroying" }.map(\.id)
        break
      }
      result.restarted.append(machine.id)
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
      guard !updated.checks.isEmpty || !machine.checks.isEmpty else { return nil }
      let deadline = Date().addingTimeInterval(Double(options.machineTimeout))
      while true {
        let current = try await api.machine(app: app, id: machine.id)
        if current.checksPassing { return nil }
        if Date() >= deadline {
          let failing = current.checks.filter { $0.status != "passing" }.map { "\($0.name) \($0.status)" }
          return "machine \(machine.id) started but its checks did not pass within \(options.machineTimeout) s ("
            + failing.joined(separator: ", ") + ")"
        }
        try await Task.sleep(for: .seconds(options.checkInterval))
      }
    } catch {
      return "machine \(machine.id): \(RemoteReason.of(error))"
    }
  }
}
