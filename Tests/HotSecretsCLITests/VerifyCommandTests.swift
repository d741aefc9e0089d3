import Foundation
import TestSupport
import Testing

@Suite(.endToEnd) struct VerifyCommandTests {
  func policy(providers base: String = "https://example.invalid") -> String {
    """
    version: 1
    environment: prod
    max_age_days: 90
    services:
      openai:
        provider: { kind: openai, project_id: proj_1 }
        keys:
          API_KEY_PROD: { format: '^sk-[A-Za-z0-9_-]{20,}$', rotate: provider, target_name: OPENAI_API_KEY }
      supabase:
        provider: { kind: supabase, project_ref: abcdefghijklmnopqrst }
        keys:
          SUPABASE_URL: { secret: false }
          SERVICE_KEY: { rotate: provider }
      shopify:
        provider: { kind: shopify, shop: '\(base)' }
        keys:
          SHOPIFY_ACCESS_TOKEN: { format: '^shpat_[0-9a-f]{32}$', rotate: provider }
      chatwoot:
        provider: { kind: chatwoot, base_url: '\(base)' }
        keys:
          API_TOKEN: { rotate: provider }
    """
  }

  /// A vault holding good values for `policy()`, with the policy at policies/prod.yaml.
  func prepared(
    supabaseURL: String = "https://abcdefghijklmnopqrst.supabase.co", providers: String = "https://example.invalid",
    backend: Backend = .file
  ) async throws -> CLIHarness {
    let h = try await CLIHarness.withIdentityVault(backend)
    try FileManager.default.createDirectory(atPath: h.path("policies"), withIntermediateDirectories: true)
    try policy(providers: providers).write(toFile: h.path("policies/prod.yaml"), atomically: true, encoding: .utf8)
    try await h.run(["set", "prod", "openai", "API_KEY_PROD"], stdin: "sk-live-abcdefghijklmnopqrstuv")
    try await h.run(["set", "prod", "supabase", "SUPABASE_URL"], stdin: supabaseURL)
    try await h.run(["set", "prod", "supabase", "SERVICE_KEY"], stdin: "sb_secret_9fK2xQpL")
    try await h.run(
      ["set", "prod", "shopify", "SHOPIFY_ACCESS_TOKEN"], stdin: "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")
    try await h.run(["set", "prod", "chatwoot", "API_TOKEN"], stdin: "cw9fK2xQpL")
    return h
  }

  @Test(arguments: Backend.allCases) func passingVaultExitsZeroWithASummaryLine(_ backend: Backend) async throws {
    let h = try await prepared(backend: backend)
    let r = try await h.run(["verify", "prod"])
    #expect(r.status == 0, "\(r.allOutput)")
    let lines = r.stdout.split(separator: "\n")
    #expect(lines.last == "verify prod: 21 passed, 0 failed, 0 warnings")
    #expect(lines.first == "openai")
    #expect(r.stdout.contains("  ok    API_KEY_PROD"))
  }

  @Test(arguments: Backend.allCases) func failuresExitOneAndTheJSONHasTheDocumentedShape(_ backend: Backend) async throws {
    let h = try await prepared(backend: backend)
    try await h.run(["set", "prod", "openai", "API_KEY_PROD"], stdin: "changeme")
    try await h.run(["rm", "prod", "chatwoot", "API_TOKEN", "--yes"])
    try await h.run(["set", "prod", "app", "UNDECLARED"], stdin: "v")
    let text = try await h.run(["verify", "prod"])
    #expect(text.status == 1)
    #expect(text.stdout.contains("FAIL  API_KEY_PROD"))
    #expect(text.stdout.hasSuffix("verify prod: 15 passed, 3 failed, 1 warning\n"))
    #expect(!text.allOutput.contains("changeme"))

    let r = try await h.run(["verify", "prod", "--format", "json"])
    #expect(r.status == 1)
    let json = try h.json(r)
    #expect(Set(json.keys) == ["environment", "policy", "passed", "findings", "summary", "exposures"])
    #expect(json["passed"] as? Bool == false)
    #expect(json["environment"] as? String == "prod")
    let findings = try #require(json["findings"] as? [[String: String]])
    #expect(findings.allSatisfy { Set($0.keys) == ["service", "key", "check", "severity", "message"] })
    #expect(
      findings.map { "\($0["service"]!)/\($0["key"]!) \($0["check"]!) \($0["severity"]!)" } == [
        "openai/API_KEY_PROD placeholder error", "openai/API_KEY_PROD format error", "chatwoot/API_TOKEN missing error",
        "app/UNDECLARED undeclared warning",
      ])
    #expect(json["summary"] as? [String: Int] == ["passed": 15, "failed": 3, "warnings": 1])
  }

  @Test func warningsFailOnlyWhenStrict() async throws {
    let h = try await prepared()
    let asOf = Timestamp.inDays(80)
    let relaxed = try await h.run(["verify", "prod", "--as-of", asOf])
    #expect(relaxed.status == 0)
    #expect(relaxed.stdout.contains("warn  API_KEY_PROD"))
    #expect(relaxed.stdout.contains("max age 90 reached in 10 days"))
    #expect(try await h.run(["verify", "prod", "--as-of", asOf, "--strict"]).status == 1)
    let overdue = try await h.run(["verify", "prod", "--as-of", Timestamp.inDays(95)])
    #expect(overdue.status == 1)
    #expect(overdue.stdout.contains("current version is 95 days old (max 90); rotate it"))
    #expect(try await h.run(["verify", "prod", "--as-of", "tomorrow"]).status == 64)
  }

  @Test func verificationThatCannotRunExitsTwo() async throws {
    let h = try await prepared()
    try "version: 1\nenvironment: prod\nservices:\n  app:\n    keys:\n      K: { fromat: x }\n"
      .write(toFile: h.path("policies/bad.yaml"), atomically: true, encoding: .utf8)
    let bad = try await h.run(["verify", "prod", "--policy", "policies/bad.yaml"])
    #expect(bad.status == 2)
    #expect(bad.stderr.contains("policies/bad.yaml:6:12: unknown field 'fromat' in key app/K"))
    #expect(bad.stdout.isEmpty)
    let missing = try await h.run(["verify", "staging"])
    #expect(missing.status == 2)
    #expect(missing.stderr.contains("policies/staging.yaml: no such file"))
    let wrongEnvironment = try await h.run(["verify", "staging", "--policy", "policies/prod.yaml"])
    #expect(wrongEnvironment.status == 2)
    #expect(wrongEnvironment.stderr.contains("is the policy for prod, not staging"))
    let locked = try await h.run(
      ["verify", "prod"], env: ["HOTSECRETS_IDENTITY": "", "HOTSECRETS_PASSPHRASE": "nope"])
    #expect(locked.status == 2)
    // Errors come in the order of the arguments' checks: a bad date before unlocking or the policy.
    let badDate = try await h.run(
      ["verify", "prod", "--as-of", "2026-02-30", "--policy", "policies/bad.yaml"],
      env: ["HOTSECRETS_IDENTITY": "", "HOTSECRETS_PASSPHRASE": "nope"])
    #expect(badDate.status == 64)
    #expect(badDate.stderr.contains("invalid date '2026-02-30'"))
    // A bad policy wins over a vault that will not unlock (the two are read at the same time).
    let badBoth = try await h.run(
      ["verify", "prod", "--policy", "policies/bad.yaml"],
      env: ["HOTSECRETS_IDENTITY": "", "HOTSECRETS_PASSPHRASE": "nope"])
    #expect(badBoth.status == 2)
    #expect(badBoth.stderr.contains("unknown field 'fromat'"))
    let noVault = try await h.run(["verify", "prod", "--vault", "missing.db"])
    #expect(noVault.status == 2)
    #expect(noVault.stderr.contains("run `hotsecrets init`"))
  }

  @Test func driftInTheMirrorFails() async throws {
    let h = try await prepared()
    try FileManager.default.createDirectory(atPath: h.path("vault/occ/openai"), withIntermediateDirectories: true)
    try "API_KEY_PROD=sk-live-abcdefghijklmnopqrstuv\n".write(
      toFile: h.path("vault/occ/openai/prod.env"), atomically: true, encoding: .utf8)
    let r = try await h.run(["verify", "prod", "--format", "json"])
    #expect(r.status == 1)
    let checks = (try h.json(r)["findings"] as? [[String: String]] ?? []).map { $0["check"] ?? "" }
    #expect(Set(checks) == ["drift"])
    #expect(try await h.run(["verify", "prod", "--from", "elsewhere"]).status == 0)
  }

  /// Loopback provider fakes that accept the prepared vault's OpenAI, Supabase and Shopify
  /// credentials, and a harness whose vault and policy point at them.
  func liveFakes() async throws -> (FakeProviders, CLIHarness) {
    let fakes = try await FakeProviders.start()
    let h = try await prepared(supabaseURL: fakes.baseURL, providers: fakes.baseURL)
    h.environment["HOTSECRETS_OPENAI_API_URL"] = fakes.baseURL
    fakes.accept("sk-live-abcdefghijklmnopqrstuv", for: .openai)
    fakes.accept("sb_secret_9fK2xQpL", for: .supabase)
    fakes.accept("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", for: .shopify)
    return (fakes, h)
  }

  @Test func liveProbesAgainstLoopbackProviders() async throws {
    let (fakes, h) = try await liveFakes()
    defer { fakes.stop() }
    fakes.accept("cw9fK2xQpL", for: .chatwoot)
    let good = try await h.run(["verify", "prod", "--live"])
    #expect(good.status == 0, "\(good.allOutput)")
    #expect(good.stdout.hasSuffix("verify prod: 25 passed, 0 failed, 0 warnings\n"))

    try await h.run(["set", "prod", "chatwoot", "API_TOKEN"], stdin: "cw-revoked-token")
    fakes.inject(.status(500), into: .openai)
    let bad = try await h.run(["verify", "prod", "--live", "--format", "json"])
    #expect(bad.status == 1)
    let findings = (try h.json(bad)["findings"] as? [[String: String]] ?? []).map { "\($0["key"]!) \($0["check"]!)" }
    #expect(findings == ["API_KEY_PROD unreachable", "API_TOKEN live"])
    #expect(!bad.allOutput.contains("cw-revoked-token"))

    fakes.inject(.none, into: .openai)
    fakes.inject(.delay(8), into: .supabase)
    let slow = try await h.run(["verify", "prod", "--live", "--timeout", "2", "--format", "json"])
    #expect(slow.status == 1)
    let slowChecks = (try h.json(slow)["findings"] as? [[String: String]] ?? []).map { "\($0["key"]!) \($0["check"]!)" }
    #expect(slowChecks.contains("SERVICE_KEY unreachable"))
  }

  /// Every `verify --live` run leaves one `verify-live` audit entry naming the keys whose
  /// credentials went to providers; never a value. A run without --live leaves none.
  @Test func liveRunIsAuditedOnceByKeyName() async throws {
    let (fakes, h) = try await liveFakes()
    defer { fakes.stop() }
    _ = try await h.run(["set", "prod", "chatwoot", "API_TOKEN"], stdin: "cw-canary-never-logged")
    #expect(try await h.run(["verify", "prod"]).status == 0)
    let run = try await h.run(["verify", "prod", "--live", "--format", "json"])
    #expect(run.status == 1)  // the chatwoot fake does not know the canary token

    let log = try await h.run(["audit", "log", "--format", "json"])
    let entries = try #require(try h.json(log)["entries"] as? [[String: Any]])
    let live = entries.filter { $0["action"] as? String == "verify-live" }
    try #require(live.count == 1)
    #expect(live[0]["subject"] as? String == "prod")
    // The detail is an object, not a string of JSON.
    let fields = try #require(live[0]["detail"] as? [String: [String]])
    #expect(
      Set(fields["sent"] ?? [])
        == ["openai/API_KEY_PROD", "supabase/SERVICE_KEY", "shopify/SHOPIFY_ACCESS_TOKEN", "chatwoot/API_TOKEN"])
    #expect(fields["connected"] == [])
    for value in [
      "cw-canary-never-logged", "sk-live-abcdefghijklmnopqrstuv", "sb_secret_9fK2xQpL",
      "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",
    ] {
      #expect(!log.stdout.contains(value))
    }
  }
}

enum Timestamp {
  /// `YYYY-MM-DD` of the day `days` from now (UTC).
  static func inDays(_ days: Int) -> String {
    let formatter = DateFormatter()
    formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss'Z'"
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.locale = Locale(identifier: "en_US_POSIX")
    return formatter.string(from: Date().addingTimeInterval(Double(days) * 86_400 + 60))
  }
}
