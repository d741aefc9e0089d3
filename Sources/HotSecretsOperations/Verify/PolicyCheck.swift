import Foundation
import HotSecretsModel
import HotSecretsPolicy
import HotSecretsVault
import RemoteAPIs

/// Checks an environment's secrets against its policy: the pre-deploy gate.
///
/// Reads and decrypts values in memory only (nothing is written, nothing audited, except the one
/// `verify-live` audit entry naming the keys a `live` run sends), and never puts a value in a
/// finding.
public struct PolicyCheck: Sendable {
  public struct Options: Sendable {
    /// Ask each provider whether the credential works.
    public var live: Bool
    /// The mirror folder; drift is checked when it exists.
    public var mirrorDirectory: String?
    /// The moment ages are measured at (default: now); `verify --as-of` moves it.
    public var asOf: Date
    /// A key this close to its maximum age gets a warning.
    public var warnWithinDays: Int

    public init(live: Bool = false, mirrorDirectory: String? = nil, asOf: Date = Date(), warnWithinDays: Int = 14) {
      self.live = live
      self.mirrorDirectory = mirrorDirectory
      self.asOf = asOf
      self.warnWithinDays = warnWithinDays
    }
  }

  /// Services exempt from the "undeclared" warning: the vault's own management tokens.
  public static let managementService = "hotsecrets"

  let session: VaultSession
  let policy: Policy
  let probe: LiveProbe?
  let options: Options
  let current: CurrentVersions?

  /// `current`: the environment's versions when the caller already read them (e.g. while the
  /// policy was being parsed); read by `run` otherwise.
  public init(
    session: VaultSession, policy: Policy, probe: LiveProbe?, options: Options, current: CurrentVersions? = nil
  ) {
    self.session = session
    self.policy = policy
    self.probe = probe
    self.options = options
    self.current = current
  }

  /// Runs every check. Throws only when verification cannot run (storage, integrity, a bad mirror file).
  public func run() async throws -> VerifyReport {
    let environment = policy.environment
    var report = VerifyReport(environment: environment)
    let versions =
      try current.flatMap { $0.environment == environment ? $0 : nil }
      ?? session.currentVersions(environment: environment)
    let declared = policy.services.flatMap { service in service.keys.map { (service, $0) } }
    var outcomes = try await check(declared, in: versions)
    // The decrypted values live only in `outcomes`, wiped in place when done.
    defer { for index in outcomes.indices { outcomes[index].wipe() } }
    var liveChecks: [(service: String, key: String, check: LiveCheck)] = []
    if options.live {
      let index = Dictionary(uniqueKeysWithValues: outcomes.enumerated().map { ($1.name, $0) })
      for (outcome, (service, key)) in zip(outcomes, declared) {
        guard let secret = outcome.secret, !secret.value.isEmpty else { continue }
        let check = liveCheck(for: key, in: service, value: String(decoding: secret.value, as: UTF8.self)) { name in
          if let i = index[name] { return outcomes[i].secret.map { String(decoding: $0.value, as: UTF8.self) } }
          // A key the policy does not declare (e.g. the Supabase URL): decrypted for this alone.
          return try? session.openText(name, in: versions)
        }
        if let check { liveChecks.append((service.name, key.name, check)) }
      }
    }
    for outcome in outcomes {
      for finding in outcome.findings { report.record(finding) }
      report.passedChecks += outcome.passed
    }

    if options.live, let probe, !liveChecks.isEmpty {
      // Every URL a credential would go to is https (or loopback), checked before any request.
      try session.checkCredentialURLs(policy, in: versions)
      // Audited before any credential leaves the machine: one entry naming the keys.
      try session.recordLiveProbes(
        environment: environment, liveChecks.map { (ServiceKey(service: $0.service, key: $0.key), $0.check) })
      let results = await withTaskGroup(of: (Int, LiveResult).self) { group in
        for (index, item) in liveChecks.enumerated() {
          group.addTask { (index, await probe.check(item.check)) }
        }
        var results = [LiveResult](repeating: .accepted, count: liveChecks.count)
        for await (index, result) in group { results[index] = result }
        return results
      }
      for (item, result) in zip(liveChecks, results) {
        switch result {
        case .accepted: report.passedChecks += 1
        case .rejected(let reason):
          report.record(Finding(service: item.service, key: item.key, check: .live, severity: .error, message: reason))
        case .unreachable(let reason):
          report.record(
            Finding(service: item.service, key: item.key, check: .unreachable, severity: .error, message: reason))
        }
      }
    }

    if let directory = options.mirrorDirectory, FileManager.default.fileExists(atPath: directory) {
      let snapshot = try MirrorReader.read(directory: directory, environment: environment)
      let drift = try session.mirrorDrift(snapshot, environment: environment)
      for difference in drift.differences {
        let (message, remedy) = Self.words(difference, directory: directory)
        report.record(
          Finding(
            service: difference.name.service, key: difference.name.key, check: .drift, severity: .error,
            message: message, remedy: remedy))
      }
      report.passedChecks +=
        Set(versions.names).union(drift.added).count - drift.added.count - drift.changed.count - drift.missing.count
    }

    let (stillLive, orphans) = try session.database.read { tx in
      (
        try tx.journal.liveOldCredentials(environment: environment),
        try tx.journal.orphanNewCredentials(environment: environment)
      )
    }
    for orphan in orphans {
      let (name, run, mode) = (orphan.name, orphan.run, orphan.mode)
      if orphan.revocation == .live {
        report.record(
          Finding(
            service: name.service, key: name.key, check: .orphanCredential, severity: .warning,
            message:
              "rotation run \(run) could not restore every target, so its new value (version \(orphan.version ?? 0), \(mode)) is kept live: a target may run it",
            remedy: .finishRotation))
      } else {
        report.record(
          Finding(
            service: name.service, key: name.key, check: .orphanCredential, severity: .warning,
            message:
              "rotation run \(run) minted a credential at \(mode) and could not revoke it after the run failed: revoke it by hand",
            remedy: .confirmRevoked))
      }
    }
    for (name, revocation) in stillLive {
      let why =
        switch revocation {
        case .pendingOperator: "revoke it by hand"
        case .failed: "revoking it failed; revoke it by hand"
        case .deferred: "the Fly machines were only staged; once they run the new secrets it can be revoked"
        case .shared: "the same value is current under another key; revoke it once nothing uses it"
        default: "it was kept (on request, or no certain match at the provider); revoke it by hand"
        }
      report.record(
        Finding(
          service: name.service, key: name.key, check: .oldCredential, severity: .warning,
          message: "the previous credential is still live: \(why)",
          remedy: revocation == .deferred ? .finishRotation : .confirmRevoked))
    }

    // Recipients (and their MAC) and exposures read once, in one snapshot.
    let (removed, exposures) = try session.database.read { tx in
      let removed = try session.removedRecipients(tx: tx)
      return (removed, try session.exposureRecords(environment: environment, removed: removed, tx: tx))
    }
    for finding in try exposureFindings(in: versions, removed: removed) { report.record(finding) }
    report.exposures = exposures

    let declaredSet = Set(outcomes.map(\.name))
    let undeclared = versions.names.filter { !declaredSet.contains($0) && $0.service != Self.managementService }
    for name in undeclared.sorted() {
      report.record(
        Finding(
          service: name.service, key: name.key, check: .undeclared, severity: .warning,
          message: "in the vault but not in \(policy.file)"))
    }
    return report
  }

  /// One `exposed` finding per current value and removed recipient that could have read it: a
  /// warning for `exposed_max_days` after the removal, an error after that. The exposure comes from
  /// each secret's authenticated head, so a keyless writer cannot clear it.
  /// `removed`: every removed recipient, by id (an id a head names that is not there is an
  /// integrity error).
  private func exposureFindings(in versions: CurrentVersions, removed: [Int64: Exposure]) throws -> [Finding] {
    var findings: [Finding] = []
    for (name, entry) in versions.entries.filter({ !$0.value.exposed.isEmpty }).sorted(by: { $0.key < $1.key }) {
      for who in try Exposure.resolve(entry.exposed, in: removed) {
        let id = who.recipientID
        let days = Timestamp.date(from: who.removedAt).map { Timestamp.days(from: $0, to: options.asOf) } ?? 0
        let overdue = days > policy.exposedMaxDays
        findings.append(
          Finding(
            service: name.service, key: name.key, check: .exposed, severity: overdue ? .error : .warning,
            message:
              "version \(entry.version) was readable by removed recipient \(id) (\(who.name)), removed \(who.removedAt) (\(days == 1 ? "1 day" : "\(days) days") ago\(overdue ? ", over exposed_max_days \(policy.exposedMaxDays)" : ""))",
            remedy: .rotateExposed))
      }
    }
    return findings
  }

  /// What the checks of one declared key found, and its decrypted current version.
  struct KeyOutcome: Sendable {
    let name: ServiceKey
    var findings: [Finding] = []
    var passed = 0
    var secret: StoredSecret?

    mutating func wipe() {
      if secret != nil { HotSecretsModel.wipe(&secret!.value) }
    }
  }

  /// Decrypts and checks every declared key, in order. Large policies are split into one
  /// contiguous slice per core (each key's checks are independent); small ones run here.
  private func check(_ declared: [(ServicePolicy, KeyPolicy)], in versions: CurrentVersions) async throws
    -> [KeyOutcome]
  {
    let slices = min(ProcessInfo.processInfo.activeProcessorCount, declared.count / Self.keysPerSlice + 1)
    guard slices > 1 else { return try check(declared[...], in: versions) }
    let size = (declared.count + slices - 1) / slices
    // Every slice runs to its end or its first error (none is cancelled), so the error thrown is
    // the one the sequential walk would meet first, and every decrypted value is wiped.
    var results = await withTaskGroup(of: (Int, Result<[KeyOutcome], Error>).self) { group in
      for slice in 0..<slices {
        let range = slice * size..<min(declared.count, (slice + 1) * size)
        group.addTask { (slice, Result { try check(declared[range], in: versions) }) }
      }
      var results = [Result<[KeyOutcome], Error>](repeating: .success([]), count: slices)
      for await (slice, result) in group { results[slice] = result }
      return results
    }
    var outcomes: [KeyOutcome] = []
    var failure: Error?
    for result in results {
      switch result {
      case .success(let slice): outcomes += slice
      case .failure(let error): failure = failure ?? error
      }
    }
    results.removeAll()  // `outcomes` alone holds the decrypted values now, so wiping is in place
    if let failure {
      for i in outcomes.indices { outcomes[i].wipe() }
      throw failure
    }
    return outcomes
  }

  /// `check` of each key in `keys`, in order; on an error the values decrypted so far are wiped.
  private func check(_ keys: ArraySlice<(ServicePolicy, KeyPolicy)>, in versions: CurrentVersions) throws
    -> [KeyOutcome]
  {
    var outcomes: [KeyOutcome] = []
    outcomes.reserveCapacity(keys.count)
    do {
      for (service, key) in keys { outcomes.append(try check(key, of: service, in: versions)) }
    } catch {
      for i in outcomes.indices { outcomes[i].wipe() }
      throw error
    }
    return outcomes
  }

  /// Below this many declared keys a second thread costs more than it saves.
  static let keysPerSlice = 512

  /// The static checks of one key: present, empty, placeholder, format, age.
  private func check(_ key: KeyPolicy, of service: ServicePolicy, in versions: CurrentVersions) throws -> KeyOutcome {
    let name = ServiceKey(service: service.name, key: key.name)
    var outcome = KeyOutcome(name: name)
    func finding(_ check: Finding.Check, _ severity: Finding.Severity, _ message: String) {
      outcome.findings.append(
        Finding(service: service.name, key: key.name, check: check, severity: severity, message: message))
    }
    guard let secret = try session.open(name, in: versions) else {
      if key.required { finding(.missing, .error, "required key is not in the vault") } else { outcome.passed += 1 }
      return outcome
    }
    outcome.secret = secret
    outcome.passed += 1  // present
    let value = String(decoding: secret.value, as: UTF8.self)
    if value.isEmpty {
      finding(.empty, .error, "value is empty")
      return outcome
    }
    outcome.passed += 1
    if let reason = PlaceholderDetector.reason(value) {
      finding(.placeholder, .error, reason)
    } else {
      outcome.passed += 1
    }
    if let format = key.format {
      if !format.matches(value) {
        finding(.format, .error, "value does not match format '\(format.pattern)'")
      } else {
        outcome.passed += 1
      }
    }
    if let maxAge = key.effectiveMaxAgeDays(in: policy) {
      let age = Timestamp.date(from: secret.createdAt).map { Timestamp.days(from: $0, to: options.asOf) } ?? 0
      if age > maxAge {
        finding(.age, .error, "current version is \(age) days old (max \(maxAge)); rotate it")
      } else if age > maxAge - options.warnWithinDays {
        finding(.age, .warning, "current version is \(age) days old; max age \(maxAge) reached in \(maxAge - age) days")
      } else {
        outcome.passed += 1
      }
    }
    return outcome
  }

  /// The provider question for `key`, if it has one: provider-rotated credentials ask their
  /// provider; database and Redis URLs get a TCP connection.
  private func liveCheck(
    for key: KeyPolicy, in service: ServicePolicy, value: String, valueOf: (ServiceKey) -> String?
  ) -> LiveCheck? {
    let lower = value.lowercased()
    if ["postgres://", "postgresql://", "redis://", "rediss://"].contains(where: { lower.hasPrefix($0) }) {
      return .tcp(url: value)
    }
    guard key.rotate == .provider, let provider = service.provider else { return nil }
    switch provider.kind {
    case .openai:
      return .openAI(apiKey: value)
    case .supabase:
      let urlKey = provider["url_key"] ?? "SUPABASE_URL"
      let urlName = service.keys.first { $0.name == urlKey || $0.targetName == urlKey }?.name ?? urlKey
      guard let url = valueOf(ServiceKey(service: service.name, key: urlName)) else { return nil }
      return .supabase(url: url, serviceKey: value)
    case .shopify:
      return .shopify(
        shop: provider["shop"] ?? "", apiVersion: provider["api_version"] ?? "2025-10", accessToken: value)
    case .chatwoot:
      return .chatwoot(baseURL: provider["base_url"] ?? "", apiToken: value)
    }
  }

  /// A drift finding's facts and remedy: which side changed decides which command takes it.
  static func words(_ difference: MirrorDifference, directory: String) -> (String, Finding.Remedy?) {
    let since = "since the last import or render"
    switch (difference.side, difference.kind) {
    case (.fileChanged, .missing): return ("removed from \(directory) \(since)", .importFiles)
    case (.fileChanged, _): return ("the file's value changed \(since)", .importFiles)
    case (.onlyInFile, _): return ("in \(directory) but not in the vault", .importFiles)
    case (.vaultChanged, .added): return ("removed from the vault \(since), still in \(directory)", .renderFiles)
    case (.vaultChanged, _): return ("the vault's value changed \(since)", .renderFiles)
    case (.onlyInVault, _): return ("in the vault but not in \(directory)", .renderFiles)
    case (.bothChanged, _): return ("changed both in the file and in the vault \(since)", .resolveConflict)
    case (.unknown, _): return ("the file's value differs from the vault's", nil)
    }
  }

}
