import Foundation
import Testing

@testable import HotSecretsCompliance
@testable import HotSecretsModel
@testable import HotSecretsOperations
@testable import HotSecretsPolicy
@testable import HotSecretsVault
@testable import RemoteAPIs
@testable import VaultSQLite

/// A probe that answers from a table, recording what it was asked.
final class ScriptedProbe: LiveProbe, @unchecked Sendable {
  let answers: [LiveCheck: LiveResult]
  private let lock = NSLock()
  private var asked: [LiveCheck] = []
  init(_ answers: [LiveCheck: LiveResult]) { self.answers = answers }
  func check(_ check: LiveCheck) async -> LiveResult {
    lock.withLock { asked.append(check) }
    return answers[check] ?? .unreachable("no scripted answer")
  }
  var questions: [LiveCheck] { lock.withLock { asked } }
}

extension LiveCheck: Hashable {
  public func hash(into hasher: inout Hasher) { hasher.combine(String(describing: self)) }
}

@Suite struct PolicyCheckTests {
  let policyText = """
    version: 1
    environment: prod
    max_age_days: 90
    services:
      openai:
        provider: { kind: openai, project_id: proj_1 }
        keys:
          API_KEY: { format: '^sk-[A-Za-z0-9_-]{20,}$', rotate: provider }
      supabase:
        provider: { kind: supabase, project_ref: abcdefghijklmnopqrst }
        keys:
          SUPABASE_URL: { format: '^https://', secret: false }
          SERVICE_KEY: { rotate: provider }
          DATABASE_URL: { format: 'postgres', max_age_days: 180 }
      app:
        keys:
          OPTIONAL: { required: false }
    """

  func check(
    _ vault: TestVault, live: Bool = false, probe: LiveProbe? = nil, asOf: Date = Date(), mirror: String? = nil
  ) async throws -> VerifyReport {
    let policy = try PolicyParser.parse(policyText, file: "policies/prod.yaml")
    return try await PolicyCheck(
      session: vault.session, policy: policy, probe: probe,
      options: .init(live: live, mirrorDirectory: mirror, asOf: asOf)
    ).run()
  }

  func fill(_ vault: TestVault, except: Set<String> = [], _ overrides: [String: String] = [:]) throws {
    let values = [
      "openai/API_KEY": "sk-abcdefghijklmnopqrstuvwx",
      "supabase/SUPABASE_URL": "https://abcdefghijklmnopqrst.supabase.co",
      "supabase/SERVICE_KEY": "sb_secret_k3y", "supabase/DATABASE_URL": "postgresql://u:p@127.0.0.1:1/db",
    ].merging(overrides) { $1 }
    for (name, value) in values where !except.contains(name) {
      let parts = name.split(separator: "/").map(String.init)
      try vault.session.set(address("prod", parts[0], parts[1]), value: bytes(value))
    }
  }

  func findings(_ report: VerifyReport) -> [String] {
    report.findings.map { "\($0.service)/\($0.key) \($0.check.rawValue) \($0.severity.rawValue)" }
  }

  @Test func aCompleteVaultPasses() async throws {
    let vault = try TestVault()
    try fill(vault)
    let report = try await check(vault)
    #expect(report.findings.isEmpty)
    #expect(report.passed(strict: true))
    // present, non-empty, not a placeholder for 4 keys; format for 3; age for 3 secrets; optional key absent.
    #expect(report.passedChecks == 4 * 3 + 3 + 3 + 1)
  }

  @Test func missingAndEmpty() async throws {
    let vault = try TestVault()
    try fill(vault, except: ["supabase/SERVICE_KEY"], ["openai/API_KEY": ""])
    let report = try await check(vault)
    #expect(findings(report) == ["openai/API_KEY empty error", "supabase/SERVICE_KEY missing error"])
    #expect(!report.passed(strict: false))
  }

  @Test(arguments: [
    "changeme", "TODO", "xxx", "your-api-key-here", "<paste key>", "sk-EXAMPLEabcdefghijklmnopq", "dummy",
    "aaaaaaaaaaaa", "0000",
  ])
  func placeholders(value: String) async throws {
    let vault = try TestVault()
    try fill(vault, ["supabase/SERVICE_KEY": value])
    let report = try await check(vault)
    #expect(findings(report) == ["supabase/SERVICE_KEY placeholder error"])
    #expect(!report.findings[0].message.contains(value))
  }

  @Test(arguments: ["sb_secret_9fK2xQ", "eyJhbGciOi.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.c2ln", "a1"])
  func realisticValuesAreNotPlaceholders(value: String) async throws {
    let vault = try TestVault()
    try fill(vault, ["supabase/SERVICE_KEY": value])
    #expect(try await check(vault).findings.isEmpty)
  }

  @Test func formatIsSearchedNotAnchored() async throws {
    let vault = try TestVault()
    // DATABASE_URL's format 'postgres' is found inside the value; API_KEY's anchored one is not.
    try fill(
      vault, ["openai/API_KEY": "xsk-abcdefghijklmnopqrstuvwx", "supabase/DATABASE_URL": "jdbc:postgresql://h/db"])
    let report = try await check(vault)
    #expect(findings(report) == ["openai/API_KEY format error"])
    #expect(report.findings[0].message == "value does not match format '^sk-[A-Za-z0-9_-]{20,}$'")
  }

  @Test func ageErrorsAndWarnings() async throws {
    let clock = Clock(Date(timeIntervalSince1970: 1_750_000_000))
    let vault = try TestVault(now: { clock.now })
    try fill(vault)
    #expect(try await check(vault, asOf: clock.now + 75 * 86_400).findings.isEmpty)
    let warned = try await check(vault, asOf: clock.now + 80 * 86_400)
    #expect(findings(warned) == ["openai/API_KEY age warning", "supabase/SERVICE_KEY age warning"])
    #expect(warned.passed(strict: false))
    #expect(!warned.passed(strict: true))
    let late = try await check(vault, asOf: clock.now + 91 * 86_400)
    #expect(findings(late) == ["openai/API_KEY age error", "supabase/SERVICE_KEY age error"])
    #expect(late.findings[0].message == "current version is 91 days old (max 90); rotate it")
    // DATABASE_URL has its own 180 days; SUPABASE_URL is not secret and has no age.
    let later = try await check(vault, asOf: clock.now + 200 * 86_400)
    #expect(
      findings(later) == [
        "openai/API_KEY age error", "supabase/SERVICE_KEY age error", "supabase/DATABASE_URL age error",
      ])
  }

  @Test func undeclaredKeysWarnExceptManagementTokens() async throws {
    let vault = try TestVault()
    try fill(vault)
    try vault.session.set(address("prod", "openai", "EXTRA"), value: bytes("x1"))
    try vault.session.set(address("prod", "hotsecrets", "FLY_API_TOKEN"), value: bytes("fly-token"))
    try vault.session.set(address("staging", "openai", "OTHER_ENV"), value: bytes("x2"))
    let report = try await check(vault)
    #expect(findings(report) == ["openai/EXTRA undeclared warning"])
  }

  @Test func driftAgainstTheMirror() async throws {
    let vault = try TestVault()
    try fill(vault)
    let dir = vault.scratch.file("occ")
    try FileManager.default.createDirectory(atPath: dir + "/openai", withIntermediateDirectories: true)
    try "API_KEY=sk-different-value-0000000000\n".write(
      toFile: dir + "/openai/prod.env", atomically: true, encoding: .utf8)
    chmod(dir + "/openai/prod.env", 0o600)
    let report = try await check(vault, mirror: dir)
    #expect(
      findings(report) == [
        "openai/API_KEY drift error", "supabase/DATABASE_URL drift error", "supabase/SERVICE_KEY drift error",
        "supabase/SUPABASE_URL drift error",
      ])
    #expect(try await check(vault, mirror: vault.scratch.file("no-such-dir")).findings.isEmpty)
  }

  @Test func liveChecksAskTheRightQuestions() async throws {
    let vault = try TestVault()
    try fill(vault)
    let probe = ScriptedProbe([
      .openAI(apiKey: "sk-abcdefghijklmnopqrstuvwx"): .rejected("openai rejected the credential (HTTP 401)"),
      .supabase(url: "https://abcdefghijklmnopqrst.supabase.co", serviceKey: "sb_secret_k3y"): .accepted,
      .tcp(url: "postgresql://u:p@127.0.0.1:1/db"): .unreachable("cannot connect"),
    ])
    let report = try await check(vault, live: true, probe: probe)
    #expect(Set(probe.questions.map { "\($0)" }).count == 3)
    #expect(findings(report) == ["openai/API_KEY live error", "supabase/DATABASE_URL unreachable error"])
    #expect(try await check(vault, live: false, probe: probe).findings.isEmpty)
  }

  /// A policy of 40 services × 30 keys (more than `keysPerSlice`, so the keys are decrypted and
  /// checked in slices on several threads) with failures spread over every slice.
  func largeVault() throws -> (TestVault, Policy) {
    let vault = try TestVault()
    var policy = "version: 1\nenvironment: prod\nservices:\n"
    let root = vault.scratch.file("big")
    for s in 0..<40 {
      policy += "  svc\(s):\n    keys:\n"
      var file = ""
      for k in 0..<30 {
        policy += "      KEY_\(k): { format: '^sk-[0-9]+$' }\n"
        switch (s * 30 + k) % 97 {
        case 0: continue  // missing
        case 1: file += "KEY_\(k)=changeme\n"  // placeholder, and no format match
        case 2: file += "KEY_\(k)=pk-\(s)-\(k)\n"  // format
        default: file += "KEY_\(k)=sk-\(s * 1000 + k)\n"
        }
      }
      try FileManager.default.createDirectory(atPath: root + "/svc\(s)", withIntermediateDirectories: true)
      try file.write(toFile: root + "/svc\(s)/prod.env", atomically: false, encoding: .utf8)
      chmod(root + "/svc\(s)/prod.env", 0o600)
    }
    _ = try vault.session.importMirror(
      try MirrorReader.read(directory: root, environment: "prod"), environment: "prod", prune: false, dryRun: false)
    return (vault, try PolicyParser.parse(policy, file: "policies/prod.yaml"))
  }

  @Test func manyKeysAreCheckedInSlicesAndReportedInPolicyOrder() async throws {
    let (vault, policy) = try largeVault()
    #expect(1200 >= 2 * PolicyCheck.keysPerSlice)
    let current = try vault.session.currentVersions(environment: "prod")
    let report = try await PolicyCheck(
      session: vault.session, policy: policy, probe: nil, options: .init(), current: current
    ).run()
    var expected: [String] = []
    for s in 0..<40 {
      for k in 0..<30 {
        switch (s * 30 + k) % 97 {
        case 0: expected.append("svc\(s)/KEY_\(k) missing error")
        case 1: expected += ["svc\(s)/KEY_\(k) placeholder error", "svc\(s)/KEY_\(k) format error"]
        case 2: expected.append("svc\(s)/KEY_\(k) format error")
        default: break
        }
      }
    }
    #expect(findings(report) == expected)
    // present + non-empty + not a placeholder + format, per key, minus the failures.
    let missing = (0..<1200).filter { $0 % 97 == 0 }.count
    #expect(report.passedChecks == (1200 - missing) * 4 - report.findings.count + missing)
  }

  @Test func theFirstTamperedValueInPolicyOrderIsTheOneReported() async throws {
    let (vault, policy) = try largeVault()
    // One bad ciphertext early in the first slice's keys and one in the last slice.
    for (service, key) in [("svc1", "KEY_3"), ("svc38", "KEY_3")] {
      try vault.tamper(
        """
        UPDATE secret_versions SET ciphertext = zeroblob(40)
        WHERE secret_id = (SELECT id FROM secrets WHERE service = ? AND key = ?)
        """, [service, key])
    }
    for _ in 0..<5 {
      do {
        _ = try await PolicyCheck(session: vault.session, policy: policy, probe: nil, options: .init()).run()
        Issue.record("a tampered value was not noticed")
      } catch {
        #expect("\(error)".contains("svc1/KEY_3"), "\(error)")
      }
    }
  }

  @Test func aLiveCheckReadsAnUndeclaredSupabaseURL() async throws {
    let vault = try TestVault()
    try fill(vault)
    let policy = try PolicyParser.parse(
      """
      version: 1
      environment: prod
      services:
        supabase:
          provider: { kind: supabase, project_ref: abcdefghijklmnopqrst }
          keys:
            SERVICE_KEY: { rotate: provider }
      """, file: "policies/prod.yaml")
    let question = LiveCheck.supabase(url: "https://abcdefghijklmnopqrst.supabase.co", serviceKey: "sb_secret_k3y")
    let probe = ScriptedProbe([question: .accepted])
    let report = try await PolicyCheck(
      session: vault.session, policy: policy, probe: probe, options: .init(live: true)
    ).run()
    #expect(probe.questions == [question])
    #expect(findings(report).allSatisfy { $0.hasSuffix("undeclared warning") })
  }

  @Test func aTamperedValueInAnySliceStopsTheCheck() async throws {
    let (vault, policy) = try largeVault()
    // Swap two ciphertexts near the end (the last slice): neither authenticates in its new row.
    try vault.tamper(
      """
      UPDATE secret_versions SET ciphertext = (SELECT ciphertext FROM secret_versions ORDER BY id LIMIT 1)
      WHERE id = (SELECT max(id) FROM secret_versions)
      """)
    await #expect(throws: VaultError.self) {
      try await PolicyCheck(session: vault.session, policy: policy, probe: nil, options: .init()).run()
    }
  }
}
