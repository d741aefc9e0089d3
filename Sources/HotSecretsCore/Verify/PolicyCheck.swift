import Foundation
import GRDB

/// Checks an environment's secrets against its policy: the pre-deploy gate.
///
/// Reads and decrypts values in memory only (nothing is written, nothing audited), and never puts
/// a value in a finding.
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

  public init(session: VaultSession, policy: Policy, probe: LiveProbe?, options: Options) {
    self.session = session
    self.policy = policy
    self.probe = probe
    self.options = options
  }

  /// Runs every check. Throws only when verification cannot run (storage, integrity, a bad mirror file).
  public func run() async throws -> VerifyReport {
    let environment = policy.environment
    var report = VerifyReport(environment: environment)
    let declaredSet = Set(declaredNames)
    let stored = try session.database.read { db in
      try session.currentSecrets(environment: environment, decrypting: { declaredSet.contains($0) }, db: db)
    }
    defer { for var secret in stored.values { wipe(&secret.value) } }
    var liveChecks: [(service: String, key: String, check: LiveCheck)] = []

    for service in policy.services {
      for key in service.keys {
        let name = ServiceKey(service: service.name, key: key.name)
        func finding(_ check: Finding.Check, _ severity: Finding.Severity, _ message: String) {
          report.record(
            Finding(service: service.name, key: key.name, check: check, severity: severity, message: message))
        }
        guard let secret = stored[name] else {
          if key.required {
            finding(.missing, .error, "required key is not in the vault")
          } else {
            report.passedChecks += 1
          }
          continue
        }
        report.passedChecks += 1  // present
        let value = String(decoding: secret.value, as: UTF8.self)
        if value.isEmpty {
          finding(.empty, .error, "value is empty")
          continue
        }
        report.passedChecks += 1
        if let reason = PlaceholderDetector.reason(value) {
          finding(.placeholder, .error, reason)
        } else {
          report.passedChecks += 1
        }
        if let format = key.format {
          if !format.matches(value) {
            finding(.format, .error, "value does not match format '\(format.pattern)'")
          } else {
            report.passedChecks += 1
          }
        }
        if let maxAge = key.effectiveMaxAgeDays(in: policy) {
          let age = Timestamp.date(from: secret.createdAt).map { Timestamp.days(from: $0, to: options.asOf) } ?? 0
          if age > maxAge {
            finding(.age, .error, "current version is \(age) days old (max \(maxAge)); rotate it")
          } else if age > maxAge - options.warnWithinDays {
            finding(
              .age, .warning, "current version is \(age) days old; max age \(maxAge) reached in \(maxAge - age) days")
          } else {
            report.passedChecks += 1
          }
        }
        if options.live, let check = liveCheck(for: key, in: service, value: value, stored: stored) {
          liveChecks.append((service.name, key.name, check))
        }
      }
    }

    if options.live, let probe, !liveChecks.isEmpty {
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
      for name in drift.added {
        report.record(
          Finding(
            service: name.service, key: name.key, check: .drift, severity: .error,
            message: "in \(directory) but not in the vault; run hotsecrets import \(environment)"))
      }
      for name in drift.changed {
        report.record(
          Finding(
            service: name.service, key: name.key, check: .drift, severity: .error,
            message: "the file's value differs from the vault's"))
      }
      for name in drift.missing {
        report.record(
          Finding(
            service: name.service, key: name.key, check: .drift, severity: .error,
            message: "in the vault but not in \(directory)"))
      }
      report.passedChecks +=
        Set(stored.keys).union(drift.added).count - drift.added.count - drift.changed.count - drift.missing.count
    }

    let (stillLive, orphans) = try session.database.read { db in
      (
        try RotationJournal.liveOldCredentials(environment: environment, db: db),
        try RotationJournal.orphanNewCredentials(environment: environment, db: db)
      )
    }
    for (name, run, mode) in orphans {
      report.record(
        Finding(
          service: name.service, key: name.key, check: .orphanCredential, severity: .warning,
          message:
            "rotation run \(run) minted a credential at \(mode) and could not revoke it after the run failed: revoke it by hand, then run hotsecrets rotate \(environment) --confirm-revoked \(name)"
        ))
    }
    for (name, revocation) in stillLive {
      let why =
        switch revocation {
        case .pendingOperator:
          "revoke it by hand, then run hotsecrets rotate \(environment) --confirm-revoked \(name)"
        case .failed: "revoking it failed; revoke it by hand, then run --confirm-revoked"
        case .deferred:
          "the Fly machines were only staged; after their next deploy revoke it by hand, then run --confirm-revoked"
        case .shared:
          "the same value is current under another key; revoke it once nothing uses it, then --confirm-revoked"
        default: "it was kept (--revoke-old never, or no certain match at the provider)"
        }
      report.record(
        Finding(
          service: name.service, key: name.key, check: .oldCredential, severity: .warning,
          message: "the previous credential is still live: \(why)"))
    }

    let declared = Set(declaredNames)
    for name in stored.keys.sorted() where !declared.contains(name) && name.service != Self.managementService {
      report.record(
        Finding(
          service: name.service, key: name.key, check: .undeclared, severity: .warning,
          message: "in the vault but not in \(policy.file)"))
    }
    return report
  }

  private var declaredNames: [ServiceKey] {
    policy.services.flatMap { service in service.keys.map { ServiceKey(service: service.name, key: $0.name) } }
  }

  /// The provider question for `key`, if it has one: provider-rotated credentials ask their
  /// provider; database and Redis URLs get a TCP connection.
  private func liveCheck(
    for key: KeyPolicy, in service: ServicePolicy, value: String, stored: [ServiceKey: StoredSecret]
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
      guard let url = stored[ServiceKey(service: service.name, key: urlName)] else { return nil }
      return .supabase(url: String(decoding: url.value, as: UTF8.self), serviceKey: value)
    case .shopify:
      return .shopify(
        shop: provider["shop"] ?? "", apiVersion: provider["api_version"] ?? "2025-10", accessToken: value)
    case .chatwoot:
      return .chatwoot(baseURL: provider["base_url"] ?? "", apiToken: value)
    }
  }
}
