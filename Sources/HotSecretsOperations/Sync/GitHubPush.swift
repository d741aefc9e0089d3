import Foundation
import HotSecretsModel
import RemoteAPIs
import Sodium

/// One GitHub environment's sync: list its secrets, decide from the push ledger what is missing or
/// stale, seal each value to the environment's public key and put it (a few at a time), then list
/// again to record GitHub's `updated_at` in the ledger.
struct GitHubPush: Sendable {
  let plan: TargetPlan
  let environment: GitHubEnvironment
  let api: GitHubSecretsAPI
  let ledger: [String: PushLedgerEntry]
  let options: SyncOptions

  typealias Outcome = FlyPush.Outcome

  func run(at stamp: String) async -> Outcome {
    var outcome = Outcome(report: TargetReport(id: plan.id))
    let remote: [String: GitHubSecret]
    step(.listing)
    do {
      remote = Dictionary(try await api.listSecrets(environment).map { ($0.name.uppercased(), $0) }) { a, _ in a }
      outcome.report.reached = true
    } catch {
      outcome.report.error = "cannot list the environment's secrets: \(RemoteReason.of(error))"
      return outcome
    }
    var changed: [(secret: PlannedSecret, repaired: Bool)] = []
    for secret in plan.secrets {
      let comparison =
        options.force.contains(secret.source)
        ? .differs(elsewhere: false)
        : TargetComparison.github(secret, remote: remote[secret.name], ledger: ledger[secret.name])
      switch comparison {
      case .same: outcome.report.unchanged.append(secret.name)
      case .differs(let elsewhere): changed.append((secret, elsewhere))
      case .missing, .unknown: changed.append((secret, false))
      }
    }
    if options.dryRun || changed.isEmpty {
      outcome.report.pushed = changed.map { pushed($0.secret, repaired: $0.repaired) }
      return outcome
    }

    step(.sending(count: changed.count))
    let keys = PublicKeyCache(api: api, environment: environment)
    let results = await boundedMap(changed.map(\.secret), limit: options.gitHubConcurrency) { secret in
      await put(secret, keys: keys)
    }
    var delivered: [PlannedSecret] = []
    for (item, failure) in zip(changed, results) {
      if let failure {
        outcome.report.failed.append(
          FailedPush(
            name: item.secret.name, source: item.secret.source, reason: failure.reason, category: failure.category))
      } else {
        outcome.report.pushed.append(pushed(item.secret, repaired: item.repaired))
        delivered.append(item.secret)
      }
    }
    step(.sent(count: changed.count, failed: outcome.report.failed.count, secretsVersion: nil))
    guard !delivered.isEmpty else { return outcome }
    var after: [String: String] = [:]
    do {
      for secret in try await api.listSecrets(environment) { after[secret.name.uppercased()] = secret.updatedAt }
    } catch {
      outcome.report.notes.append(
        "pushed, but GitHub's updated_at could not be read back (\(RemoteReason.of(error))): drift made elsewhere before the next sync will not be noticed"
      )
    }
    for secret in delivered {
      outcome.ledger.append(
        PushLedgerEntry(
          target: plan.id.description, name: secret.name, source: secret.source, version: secret.version,
          fingerprint: secret.fingerprint, pushedAt: stamp, remoteUpdatedAt: after[secret.name]))
    }
    return outcome
  }

  private func step(_ step: SyncStep) { options.onStep(SyncProgress(target: plan.id, step: step)) }

  private func pushed(_ secret: PlannedSecret, repaired: Bool) -> PushedSecret {
    PushedSecret(
      name: secret.name, source: secret.source, version: secret.version, fingerprint: secret.fingerprint,
      repairedDrift: repaired)
  }

  /// Seals and puts one secret; on a 422 (GitHub's key changed) fetches the key again, once per
  /// run, and retries. Returns why it failed, or nil.
  private func put(_ secret: PlannedSecret, keys: PublicKeyCache) async -> (reason: String, category: String)? {
    do {
      var key = try await keys.current()
      for attempt in 1...2 {
        let sealed = try SealedBox.seal(secret.value, to: key.key)
        do {
          try await api.putSecret(
            environment, name: secret.name, encryptedValue: Data(sealed).base64EncodedString(), keyID: key.keyID)
          return nil
        } catch let error as RemoteError where error.status == 422 && attempt == 1 {
          let fresh = try await keys.refresh(replacing: key.keyID)
          guard fresh.keyID != key.keyID else { throw error }
          key = fresh
        }
      }
      return ("GitHub refused the value twice", "http-422")
    } catch {
      return (RemoteReason.of(error), RemoteReason.category(of: error))
    }
  }
}

/// An environment's public key, fetched once per run and at most once more when GitHub says it
/// changed, however many puts run at once.
actor PublicKeyCache {
  private let api: GitHubSecretsAPI
  private let environment: GitHubEnvironment
  private var key: Task<GitHubPublicKey, Error>?
  private var refreshed = false

  init(api: GitHubSecretsAPI, environment: GitHubEnvironment) {
    self.api = api
    self.environment = environment
  }

  func current() async throws -> GitHubPublicKey {
    if let key { return try await key.value }
    let task = Task { [api, environment] in try await api.publicKey(environment) }
    key = task
    return try await task.value
  }

  /// A key other than `keyID`: the one another put already fetched, or a new fetch (once per run).
  func refresh(replacing keyID: String) async throws -> GitHubPublicKey {
    let known = try await current()
    if known.keyID != keyID { return known }
    // Another put may have started the one refresh while this one waited: share its answer.
    if refreshed, let key { return try await key.value }
    refreshed = true
    let task = Task { [api, environment] in try await api.publicKey(environment) }
    key = task
    return try await task.value
  }
}
