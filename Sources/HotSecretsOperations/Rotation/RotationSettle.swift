import Foundation
import HotSecretsModel
import HotSecretsPolicy
import HotSecretsVault
import RemoteAPIs

/// What `Rotation.settle()` did with each credential earlier runs left live.
public struct RotationSettlement: Sendable {
  public enum Outcome: Sendable, Equatable {
    /// A new value kept after an incomplete rollback that no target held: revoked at the provider,
    /// its version marked failed.
    case newRevoked
    /// A new value kept after an incomplete rollback that a target held: pushed to every target,
    /// verified, promoted; then the old credential handled as a run does (`revocation`).
    case promoted(Revocation?)
    /// An old credential deferred for staged Fly apps whose machines now all run the new secrets:
    /// revoked at the provider.
    case oldRevoked
    /// An old credential deferred for staged Fly apps that is current under another key too: kept.
    case oldShared(String)
    /// Not settled yet, and why (machines still on the old secrets, a target that cannot be read or
    /// written, the provider refusing). Nothing was lost: it stays tracked and `verify` still warns.
    case waiting(String)
  }

  public struct Entry: Sendable {
    public let name: ServiceKey
    public let run: Int64
    public let outcome: Outcome
  }

  public let environment: String
  public var entries: [Entry] = []

  /// True when nothing is left waiting.
  public var settled: Bool {
    !entries.contains {
      if case .waiting = $0.outcome { true } else { false }
    }
  }
}

extension Rotation {
  /// Settles what earlier runs left live, without hand work:
  /// - a new value kept after a rollback that could not restore every target: when no target holds
  ///   it (Fly digests, GitHub ledger and read-back), it is revoked and its version marked failed;
  ///   when a target holds it, it is pushed to every target, verified and promoted, and the old
  ///   credential handled as a run would;
  /// - an old credential deferred because a Fly app was only staged: when every started machine of
  ///   every Fly app carrying the key runs at least the secrets version hotsecrets last produced for
  ///   it, it is revoked at the provider; otherwise the machines still behind are named.
  /// Each change is journaled (on the run that left it) and audited. With `deferredOnly`, only the
  /// deferred old credentials (what a rolling restart may have made safe to revoke). Throws
  /// `unfinished` while a run is unfinished (resume it first) and `busy` while another rotation runs.
  public func settle(deferredOnly: Bool = false) async throws -> RotationSettlement {
    try checkCredentialURLs()
    let lock = try session.database.rotationLock(environment: environment)
    defer { withExtendedLifetime(lock) {} }
    let (open, live, deferred) = try session.database.read { tx in
      (
        try tx.journal.unfinished(environment: environment), try tx.journal.liveNewValues(environment: environment),
        try tx.journal.deferredOldCredentials(environment: environment)
      )
    }
    if let open {
      throw RotationError.unfinished(
        environment: environment, run: open.id, startedAt: open.startedAt, by: open.actorUser, step: open.step.rawValue)
    }
    var result = RotationSettlement(environment: environment)
    for (run, item) in live where !deferredOnly {
      let outcome = try await settleLive(item, run: run)
      result.entries.append(.init(name: item.name, run: run, outcome: outcome))
    }
    for (run, item) in deferred {
      let outcome = try await finishDeferred(item, run: run)
      result.entries.append(.init(name: item.name, run: run, outcome: outcome))
    }
    return result
  }

  // MARK: - New values kept live

  private func settleLive(_ item: RotationItem, run: Int64) async throws -> RotationSettlement.Outcome {
    guard let version = item.newVersion else { return .waiting("run \(run) recorded no new version") }
    let targets = Set(RotationPlanner.targets(of: item.service, in: policy))
    var value = try session.versionValue(address(item), version: version)
    defer { wipe(&value) }
    var pending = [
      item.name: StoredSecret(
        version: version, createdAt: Timestamp.string(from: session.now()),
        fingerprint: try session.pendingFingerprint(address(item), version: version) ?? "", value: value)
    ]
    defer { for key in pending.keys { wipe(&pending[key]!.value) } }
    let holders = try await holders(of: item.name, value: pending, targets: targets)
    if holders.values.allSatisfy({ $0 == false }) {
      // No target holds it: it was never deployed anywhere, so it can go — the credential that holds
      // this value, found at the provider, never an id taken from the journal.
      var unused = item
      if item.newCredentialID != nil {
        if let missing = missingProvider(item) { return .waiting(missing) }
        guard version != (try currentVersion(of: item)) else {
          return .waiting("run \(run)'s new version \(version) is current: nothing to revoke")
        }
        let id: String?
        do { id = try await credentialID(of: item, value: value) } catch {
          return .waiting("cannot look the new credential up at \(item.mode): \(RemoteReason.of(error))")
        }
        guard let id else {
          return .waiting("no credential at \(item.mode) matches run \(run)'s new value for certain")
        }
        unused.newCredentialID = id
      }
      var settled = try await revokeNew(unused, run: run)
      if settled.newRevocation == .failed {
        return .waiting(settled.error ?? "revoking the new credential failed")
      }
      // A value with no credential at a provider (generated) has nothing to revoke.
      if settled.newRevocation == .live { settled.newRevocation = .notNeeded }
      _ = try session.failPending(
        settled, environment: environment, run: run, reason: "settled: no target held the new value")
      return .newRevoked
    }
    // A target holds it (or cannot tell): the new value goes everywhere and becomes current, unless
    // the key changed since the run (the new value would then overwrite a newer one).
    let current = try currentVersion(of: item)
    guard current == item.oldVersion else {
      return .waiting(
        "a target holds run \(run)'s new value, but \(item.name) changed since (now version \(current.map(String.init) ?? "none")): settle it by hand"
      )
    }
    let pushed: SyncReport
    do { pushed = try await push(overrides: pending, targets: targets, force: [item.name]) } catch {
      return .waiting("push failed: \(RemoteReason.of(error))")
    }
    guard pushed.succeeded else { return .waiting("push failed: " + failures(pushed)) }
    let problem: String?
    do { problem = try await verify(overrides: pending, targets: targets) } catch {
      problem = "verify failed: \(RemoteReason.of(error))"
    }
    if let problem { return .waiting(problem) }
    var verified = item
    verified.state = .verified
    verified.newRevocation = nil
    verified.error = nil
    guard let promoted = try session.promote([verified], environment: environment, run: run, advanceRun: false).first
    else { return .waiting("run \(run)'s new version could not be promoted") }
    say(item.name, .promote, .promoted(version: version, previous: item.oldVersion ?? 0))
    let done = try await revokeOld(promoted, run: run)
    return .promoted(done.revocation)
  }

  /// For each target of `name`: whether it holds `value` (true), holds something else (false), or
  /// could not be read (nil).
  private func holders(of name: ServiceKey, value: [ServiceKey: StoredSecret], targets: Set<SyncTargetID>)
    async throws -> [SyncTargetID: Bool?]
  {
    var result: [SyncTargetID: Bool?] = [:]
    for target in targets {
      var check = TargetCheck(session: session, policy: policy, fly: fly, github: github)
      check.overrides = value
      check.only = [target]
      var report = VerifyReport(environment: environment)
      try await check.run(into: &report)
      if report.findings.contains(where: { $0.check == .unreachable }) {
        result[target] = .some(nil)
      } else {
        result[target] = !report.findings.contains {
          $0.service == name.service && $0.key == name.key && [.targetMissing, .targetDrift].contains($0.check)
        }
      }
    }
    return result
  }

  // MARK: - Deferred old credentials

  /// The current version of `item`'s key, from its authenticated head.
  private func currentVersion(of item: RotationItem) throws -> Int? {
    try session.currentVersions(environment: environment).entries[item.name]?.version
  }

  /// The provider's id of the credential whose secret is `value`, or nil when no match is certain.
  /// `value` comes from a ciphertext bound to its key and version; the journal's ids are not
  /// authenticated (a writer of the vault file without its keys could point one at the current
  /// credential), so what `settle` revokes is always found from the value.
  private func credentialID(of item: RotationItem, value: [UInt8]) async throws -> String? {
    guard let kind = item.mode.provider, let provider = providers[kind], let context = try context(for: item) else {
      return nil
    }
    return try await provider.findID(context, value: String(decoding: value, as: UTF8.self))
  }

  /// Why `item`'s provider cannot be asked to revoke (no credentials for it here), or nil.
  private func missingProvider(_ item: RotationItem) -> String? {
    guard let kind = item.mode.provider, providers[kind] != nil else {
      return "no credentials for the \(item.mode) provider to revoke with"
    }
    return nil
  }

  private func finishDeferred(_ item: RotationItem, run: Int64) async throws -> RotationSettlement.Outcome {
    if let missing = missingProvider(item) { return .waiting(missing) }
    let apps = policy.flyTargets.filter { $0.services.contains(item.service) }.map(\.app)
    if !apps.isEmpty {
      guard let fly else {
        return .waiting("no Fly API token to check the machines of " + apps.joined(separator: ", "))
      }
      var behind: [String] = []
      for app in apps {
        let target = SyncTargetID(kind: .fly, name: app).description
        let (version, restarted) = try session.database.read { tx in
          (
            try tx.ledger.secretsVersion(environment: environment, target: target),
            try tx.ledger.machineVersions(environment: environment, target: target)
          )
        }
        guard let version else {
          behind.append("\(target) (hotsecrets recorded no secrets version for it)")
          continue
        }
        let machines: [FlyMachine]
        do { machines = try await fly.listMachines(app: app) } catch {
          return .waiting("cannot list the machines of \(target): \(RemoteReason.of(error))")
        }
        for machine in machines where machine.state == "started" {
          let running = machine.minSecretsVersion ?? restarted[machine.id]
          if running.map({ $0 < version }) ?? true {
            behind.append(
              "\(target)/\(machine.id) (secrets version \(running.map(String.init) ?? "unknown"), needs \(version))")
          }
        }
      }
      guard behind.isEmpty else {
        return .waiting("machines still on the old secrets: " + behind.joined(separator: ", "))
      }
    }
    if let old = item.oldVersion,
      let shared = try session.database.read({ tx in try tx.secrets.sharedValue(address(item), version: old) })
    {
      return .oldShared(shared)
    }
    // The credential to revoke is the one whose secret is the old version's value (never the
    // journal's id), and never the current version's.
    guard let old = item.oldVersion, old != (try currentVersion(of: item)) else {
      return .waiting("run \(run)'s old version is current again: nothing to revoke")
    }
    var oldValue: [UInt8]
    do { oldValue = try session.versionValue(address(item), version: old) } catch {
      return .waiting("the old version \(old) no longer has its value, so its credential cannot be found for certain")
    }
    defer { wipe(&oldValue) }
    let id: String?
    do { id = try await credentialID(of: item, value: oldValue) } catch {
      return .waiting("cannot look the old credential up at \(item.mode): \(RemoteReason.of(error))")
    }
    guard let id else { return .waiting("no credential at \(item.mode) matches the old value for certain") }
    var located = item
    located.oldCredentialID = id
    var settled = try await revokeOldAtProvider(located, run: run)
    try session.journal(settled, step: .revoke, environment: environment, run: run)
    if settled.revocation == .revoked { return .oldRevoked }
    settled.revocation = settled.revocation ?? .failed
    return .waiting(settled.error ?? "the old credential was not revoked")
  }
}
