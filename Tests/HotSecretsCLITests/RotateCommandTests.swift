import Foundation
import TestSupport
import Testing

/// `hotsecrets rotate` end to end: the built binary against loopback fakes of the providers (OpenAI,
/// Supabase, Chatwoot, Shopify's probe), Fly and GitHub.
@Suite(.endToEnd) struct RotateCommandTests {
  static let app = "hotdash-production"
  static let repo = "hotrodan/hot-dash"
  static let oldOpenAI = "sk-svcacct-OLDOLDOLDOLDOLDOLDOLDOLDwxyz"
  static let oldSupabase = "sb_secret_OLDOLDOLDOLD1234"
  static let oldChatwoot = "cw-OLD-token-000000000000"
  static let oldShopify = "shpat_00000000000000000000000000000000"
  static let oldSession = "old-session-secret-value-0123456789abcdef"

  struct Fixture {
    let h: CLIHarness
    let fly: FakeFly
    let github: FakeGitHub
    let providers: FakeProviders

    func stop() {
      fly.stop()
      github.stop()
      providers.stop()
    }

    func rotate(_ arguments: [String], stdin: String? = nil, env: [String: String] = [:]) async throws -> CLIResult {
      try await h.run(["rotate", "prod"] + arguments, stdin: stdin, env: env)
    }

    /// The vault's current value of `service/key`.
    func current(_ service: String, _ key: String) async throws -> String {
      try await h.run(["get", "prod", service, key]).stdout
    }

    func flyValue(_ name: String) -> String? { fly.secretValues(app: RotateCommandTests.app)[name] }
    func githubValue(_ name: String) -> String? {
      github.secrets(repository: RotateCommandTests.repo, environment: "production")[name]
    }
  }

  static func policy(_ providers: String, healthURL: String? = nil) -> String {
    """
    version: 1
    environment: prod
    max_age_days: 90
    services:
      openai:
        provider: { kind: openai, project_id: \(FakeProviders.openAIProject) }
        keys:
          API_KEY_PROD: { rotate: provider, target_name: OPENAI_API_KEY }
      supabase:
        provider: { kind: supabase, project_ref: \(FakeProviders.supabaseProjectRef) }
        keys:
          SUPABASE_URL: { secret: false }
          SERVICE_KEY: { rotate: provider, target_name: SUPABASE_SERVICE_KEY }
      chatwoot:
        provider: { kind: chatwoot, base_url: '\(providers)' }
        keys:
          API_TOKEN: { rotate: provider, target_name: CHATWOOT_API_TOKEN }
      shopify:
        provider: { kind: shopify, shop: '\(providers)' }
        keys:
          SHOPIFY_ACCESS_TOKEN: { rotate: provider }
      app:
        keys:
          SESSION_SECRET: { rotate: generate, length: 48 }
    targets:
      fly:
        - { app: \(app), services: [openai, supabase, chatwoot, shopify, app], deploy: rolling\(healthURL.map { ", health_url: '\($0)'" } ?? "") }
      github:
        - { repository: \(repo), environment: production, services: [openai, supabase] }
    """
  }

  /// A vault holding the old credentials (registered at the fake providers), synced to the targets.
  static func fixture(healthPath: String? = nil, backend: Backend = .file) async throws -> Fixture {
    let fly = try await FakeFly.start()
    let github = try await FakeGitHub.start()
    let providers = try await FakeProviders.start()
    fly.addApp(app, machines: 2)
    try github.addEnvironment(repository: repo, environment: "production")
    providers.setAdminKey("admin-key-test")
    providers.setSupabaseToken("sbp_test_token")
    providers.registerOpenAIKey(oldOpenAI, ownerServiceAccount: "svc_old")
    providers.registerSupabaseKey(oldSupabase)
    providers.accept(oldChatwoot, for: .chatwoot)
    providers.accept(oldShopify, for: .shopify)
    let text = policy(providers.baseURL, healthURL: healthPath.map { providers.baseURL + $0 })
    let values = [
      ("openai", "API_KEY_PROD", oldOpenAI), ("supabase", "SERVICE_KEY", oldSupabase),
      ("supabase", "SUPABASE_URL", providers.baseURL), ("chatwoot", "API_TOKEN", oldChatwoot),
      ("shopify", "SHOPIFY_ACCESS_TOKEN", oldShopify), ("app", "SESSION_SECRET", oldSession),
    ]
    let h = try await CLIHarness.withIdentityVault(backend)
    try h.writePolicy(text)
    for (service, key, value) in values {
      try #require(try await h.run(["set", "prod", service, key], stdin: value).status == 0)
    }
    h.environment.merge([
      "HOTSECRETS_FLY_API_URL": fly.baseURL, "HOTSECRETS_GITHUB_API_URL": github.baseURL,
      "HOTSECRETS_OPENAI_API_URL": providers.baseURL, "HOTSECRETS_SUPABASE_API_URL": providers.baseURL,
      "FLY_API_TOKEN": "fly-test-token", "GITHUB_TOKEN": "gh-test-token", "OPENAI_ADMIN_KEY": "admin-key-test",
      "SUPABASE_ACCESS_TOKEN": "sbp_test_token", "HOTSECRETS_RETRY_BASE_DELAY": "0.05",
    ]) { $1 }
    let f = Fixture(h: h, fly: fly, github: github, providers: providers)
    let synced = try await h.run(["sync", "prod", "--deploy", "stage"])
    try #require(synced.status == 0, "\(synced.allOutput)")
    return f
  }

  func expectNoCredentials(_ r: CLIResult) {
    for value in [Self.oldOpenAI, Self.oldSupabase, Self.oldChatwoot, Self.oldShopify, Self.oldSession] {
      #expect(!r.allOutput.contains(value))
    }
  }

  @Test(arguments: Backend.allCases) func everyProviderRotatesEndToEndInOnePush(_ backend: Backend) async throws {
    let f = try await Self.fixture(backend: backend)
    defer { f.stop() }
    let updatesBefore = f.fly.bulkUpdates(app: Self.app)
    let r = try await f.rotate(
      [
        "openai/API_KEY_PROD", "supabase/SERVICE_KEY", "chatwoot/API_TOKEN", "app/SESSION_SECRET", "--deploy",
        "rolling",
        "--format", "json",
      ])
    #expect(r.status == 0, "\(r.allOutput)")
    let json = try f.h.json(r)
    #expect(json["outcome"] as? String == "completed")
    let keys = try #require(json["keys"] as? [[String: Any]])
    #expect(keys.count == 4)
    #expect(keys.allSatisfy { $0["state"] as? String == "done" && ($0["new_version"] as? Int) == 2 })
    #expect(keys.compactMap { $0["revocation"] as? String } == ["revoked", "revoked", "not-needed", "not-needed"])

    let openAI = try await f.current("openai", "API_KEY_PROD")
    let supabase = try await f.current("supabase", "SERVICE_KEY")
    let chatwoot = try await f.current("chatwoot", "API_TOKEN")
    let session = try await f.current("app", "SESSION_SECRET")
    #expect(openAI != Self.oldOpenAI && openAI.hasPrefix("sk-"))
    #expect(supabase != Self.oldSupabase)
    #expect(chatwoot != Self.oldChatwoot && f.providers.chatwootToken == chatwoot)
    #expect(session.count == 48 && session != Self.oldSession)
    // Every target holds the new values.
    #expect(f.flyValue("OPENAI_API_KEY") == openAI)
    #expect(f.flyValue("SUPABASE_SERVICE_KEY") == supabase)
    #expect(f.flyValue("CHATWOOT_API_TOKEN") == chatwoot)
    #expect(f.flyValue("SESSION_SECRET") == session)
    #expect(f.githubValue("OPENAI_API_KEY") == openAI)
    #expect(f.githubValue("SUPABASE_SERVICE_KEY") == supabase)
    // One secrets update for the whole run, one restart per machine, one key fetch per environment.
    #expect(f.fly.bulkUpdates(app: Self.app) == updatesBefore + 1)
    #expect(f.fly.restarts(app: Self.app, machine: "\(Self.app)-m1") == 1)
    #expect(f.fly.restarts(app: Self.app, machine: "\(Self.app)-m2") == 1)
    #expect(f.github.publicKeyFetches(repository: Self.repo, environment: "production") == 2)  // sync + rotate
    // The old credentials are revoked at the providers; the new ones work.
    #expect(!f.providers.isValid(Self.oldOpenAI, for: .openai))
    #expect(f.providers.isValid(openAI, for: .openai))
    #expect(!f.providers.openAIServiceAccounts().contains { $0.id == "svc_old" })
    #expect(!f.providers.isValid(Self.oldSupabase, for: .supabase))
    #expect(!f.providers.isValid(Self.oldChatwoot, for: .chatwoot))
    expectNoCredentials(r)
    for value in [openAI, supabase, chatwoot, session] { #expect(!r.allOutput.contains(value)) }
    // Progress on stderr, step by step.
    #expect(r.stderr.contains("rotate prod openai/API_KEY_PROD: create: new version 2 created (openai)"))
    #expect(r.stderr.contains("rotate prod openai/API_KEY_PROD: revoke: old credential revoked at openai"))
    // History and audit.
    let history = try await f.h.run(["history", "prod", "openai", "API_KEY_PROD", "--format", "json"])
    #expect(history.stdout.contains("\"previous\""))
    let audit = try await f.h.run(["audit", "log", "--format", "json"])
    for action in [
      "rotate-plan", "rotate-create", "rotate-test", "rotate-push", "rotate-verify", "rotate-promote",
      "rotate-revoke", "rotate-finish",
    ] {
      #expect(audit.stdout.contains("\"\(action)\""), "\(action)")
    }
    #expect(try await f.h.run(["audit", "verify"]).status == 0)
    // The next rotation of the same key revokes the account hotsecrets minted, by its journaled id.
    let again = try await f.rotate(["openai/API_KEY_PROD"])
    #expect(again.status == 0, "\(again.allOutput)")
    #expect(!f.providers.isValid(openAI, for: .openai))
  }

  @Test func dryRunPrintsThePlanAndChangesNothing() async throws {
    let f = try await Self.fixture()
    defer { f.stop() }
    let r = try await f.rotate(["--due", "--as-of", "2099-01-01", "--dry-run", "--format", "json"])
    #expect(r.status == 0, "\(r.allOutput)")
    let json = try f.h.json(r)
    let plan = try #require(json["plan"] as? [[String: Any]])
    #expect(
      plan.map { "\($0["service"]!)/\($0["key"]!)" } == [
        "openai/API_KEY_PROD", "supabase/SERVICE_KEY", "chatwoot/API_TOKEN", "app/SESSION_SECRET",
      ])
    #expect(plan[0]["provider"] as? String == "openai")
    #expect(plan[0]["targets"] as? [String] == ["fly:\(Self.app)", "github:\(Self.repo):production"])
    #expect(plan[2]["single_phase"] as? Bool == true)
    #expect(json["needs_operator"] as? [String] == ["shopify/SHOPIFY_ACCESS_TOKEN"])
    let text = try await f.rotate(["chatwoot/API_TOKEN", "--dry-run"])
    #expect(text.stdout.contains("single-phase: the old token dies at once; no rollback"))
    #expect(try await f.current("openai", "API_KEY_PROD") == Self.oldOpenAI)
    #expect(f.providers.count(.openaiCreate) == 0)
    #expect(try await f.rotate([]).status == 2)
  }

  /// A plan needs no credential at all, and nothing due says so.
  @Test func aDryRunNeedsNoCredentialsAndSaysWhenNothingIsDue() async throws {
    let f = try await Self.fixture()
    defer { f.stop() }
    let none = ["FLY_API_TOKEN": "", "GITHUB_TOKEN": "", "OPENAI_ADMIN_KEY": "", "SUPABASE_ACCESS_TOKEN": ""]
    let before = try await f.h.run(["audit", "log", "--format", "json"])
    let plan = try await f.rotate(["--due", "--as-of", "2099-01-01", "--dry-run"], env: none)
    #expect(plan.status == 0, "\(plan.allOutput)")
    #expect(plan.stdout.contains("openai/API_KEY_PROD"))
    #expect(plan.stdout.contains("rotate prod: plan of 5 keys (dry run: nothing was changed)"))
    let one = try await f.rotate(["openai/API_KEY_PROD", "--dry-run"], env: none)
    #expect(one.stdout.contains("plan of 1 key (dry run"))
    // No credential was read from the vault for it (a read would be audited).
    let after = try await f.h.run(["audit", "log", "--format", "json"])
    #expect(after.stdout == before.stdout)
    #expect(f.providers.count(.openaiCreate) == 0)
    let nothing = try await f.rotate(["--due", "--dry-run"], env: none)
    #expect(nothing.status == 0)
    #expect(nothing.stdout == "rotate prod: nothing to rotate: no key is due (dry run: nothing was changed)\n")
    // The real run still needs them.
    #expect(try await f.rotate(["openai/API_KEY_PROD"], env: none).status == 2)
  }

  @Test func aRejectedNewKeyIsRolledBackAndRevokedWhileOthersComplete() async throws {
    let f = try await Self.fixture()
    defer { f.stop() }
    f.providers.inject(.status(401), into: .openai)  // /v1/models refuses every key now
    let r = try await f.rotate(["openai/API_KEY_PROD", "app/SESSION_SECRET", "--format", "json"])
    #expect(r.status == 1, "\(r.allOutput)")
    let json = try f.h.json(r)
    #expect(json["outcome"] as? String == "partial")
    let keys = try #require(json["keys"] as? [[String: Any]])
    #expect(keys[0]["state"] as? String == "rolled-back")
    #expect((keys[0]["error"] as? String)?.hasPrefix("test: openai rejected the credential") == true)
    #expect(keys[1]["state"] as? String == "done")
    #expect(try await f.current("openai", "API_KEY_PROD") == Self.oldOpenAI)
    #expect(f.flyValue("OPENAI_API_KEY") == Self.oldOpenAI)
    // The minted service account was deleted; the old one still stands.
    #expect(f.providers.openAIServiceAccounts().map(\.id) == ["svc_old"])
    #expect(f.flyValue("SESSION_SECRET") == (try await f.current("app", "SESSION_SECRET")))
  }

  @Test(arguments: Backend.allCases) func aFailedPushRollsBackEveryTargetAndRevokesTheNewCredential(_ backend: Backend) async throws {
    let f = try await Self.fixture(backend: backend)
    defer { f.stop() }
    f.fly.inject(.failRequest(number: 1, status: 422, matching: "POST /v1/apps/\(Self.app)/secrets"))
    let r = try await f.rotate(["openai/API_KEY_PROD", "--format", "json"])
    #expect(r.status == 1, "\(r.allOutput)")
    let json = try f.h.json(r)
    #expect(json["outcome"] as? String == "rolled-back")
    #expect(json["failed_step"] as? String == "push")
    // GitHub had received the new key: it holds the old one again, which was never revoked.
    #expect(f.githubValue("OPENAI_API_KEY") == Self.oldOpenAI)
    #expect(f.flyValue("OPENAI_API_KEY") == Self.oldOpenAI)
    #expect(f.providers.isValid(Self.oldOpenAI, for: .openai))
    #expect(f.providers.openAIServiceAccounts().map(\.id) == ["svc_old"])
    #expect(try await f.current("openai", "API_KEY_PROD") == Self.oldOpenAI)
    let history = try await f.h.run(["history", "prod", "openai", "API_KEY_PROD", "--format", "json"])
    #expect(history.stdout.contains("\"failed\""))
    let audit = try await f.h.run(["audit", "log", "--format", "json"])
    #expect(audit.stdout.contains("\"rotate-rollback\""))
  }

  @Test func aGitHubPushFailureRollsBackFlyToo() async throws {
    let f = try await Self.fixture()
    defer { f.stop() }
    f.github.inject(.failRequest(number: 1, status: 422, matching: "PUT "))
    let r = try await f.rotate(["supabase/SERVICE_KEY"])
    #expect(r.status == 1, "\(r.allOutput)")
    #expect(f.flyValue("SUPABASE_SERVICE_KEY") == Self.oldSupabase)
    #expect(f.githubValue("SUPABASE_SERVICE_KEY") == Self.oldSupabase)
    #expect(f.providers.supabaseKeys().map(\.value) == [Self.oldSupabase])
  }

  @Test func aMachineThatNeverStartsRollsBackAndTheRestoreReachesTheOthers() async throws {
    let f = try await Self.fixture()
    defer { f.stop() }
    f.fly.neverStarts(app: Self.app, machine: "\(Self.app)-m1")
    let r = try await f.rotate([
      "openai/API_KEY_PROD", "--deploy", "rolling", "--machine-timeout", "1", "--format", "json",
    ])
    #expect(r.status == 1, "\(r.allOutput)")
    let json = try f.h.json(r)
    #expect(json["outcome"] as? String == "rolled-back")
    #expect((json["error"] as? String)?.contains("did not reach started within 1 s") == true)
    // The app's newest secrets are the old ones again, so a machine that starts later loads them;
    // the machine that never came back was not touched again; the other one restarted once.
    #expect(f.flyValue("OPENAI_API_KEY") == Self.oldOpenAI)
    #expect(f.fly.restarts(app: Self.app, machine: "\(Self.app)-m1") == 1)
    #expect(f.fly.restarts(app: Self.app, machine: "\(Self.app)-m2") == 1)
    #expect(f.providers.isValid(Self.oldOpenAI, for: .openai))
    #expect(f.providers.openAIServiceAccounts().map(\.id) == ["svc_old"])
  }

  @Test func whenTheOldValueCannotBeRestoredTheNewCredentialStaysLive() async throws {
    let f = try await Self.fixture()
    defer { f.stop() }
    f.github.inject(.failRequest(number: 1, status: 422, matching: "PUT "))
    f.fly.inject(.failRequest(number: 2, status: 422, matching: "POST /v1/apps/\(Self.app)/secrets"))
    let r = try await f.rotate(["openai/API_KEY_PROD", "--format", "json"])
    #expect(r.status == 1, "\(r.allOutput)")
    let keys = try #require(try f.h.json(r)["keys"] as? [[String: Any]])
    #expect((keys[0]["error"] as? String)?.contains("so the new credential was kept live") == true)
    #expect(keys[0]["new_revocation"] as? String == "live")
    // Fly still holds the new key (the restore was refused): that key must keep working.
    let minted = f.providers.openAIServiceAccounts().filter { $0.id != "svc_old" }
    #expect(minted.count == 1)
    let onFly = try #require(f.flyValue("OPENAI_API_KEY"))
    #expect(onFly != Self.oldOpenAI)
    #expect(f.providers.isValid(onFly, for: .openai))
    // The kept value is tracked: verify warns, naming the run, and says how to settle it.
    let warned = try await f.h.run(["verify", "prod", "--from", "none"])
    #expect(warned.stdout.contains("orphan-credential"), "\(warned.allOutput)")
    #expect(warned.stdout.contains("kept live: a target may run it; run hotsecrets rotate prod --finish"))
    // --finish: Fly holds the new value, so it goes everywhere and becomes current; the old
    // credential is revoked.
    let finished = try await f.rotate(["--finish", "--format", "json"])
    #expect(finished.status == 0, "\(finished.allOutput)")
    let settlement = try f.h.json(finished)
    #expect(settlement["settled"] as? Bool == true)
    let entry = try #require((settlement["entries"] as? [[String: Any]])?.first)
    #expect(entry["outcome"] as? String == "promoted")
    #expect(entry["revocation"] as? String == "revoked")
    #expect(try await f.current("openai", "API_KEY_PROD") == onFly)
    #expect(f.githubValue("OPENAI_API_KEY") == onFly)
    #expect(!f.providers.isValid(Self.oldOpenAI, for: .openai))
    let clean = try await f.h.run(["verify", "prod", "--from", "none"])
    #expect(!clean.stdout.contains("orphan-credential"), "\(clean.allOutput)")
    #expect(!clean.stdout.contains("old-credential"), "\(clean.allOutput)")
    // Nothing is left: --finish has nothing to do, --resume has nothing to resume.
    let again = try await f.rotate(["--finish"])
    #expect(again.status == 0)
    #expect(again.stdout.contains("nothing left live by earlier runs"))
    #expect(try await f.rotate(["--resume"]).status == 2)
  }

  @Test func aFailedRevocationLeavesTheRotationDoneAndVerifyWarns() async throws {
    let f = try await Self.fixture()
    defer { f.stop() }
    f.providers.failNext(.openaiDelete, status: 500, times: 10)
    let r = try await f.rotate(["openai/API_KEY_PROD", "--format", "json"])
    #expect(r.status == 1, "\(r.allOutput)")
    let keys = try #require(try f.h.json(r)["keys"] as? [[String: Any]])
    #expect(keys[0]["state"] as? String == "done")
    #expect(keys[0]["revocation"] as? String == "failed")
    #expect(try await f.current("openai", "API_KEY_PROD") != Self.oldOpenAI)
    let verify = try await f.h.run(["verify", "prod", "--from", "none", "--format", "json"])
    let findings = try #require(try f.h.json(verify)["findings"] as? [[String: Any]])
    #expect(findings.contains { $0["check"] as? String == "old-credential" && $0["key"] as? String == "API_KEY_PROD" })
  }

  @Test func shopifyIsOperatorAssistedAndConfirmedByHand() async throws {
    let f = try await Self.fixture()
    defer { f.stop() }
    let refused = try await f.rotate(["shopify/SHOPIFY_ACCESS_TOKEN"])
    #expect(refused.status == 2)
    #expect(refused.stderr.contains("--value-from"))
    let newToken = "shpat_11111111111111111111111111111111"
    f.providers.accept(newToken, for: .shopify)
    let r = try await f.rotate(["shopify/SHOPIFY_ACCESS_TOKEN", "--value-from", "-"], stdin: newToken + "\n")
    #expect(r.status == 0, "\(r.allOutput)")
    #expect(r.stdout.contains("pending-operator"))
    #expect(r.stderr.contains("revoke the old credential by hand, then run hotsecrets rotate prod --confirm-revoked"))
    #expect(f.flyValue("SHOPIFY_ACCESS_TOKEN") == newToken)
    let warn = try await f.h.run(["verify", "prod", "--from", "none"])
    #expect(warn.stdout.contains("old-credential"))
    let confirm = try await f.rotate(["--confirm-revoked", "shopify/SHOPIFY_ACCESS_TOKEN"])
    #expect(confirm.status == 0, "\(confirm.allOutput)")
    let clean = try await f.h.run(["verify", "prod", "--from", "none"])
    #expect(!clean.stdout.contains("old-credential"))
  }

  @Test func aNewValueTheProviderRejectsFailsAtTheTestStepAndNothingIsPushed() async throws {
    let f = try await Self.fixture()
    defer { f.stop() }
    let rejected = "shpat_22222222222222222222222222222222"  // never accepted by the fake shop
    let r = try await f.rotate(
      ["shopify/SHOPIFY_ACCESS_TOKEN", "--value-from", "-", "--format", "json"], stdin: rejected + "\n")
    #expect(r.status == 1, "\(r.allOutput)")
    let json = try f.h.json(r)
    #expect(json["failed_step"] as? String == "test")
    #expect(f.flyValue("SHOPIFY_ACCESS_TOKEN") == Self.oldShopify)
    #expect(try await f.current("shopify", "SHOPIFY_ACCESS_TOKEN") == Self.oldShopify)
  }

  @Test(arguments: ["plan", "create", "test", "push", "verify"])
  func aCrashBeforePromoteIsRolledBackByResume(step: String) async throws {
    let f = try await Self.fixture()
    defer { f.stop() }
    let crashed = try await f.rotate(["openai/API_KEY_PROD"], env: ["HOTSECRETS_TEST_CRASH_AFTER": step])
    #expect(crashed.status == 137, "\(crashed.allOutput)")
    let blocked = try await f.rotate(["app/SESSION_SECRET"])
    #expect(blocked.status == 2)
    #expect(blocked.stderr.contains("is unfinished"))
    let resumed = try await f.rotate(["--resume", "--format", "json"])
    #expect(resumed.status == 1, "\(resumed.allOutput)")
    #expect(try f.h.json(resumed)["outcome"] as? String == "rolled-back")
    #expect(try await f.current("openai", "API_KEY_PROD") == Self.oldOpenAI)
    #expect(f.flyValue("OPENAI_API_KEY") == Self.oldOpenAI)
    #expect(f.githubValue("OPENAI_API_KEY") == Self.oldOpenAI)
    #expect(f.providers.isValid(Self.oldOpenAI, for: .openai))
    #expect(f.providers.openAIServiceAccounts().map(\.id) == ["svc_old"])
    // Nothing left to resume; a new run may start.
    #expect(try await f.rotate(["--resume"]).status == 2)
    #expect(try await f.rotate(["app/SESSION_SECRET"]).status == 0)
  }

  @Test(arguments: ["promote", "revoke"])
  func aCrashAfterPromoteIsCompletedByResume(step: String) async throws {
    let f = try await Self.fixture()
    defer { f.stop() }
    let crashed = try await f.rotate(["openai/API_KEY_PROD"], env: ["HOTSECRETS_TEST_CRASH_AFTER": step])
    #expect(crashed.status == 137, "\(crashed.allOutput)")
    let promoted = try await f.current("openai", "API_KEY_PROD")
    #expect(promoted != Self.oldOpenAI)
    if step == "revoke" {
      // The run was done but not marked finished: resume just closes it.
      let resumed = try await f.rotate(["--resume"])
      #expect(resumed.status == 0, "\(resumed.allOutput)")
    } else {
      let resumed = try await f.rotate(["--resume", "--format", "json"])
      #expect(resumed.status == 0, "\(resumed.allOutput)")
      #expect(try f.h.json(resumed)["outcome"] as? String == "completed")
    }
    #expect(!f.providers.isValid(Self.oldOpenAI, for: .openai))
    #expect(f.flyValue("OPENAI_API_KEY") == promoted)
  }

  @Test func twoRotationsAtOnceOneRefuses() async throws {
    let f = try await Self.fixture()
    defer { f.stop() }
    f.fly.inject(.delay(seconds: 0.5, matching: "POST "))
    async let first = f.rotate(["app/SESSION_SECRET"])
    async let second = f.rotate(["app/SESSION_SECRET"])
    let results = try await [first, second]
    #expect(results.map(\.status).sorted() == [0, 2], "\(results.map(\.allOutput))")
    let refused = try #require(results.first { $0.status == 2 })
    #expect(refused.stderr.contains("is running right now") || refused.stderr.contains("is unfinished"))
  }

  @Test func aProviderThatRefusesToCreateFailsThatKeyOnly() async throws {
    let f = try await Self.fixture()
    defer { f.stop() }
    f.providers.failNext(.supabaseCreate, status: 400, message: "project is paused")
    let r = try await f.rotate(["supabase/SERVICE_KEY", "app/SESSION_SECRET", "--format", "json"])
    #expect(r.status == 1, "\(r.allOutput)")
    let keys = try #require(try f.h.json(r)["keys"] as? [[String: Any]])
    #expect(keys[0]["state"] as? String == "failed")
    // The report says what failed in hotsecrets' words; the API's own words reach stderr only.
    #expect((keys[0]["error"] as? String)?.contains("supabase answered HTTP 400") == true)
    #expect(!r.stdout.contains("project is paused"))
    #expect(r.stderr.contains("the API said: project is paused"))
    #expect(keys[0]["new_version"] is NSNull)
    #expect(keys[1]["state"] as? String == "done")
    #expect(try await f.current("supabase", "SERVICE_KEY") == Self.oldSupabase)
    #expect(f.flyValue("SUPABASE_SERVICE_KEY") == Self.oldSupabase)
    #expect(f.providers.supabaseKeys().map(\.value) == [Self.oldSupabase])
    expectNoCredentials(r)
  }

  @Test func anOldKeyWithNoCertainMatchIsKeptLiveAndVerifyWarns() async throws {
    let f = try await Self.fixture()
    defer { f.stop() }
    // A user-owned key: deleting a service account cannot revoke it.
    let userKey = "sk-user-USERUSERUSERUSERUSERUSERabcd"
    f.providers.registerOpenAIKey(userKey, ownerServiceAccount: nil)
    _ = try await f.h.run(["set", "prod", "openai", "API_KEY_PROD"], stdin: userKey)
    let r = try await f.rotate(["openai/API_KEY_PROD", "--format", "json"])
    #expect(r.status == 1, "\(r.allOutput)")
    let keys = try #require(try f.h.json(r)["keys"] as? [[String: Any]])
    #expect(keys[0]["state"] as? String == "done")
    #expect(keys[0]["revocation"] as? String == "kept")
    #expect((keys[0]["error"] as? String)?.contains("no certain match") == true)
    #expect(f.providers.isValid(userKey, for: .openai))
    let verify = try await f.h.run(["verify", "prod", "--from", "none"])
    #expect(verify.stdout.contains("old-credential"))
    #expect(!verify.allOutput.contains(userKey))
  }

  @Test func revokeOldNeverKeepsTheOldCredentialAndSaysSo() async throws {
    let f = try await Self.fixture()
    defer { f.stop() }
    let r = try await f.rotate(["openai/API_KEY_PROD", "--revoke-old", "never"])
    #expect(r.status == 0, "\(r.allOutput)")
    #expect(f.providers.isValid(Self.oldOpenAI, for: .openai))
    #expect(r.stderr.contains("old credential kept live (--revoke-old never)"))
    let verify = try await f.h.run(["verify", "prod", "--from", "none"])
    #expect(verify.stdout.contains("old-credential"))
  }

  @Test func aStagedFlyTargetDefersTheRevocation() async throws {
    let f = try await Self.fixture()
    defer { f.stop() }
    let r = try await f.rotate(["openai/API_KEY_PROD", "--deploy", "stage", "--format", "json"])
    #expect(r.status == 0, "\(r.allOutput)")
    let keys = try #require(try f.h.json(r)["keys"] as? [[String: Any]])
    #expect(keys[0]["revocation"] as? String == "deferred")
    // The machines were not restarted and still run the old key: it must keep working.
    #expect(f.fly.restarts(app: Self.app, machine: "\(Self.app)-m1") == 0)
    #expect(f.providers.isValid(Self.oldOpenAI, for: .openai))
    #expect(r.stderr.contains("load the new value only at their next deploy"))
    let verify = try await f.h.run(["verify", "prod", "--from", "none"])
    #expect(verify.stdout.contains("old-credential"))
  }

  @Test func resumeKeepsTheOptionsTheRunStartedWith() async throws {
    let f = try await Self.fixture()
    defer { f.stop() }
    let crashed = try await f.rotate(
      ["openai/API_KEY_PROD", "--revoke-old", "never"], env: ["HOTSECRETS_TEST_CRASH_AFTER": "promote"])
    #expect(crashed.status == 137)
    let resumed = try await f.rotate(["--resume", "--format", "json"])
    #expect(resumed.status == 0, "\(resumed.allOutput)")
    let keys = try #require(try f.h.json(resumed)["keys"] as? [[String: Any]])
    #expect(keys[0]["revocation"] as? String == "kept")
    #expect(f.providers.isValid(Self.oldOpenAI, for: .openai))
  }

  @Test func aCrashedChatwootRotationKeepsTheOnlyWorkingToken() async throws {
    let f = try await Self.fixture()
    defer { f.stop() }
    let crashed = try await f.rotate(["chatwoot/API_TOKEN"], env: ["HOTSECRETS_TEST_CRASH_AFTER": "create"])
    #expect(crashed.status == 137)
    let token = try await f.current("chatwoot", "API_TOKEN")
    #expect(token != Self.oldChatwoot && f.providers.chatwootToken == token)
    let resumed = try await f.rotate(["--resume"])
    #expect(resumed.status == 1, "\(resumed.allOutput)")  // rolled back: nothing else to undo
    // The vault keeps the new token (the old one is dead) and the restore pushed it everywhere.
    #expect(try await f.current("chatwoot", "API_TOKEN") == token)
    #expect(f.flyValue("CHATWOOT_API_TOKEN") == token)
    #expect(f.providers.isValid(token, for: .chatwoot))
  }

  @Test func aDueKeyThatNeedsAnOperatorIsReportedNotJournaled() async throws {
    let f = try await Self.fixture()
    defer { f.stop() }
    let r = try await f.rotate(["app/SESSION_SECRET", "--due", "--as-of", "2099-01-01", "--format", "json"])
    // Everything due is rotated except Shopify, which needs a person: the run says so and exits 1.
    #expect(r.status == 1, "\(r.allOutput)")
    let json = try f.h.json(r)
    #expect(json["needs_operator"] as? [String] == ["shopify/SHOPIFY_ACCESS_TOKEN"])
    let keys = try #require(json["keys"] as? [[String: Any]])
    #expect(keys.count == 4)
    #expect(keys.allSatisfy { $0["state"] as? String == "done" })
    #expect(!keys.contains { $0["service"] as? String == "shopify" })
    #expect(try await f.current("shopify", "SHOPIFY_ACCESS_TOKEN") == Self.oldShopify)
  }

  @Test func syncSetAndRmRefuseWhileARotationIsUnfinished() async throws {
    let f = try await Self.fixture()
    defer { f.stop() }
    #expect(try await f.rotate(["openai/API_KEY_PROD"], env: ["HOTSECRETS_TEST_CRASH_AFTER": "verify"]).status == 137)
    let sync = try await f.h.run(["sync", "prod"])
    #expect(sync.status == 2)
    #expect(sync.stderr.contains("is unfinished"))
    let set = try await f.h.run(["set", "prod", "openai", "API_KEY_PROD"], stdin: "sk-someone-else-000000000000")
    #expect(set.status == 2)
    #expect(set.stderr.contains("prod/openai/API_KEY_PROD is being rotated"))
    #expect(try await f.h.run(["rm", "prod", "openai", "API_KEY_PROD", "--yes"]).status == 2)
    // Keys the run does not hold are not blocked.
    #expect(try await f.h.run(["set", "prod", "app", "OTHER"], stdin: "fine").status == 0)
    #expect(try await f.rotate(["--resume"]).status == 1)
    #expect(try await f.current("openai", "API_KEY_PROD") == Self.oldOpenAI)
  }

  @Test func aProviderWithoutCredentialsStopsTheRunBeforeAnythingChanges() async throws {
    let f = try await Self.fixture()
    defer { f.stop() }
    let r = try await f.rotate(["openai/API_KEY_PROD"], env: ["OPENAI_ADMIN_KEY": ""])
    #expect(r.status == 2)
    #expect(r.stderr.contains("needs OPENAI_ADMIN_KEY"))
    #expect(f.providers.count(.openaiCreate) == 0)
  }

  @Test func aFailingHealthCheckAfterTheRestartRollsBack() async throws {
    let f = try await Self.fixture(healthPath: "/no-such-health-endpoint")
    defer { f.stop() }
    let r = try await f.rotate(["openai/API_KEY_PROD", "--format", "json"])
    #expect(r.status == 1, "\(r.allOutput)")
    let json = try f.h.json(r)
    #expect(json["outcome"] as? String == "rolled-back")
    #expect(json["failed_step"] as? String == "verify")
    #expect((json["error"] as? String)?.contains("health check") == true)
    #expect(f.flyValue("OPENAI_API_KEY") == Self.oldOpenAI)
    #expect(f.providers.openAIServiceAccounts().map(\.id) == ["svc_old"])
  }

  @Test func anOldValueStillCurrentUnderAnotherKeyIsNotRevoked() async throws {
    let f = try await Self.fixture()
    defer { f.stop() }
    _ = try await f.h.run(["set", "prod", "app", "OPENAI_COPY"], stdin: Self.oldOpenAI)
    let r = try await f.rotate(["openai/API_KEY_PROD", "--format", "json"])
    #expect(r.status == 0, "\(r.allOutput)")
    let keys = try #require(try f.h.json(r)["keys"] as? [[String: Any]])
    #expect(keys[0]["revocation"] as? String == "shared")
    #expect(f.providers.isValid(Self.oldOpenAI, for: .openai))
    #expect(r.stderr.contains("the same value is current in prod/app/OPENAI_COPY"))
  }

  @Test func aNewCredentialThatCannotBeRevokedIsReportedUntilConfirmed() async throws {
    let f = try await Self.fixture()
    defer { f.stop() }
    f.providers.inject(.status(401), into: .openai)  // the probe refuses the new key
    f.providers.failNext(.openaiDelete, status: 500, times: 10)  // and it cannot be revoked
    let r = try await f.rotate(["openai/API_KEY_PROD", "--format", "json"])
    #expect(r.status == 1, "\(r.allOutput)")
    let keys = try #require(try f.h.json(r)["keys"] as? [[String: Any]])
    #expect((keys[0]["error"] as? String)?.contains("revoke it by hand at openai") == true)
    #expect(f.providers.openAIServiceAccounts().count == 2)
    let verify = try await f.h.run(["verify", "prod", "--from", "none", "--format", "json"])
    let findings = try #require(try f.h.json(verify)["findings"] as? [[String: Any]])
    #expect(
      findings.contains { $0["check"] as? String == "orphan-credential" && $0["key"] as? String == "API_KEY_PROD" })
    #expect(try await f.rotate(["--confirm-revoked", "openai/API_KEY_PROD"]).status == 0)
    let clean = try await f.h.run(["verify", "prod", "--from", "none"])
    #expect(!clean.stdout.contains("orphan-credential"))
  }
}
