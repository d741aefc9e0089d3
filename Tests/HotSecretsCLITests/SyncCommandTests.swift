import Foundation
import TestSupport
import Testing

/// `hotsecrets sync` and `verify --targets` end to end: the built binary against loopback fakes of
/// Fly's Machines API and GitHub's environment-secrets API.
@Suite(.endToEnd) struct SyncCommandTests {
  static let app = "hotdash-production"
  static let worker = "hotdash-worker"
  static let repo = "hotrodan/hot-dash"

  static let values = [
    "openai/API_KEY_PROD": "sk-live-abcdefghijklmnopqrstuv",
    "supabase/SERVICE_KEY": "sb_secret_9fK2xQpLmN3",
    "supabase/SUPABASE_URL": "https://abcdefghijklmnopqrst.supabase.co",
    "app/SESSION_SECRET": "s3ss10n-S3cr3t-Zq8Lw0PvX1",
  ]

  static func policy(appDeploy: String = "", extraKeys: String = "") -> String {
    """
    version: 1
    environment: prod
    services:
      openai:
        keys:
          API_KEY_PROD: { target_name: OPENAI_API_KEY }
      supabase:
        keys:
          SERVICE_KEY: { target_name: SUPABASE_SERVICE_KEY }
          SUPABASE_URL: { secret: false }
      app:
        keys:
          SESSION_SECRET: {}\(extraKeys)
    targets:
      fly:
        - { app: \(app), services: [openai, supabase, app]\(appDeploy) }
        - { app: \(worker), services: [openai] }
      github:
        - { repository: \(repo), environment: production, services: [openai, supabase] }
    """
  }

  /// A vault with `values`, the policy, and fakes with two apps (two machines each) and one environment.
  struct Fixture {
    let h: CLIHarness
    let fly: FakeFly
    let github: FakeGitHub

    func stop() {
      fly.stop()
      github.stop()
    }

    func sync(_ arguments: [String] = [], env: [String: String] = [:]) async throws -> CLIResult {
      try await h.run(["sync", "prod"] + arguments, env: env)
    }

    func flyPlain(_ app: String) -> [String: String] { fly.secretValues(app: app) }
    func githubPlain() -> [String: String] { github.secrets(repository: repo, environment: "production") }
  }

  static func fixture(policy text: String = policy(), withChecks: Bool = false, backend: Backend = .file) async throws
    -> Fixture
  {
    let h = try await CLIHarness.withIdentityVault(backend)
    try h.writePolicy(text)
    for (name, value) in values {
      let parts = name.split(separator: "/").map(String.init)
      try #require(try await h.run(["set", "prod", parts[0], parts[1]], stdin: value).status == 0)
    }
    let fly = try await FakeFly.start()
    let github = try await FakeGitHub.start()
    fly.addApp(app, machines: 2, withChecks: withChecks)
    fly.addApp(worker, machines: 2)
    try github.addEnvironment(repository: repo, environment: "production")
    h.environment["HOTSECRETS_FLY_API_URL"] = fly.baseURL
    h.environment["HOTSECRETS_GITHUB_API_URL"] = github.baseURL
    h.environment["FLY_API_TOKEN"] = "fly-test-token"
    h.environment["GITHUB_TOKEN"] = "gh-test-token"
    h.environment["HOTSECRETS_RETRY_BASE_DELAY"] = "0.05"
    return Fixture(h: h, fly: fly, github: github)
  }

  static let expectedApp = [
    "OPENAI_API_KEY": values["openai/API_KEY_PROD"]!, "SUPABASE_SERVICE_KEY": values["supabase/SERVICE_KEY"]!,
    "SUPABASE_URL": values["supabase/SUPABASE_URL"]!, "SESSION_SECRET": values["app/SESSION_SECRET"]!,
  ]

  func expectNoValues(_ r: CLIResult) {
    for value in Self.values.values { #expect(!r.allOutput.contains(value)) }
  }

  @Test(arguments: Backend.allCases) func firstSyncPushesEverythingOnceAndASecondSyncSendsNothing(_ backend: Backend) async throws {
    let f = try await Self.fixture(backend: backend)
    defer { f.stop() }
    let r = try await f.sync()
    #expect(r.status == 0, "\(r.allOutput)")
    // Exactly one bulk update per app; the values that arrived are the vault's, under target names.
    #expect(f.fly.bulkUpdates(app: Self.app) == 1)
    #expect(f.fly.bulkUpdates(app: Self.worker) == 1)
    #expect(f.flyPlain(Self.app) == Self.expectedApp)
    #expect(f.flyPlain(Self.worker) == ["OPENAI_API_KEY": Self.values["openai/API_KEY_PROD"]!])
    // GitHub decrypted the sealed boxes with its own secret key: the plaintexts are the vault's.
    #expect(
      f.githubPlain() == [
        "OPENAI_API_KEY": Self.values["openai/API_KEY_PROD"]!,
        "SUPABASE_SERVICE_KEY": Self.values["supabase/SERVICE_KEY"]!,
        "SUPABASE_URL": Self.values["supabase/SUPABASE_URL"]!,
      ])
    #expect(f.github.publicKeyFetches(repository: Self.repo, environment: "production") == 1)
    // Staged by default: no machine restarted, and the output says how to deploy.
    #expect(f.fly.restarts(app: Self.app, machine: "\(Self.app)-m1") == 0)
    #expect(r.stdout.contains("fly secrets deploy -a \(Self.app)"))
    #expect(r.stdout.contains("fly:\(Self.app) (secrets version 1)"))
    #expect(r.stdout.contains("OPENAI_API_KEY"))
    #expect(r.stdout.contains("pushed"))
    #expect(r.stdout.split(separator: "\n").last == "sync prod: 3 targets, pushed 8, unchanged 0, all succeeded")
    // Progress on stderr (not a terminal: plain lines): each step as it starts and ends, then one
    // line per target as it finishes.
    let progress = r.stderr.split(separator: "\n").map(String.init)
    #expect(progress.filter { $0.contains(": pushed ") }.count == 3)
    #expect(progress.contains { $0.hasPrefix("sync github:\(Self.repo):production: pushed 3, unchanged 0") })
    for step in [
      "sync fly:\(Self.app): listing the app's secrets", "sync fly:\(Self.app): sending 4 secrets in one bulk update",
      "sync fly:\(Self.app): sent 4 secrets (secrets version 1)", "sync fly:\(Self.worker): sending 1 secret in one bulk update",
      "sync github:\(Self.repo):production: listing the environment's secrets",
      "sync github:\(Self.repo):production: sealing and sending 3 secrets",
      "sync github:\(Self.repo):production: sent 3 secrets",
    ] {
      #expect(progress.contains(step), "\(step)")
    }
    // Each target's steps come in order: listing, sending, sent, then its result.
    let app = progress.filter { $0.hasPrefix("sync fly:\(Self.app):") }
    #expect(app.count == 4)
    #expect(app.first == "sync fly:\(Self.app): listing the app's secrets")
    #expect(app.last?.contains("pushed 4, unchanged 0") == true)
    #expect(!r.stderr.contains("\u{1B}"))
    expectNoValues(r)

    let again = try await f.sync(["--format", "json"])
    #expect(again.status == 0, "\(again.allOutput)")
    #expect(f.fly.bulkUpdates(app: Self.app) == 1)
    #expect(f.github.puts(repository: Self.repo, environment: "production") == 3)
    #expect(f.github.publicKeyFetches(repository: Self.repo, environment: "production") == 1)
    let json = try f.h.json(again)
    let targets = try #require(json["targets"] as? [[String: Any]])
    #expect(
      targets.map { $0["target"] as? String } == [
        "fly:\(Self.app)", "fly:\(Self.worker)", "github:\(Self.repo):production",
      ])
    #expect(targets.allSatisfy { ($0["pushed"] as? [Any])?.isEmpty == true && $0["status"] as? String == "ok" })
    #expect((targets[0]["unchanged"] as? [String])?.sorted() == Self.expectedApp.keys.sorted())
    #expect(json["succeeded"] as? Bool == true)
    #expect(json["dry_run"] as? Bool == false)
  }

  @Test(arguments: Backend.allCases) func changedKeysCostOneBulkUpdateAndOneRestartPerMachine(_ backend: Backend) async throws {
    let f = try await Self.fixture(withChecks: true, backend: backend)
    defer { f.stop() }
    #expect(try await f.sync().status == 0)
    try await f.h.run(["set", "prod", "openai", "API_KEY_PROD"], stdin: "sk-live-NEWNEWNEWNEWNEWNEWNEWNEW")
    try await f.h.run(["set", "prod", "app", "SESSION_SECRET"], stdin: "n3w-s3ss10n-S3cr3t-aaaaaaa")
    try await f.h.run(["set", "prod", "supabase", "SERVICE_KEY"], stdin: "sb_secret_NEWNEWNEWNEW")
    let r = try await f.sync(["--deploy", "rolling", "--format", "json"])
    #expect(r.status == 0, "\(r.allOutput)")
    #expect(f.fly.bulkUpdates(app: Self.app) == 2)
    let version = f.fly.secretsVersion(app: Self.app)
    for machine in ["\(Self.app)-m1", "\(Self.app)-m2", "\(Self.worker)-m1", "\(Self.worker)-m2"] {
      let app = machine.hasPrefix(Self.worker) ? Self.worker : Self.app
      #expect(f.fly.restarts(app: app, machine: machine) == 1, "\(machine)")
      #expect(f.fly.machine(app: app, id: machine)?.minSecretsVersion == f.fly.secretsVersion(app: app))
    }
    #expect(f.flyPlain(Self.app)["OPENAI_API_KEY"] == "sk-live-NEWNEWNEWNEWNEWNEWNEWNEW")
    #expect(f.githubPlain()["SUPABASE_SERVICE_KEY"] == "sb_secret_NEWNEWNEWNEW")
    let targets = try #require(try f.h.json(r)["targets"] as? [[String: Any]])
    let first = targets[0]
    #expect(
      (first["pushed"] as? [[String: Any]])?.compactMap { $0["name"] as? String }.sorted()
        == ["OPENAI_API_KEY", "SESSION_SECRET", "SUPABASE_SERVICE_KEY"])
    #expect(first["secrets_version"] as? Int == version)
    let restart = try #require(first["restart"] as? [String: Any])
    #expect(restart["restarted"] as? [String] == ["\(Self.app)-m1", "\(Self.app)-m2"])
    #expect(restart["failure"] is NSNull)
    // Each machine's restart is shown as it happens, with its state changes.
    let steps = r.stderr.split(separator: "\n").map(String.init).filter { $0.hasPrefix("sync fly:\(Self.app): ") }
    let m1 = "\(Self.app)-m1"
    let expected = [
      "sync fly:\(Self.app): restarting machine \(m1) with the new secrets",
      "sync fly:\(Self.app): machine \(m1) started", "sync fly:\(Self.app): machine \(m1) checks passing",
    ]
    let found = expected.map { line in steps.firstIndex(of: line) }
    #expect(found.allSatisfy { $0 != nil }, "\(steps)")
    #expect(found.compactMap { $0 } == found.compactMap { $0 }.sorted())
    // Each machine was updated with its own config, unchanged, plus the new secrets version.
    let config = try #require(f.fly.machineConfig(app: Self.app, id: "\(Self.app)-m1"))
    #expect(config["image"] as? String == "registry.fly.io/\(Self.app):deployment-1")
    #expect((config["env"] as? [String: String])?["PORT"] == "8080")
  }

  @Test func dryRunNamesWhatWouldChangeAndSendsNoWrite() async throws {
    let f = try await Self.fixture()
    defer { f.stop() }
    let r = try await f.sync(["--dry-run"])
    #expect(r.status == 0, "\(r.allOutput)")
    #expect(r.stdout.contains("would push"))
    #expect(r.stdout.contains("(dry run: nothing was sent)"))
    #expect(f.fly.bulkUpdates(app: Self.app) == 0)
    #expect(f.github.puts(repository: Self.repo, environment: "production") == 0)
    #expect(f.fly.requests.allSatisfy { $0.hasPrefix("GET ") })
    #expect(f.github.requests.allSatisfy { $0.hasPrefix("GET ") })
    expectNoValues(r)
    let audit = try await f.h.run(["audit", "log", "--format", "json"])
    #expect(!audit.stdout.contains("\"sync\""))
  }

  /// Without tokens, a dry run still plans: from the vault and the push ledger, saying the targets
  /// were not asked. Nothing is requested from them, and no token is read from the vault.
  @Test func dryRunWithoutTokensPlansFromTheLedger() async throws {
    let f = try await Self.fixture()
    defer { f.stop() }
    #expect(try await f.sync(["--target", "github"]).status == 0)  // the ledger now has github's pushes
    let before = f.fly.requests.count + f.github.requests.count
    let none = ["FLY_API_TOKEN": "", "GITHUB_TOKEN": ""]
    let r = try await f.sync(["--dry-run"], env: none)
    #expect(r.status == 0, "\(r.allOutput)")
    #expect(r.stdout.contains("not compared with the target (no FLY_API_TOKEN): planned from the vault and the push ledger"))
    #expect(r.stdout.contains("not compared with the target (no GITHUB_TOKEN)"))
    #expect(r.stdout.contains("OPENAI_API_KEY        would push") || r.stdout.contains("OPENAI_API_KEY  would push"))
    #expect(r.stdout.contains("unchanged (ledger)"))
    #expect(r.stdout.contains("(dry run: nothing was sent)"))
    #expect(f.fly.requests.count + f.github.requests.count == before)
    expectNoValues(r)
    let json = try f.h.json(try await f.sync(["--dry-run", "--format", "json"], env: none))
    let targets = try #require(json["targets"] as? [[String: Any]])
    #expect(targets.count == 3)
    #expect(targets.allSatisfy { $0["compared_with_target"] as? Bool == false })
    let github = try #require(targets.first { ($0["kind"] as? String) == "github" })
    #expect((github["pushed"] as? [Any])?.isEmpty == true)
    #expect((github["unchanged"] as? [String])?.sorted() == ["OPENAI_API_KEY", "SUPABASE_SERVICE_KEY", "SUPABASE_URL"])
    let app = try #require(targets.first { ($0["target"] as? String) == "fly:\(Self.app)" })
    #expect((app["pushed"] as? [Any])?.count == 4)
    // With tokens the targets are asked, and say so.
    let asked = try f.h.json(try await f.sync(["--dry-run", "--format", "json"]))
    #expect((asked["targets"] as? [[String: Any]])?.allSatisfy { $0["compared_with_target"] as? Bool == true } == true)
    // A real sync without tokens still fails: nothing could run.
    #expect(try await f.sync([], env: none).status == 2)
  }

  /// On a terminal (a pty from `script`) the steps share one live line, rewritten in place, and the
  /// results are coloured; NO_COLOR turns the colour off, never the progress.
  @Test func onATerminalProgressIsOneLiveLineAndColoured() async throws {
    let f = try await Self.fixture()
    defer { f.stop() }
    func onTerminal(_ arguments: String, env: [String: String] = [:]) async throws -> String {
      let r = try await f.h.runProcess(
        "/usr/bin/script", ["-qec", "\(CLIHarness.binary) \(arguments)", "/dev/null"], stdin: nil,
        env: ["TERM": "xterm"].merging(env) { $1 })
      return r.stdout
    }
    let coloured = try await onTerminal("sync prod")
    #expect(coloured.contains("\r\u{1B}[Ksync fly:\(Self.app): listing the app's secrets"))
    #expect(coloured.contains("\u{1B}[32mall succeeded\u{1B}[0m"))
    let plain = try await onTerminal("verify prod", env: ["NO_COLOR": "1"])
    #expect(!plain.contains("\u{1B}[3"))
    let verify = try await onTerminal("verify prod")
    #expect(verify.contains("\u{1B}[32mok\u{1B}[0m"))
    expectNoValues(CLIResult(status: 0, stdoutData: Data(coloured.utf8), stderr: ""))
  }

  @Test func collidingNamesAndBadGitHubNamesStopBeforeAnythingIsSent() async throws {
    let f = try await Self.fixture()
    defer { f.stop() }
    try await f.h.run(["set", "prod", "app", "OPENAI_API_KEY"], stdin: "another-value-entirely")
    let r = try await f.sync()
    #expect(r.status == 2)
    #expect(r.stderr.contains("app/OPENAI_API_KEY and openai/API_KEY_PROD would both be pushed as OPENAI_API_KEY"))
    try await f.h.run(["rm", "prod", "app", "OPENAI_API_KEY", "--yes"])
    try await f.h.run(["set", "prod", "openai", "GITHUB_PAT"], stdin: "ghp-not-allowed-here")
    let bad = try await f.sync()
    #expect(bad.status == 2)
    #expect(bad.stderr.contains("openai/GITHUB_PAT cannot be pushed as GITHUB_PAT"))
    #expect(f.fly.requests.isEmpty)
    #expect(f.github.requests.isEmpty)
  }

  @Test func gitHubSecretChangedElsewhereIsReportedByVerifyAndRepairedBySync() async throws {
    let f = try await Self.fixture()
    defer { f.stop() }
    // Before any sync: every key is missing from every target.
    let before = try await f.h.run(["verify", "prod", "--targets", "--format", "json"])
    #expect(before.status == 1)
    let missing = try #require(try f.h.json(before)["findings"] as? [[String: Any]])
    #expect(missing.filter { $0["check"] as? String == "target-missing" }.count == 8)
    #expect(try await f.sync().status == 0)
    let clean = try await f.h.run(["verify", "prod", "--targets"])
    #expect(clean.status == 0, "\(clean.allOutput)")

    f.github.changeElsewhere(repository: Self.repo, environment: "production", name: "OPENAI_API_KEY", value: "sk-x")
    f.fly.setSecret(app: Self.worker, name: "OPENAI_API_KEY", value: "sk-y")
    let drift = try await f.h.run(["verify", "prod", "--targets", "--format", "json"])
    #expect(drift.status == 1)
    let findings = try #require(try f.h.json(drift)["findings"] as? [[String: Any]])
    let driftMessages = findings.filter { $0["check"] as? String == "target-drift" }.compactMap {
      $0["message"] as? String
    }
    #expect(driftMessages.count == 2, "\(driftMessages)")
    #expect(
      driftMessages.contains { $0.contains("changed in github:\(Self.repo):production after hotsecrets pushed it") })
    #expect(driftMessages.contains { $0.contains("changed in fly:\(Self.worker) after hotsecrets pushed it") })

    let repair = try await f.sync()
    #expect(repair.status == 0, "\(repair.allOutput)")
    #expect(repair.stdout.contains("pushed (repaired drift)"))
    #expect(f.githubPlain()["OPENAI_API_KEY"] == Self.values["openai/API_KEY_PROD"])
    #expect(f.flyPlain(Self.worker)["OPENAI_API_KEY"] == Self.values["openai/API_KEY_PROD"])
    #expect(try await f.h.run(["verify", "prod", "--targets"]).status == 0)
  }

  @Test func serverErrorsAndRateLimitsAreRetried() async throws {
    let f = try await Self.fixture()
    defer { f.stop() }
    f.fly.inject(.failRequest(number: 1, status: 500, matching: "POST /v1/apps/\(Self.app)/secrets"))
    f.github.inject(.failRequest(number: 2, status: 429, matching: "PUT ", retryAfter: 1))
    f.github.inject(.failRequest(number: 1, status: 503, matching: "public-key"))
    let r = try await f.sync()
    #expect(r.status == 0, "\(r.allOutput)")
    #expect(f.flyPlain(Self.app) == Self.expectedApp)
    #expect(f.githubPlain().count == 3)
    #expect(f.fly.bulkUpdates(app: Self.app) == 1)
  }

  @Test func aClientErrorIsNotRetriedAndIsReportedWithTheAPIsMessage() async throws {
    let f = try await Self.fixture()
    defer { f.stop() }
    let r = try await f.sync(["--target", "fly"], env: ["FLY_API_TOKEN": "wrong-token"])
    #expect(r.status == 2, "\(r.allOutput)")
    #expect(r.stdout.contains("fly answered HTTP 401"))
    #expect(!r.stdout.contains("unauthorized"))
    #expect(r.stderr.contains("fly answered HTTP 401; the API said: unauthorized"))
    #expect(f.fly.requests.count == 2)  // one list per app, no retry
    #expect(f.github.requests.isEmpty)
  }

  @Test func aTargetThatTimesOutFailsAndTheOthersAreStillDone() async throws {
    let f = try await Self.fixture()
    defer { f.stop() }
    f.github.inject(.delay(seconds: 3, matching: "GET "))
    let r = try await f.sync(["--timeout", "1"])
    #expect(r.status == 1, "\(r.allOutput)")
    #expect(r.stdout.contains("no answer from 127.0.0.1 in time"))
    #expect(f.flyPlain(Self.app) == Self.expectedApp)
    #expect(r.stdout.split(separator: "\n").last?.hasSuffix(", 1 failed") == true)
  }

  @Test func gitHubKeyRotatedMidRunIsFetchedAgainOnce() async throws {
    let f = try await Self.fixture()
    defer { f.stop() }
    f.github.rotateKey(repository: Self.repo, environment: "production", afterPuts: 1)
    let r = try await f.sync(["--target", "github"])
    #expect(r.status == 0, "\(r.allOutput)")
    #expect(f.githubPlain().count == 3)
    #expect(f.githubPlain()["SUPABASE_URL"] == Self.values["supabase/SUPABASE_URL"])
    #expect(f.github.publicKeyFetches(repository: Self.repo, environment: "production") == 2)
    #expect(f.fly.requests.isEmpty)
  }

  @Test func aMachineThatNeverStartsStopsTheRollingRestart() async throws {
    let f = try await Self.fixture()
    defer { f.stop() }
    f.fly.neverStarts(app: Self.app, machine: "\(Self.app)-m1")
    let r = try await f.sync(["--target", "fly", "--deploy", "rolling", "--machine-timeout", "1"])
    #expect(r.status == 1, "\(r.allOutput)")
    #expect(f.fly.restarts(app: Self.app, machine: "\(Self.app)-m1") == 1)
    #expect(f.fly.restarts(app: Self.app, machine: "\(Self.app)-m2") == 0)
    #expect(r.stdout.contains("rolling restart stopped: machine \(Self.app)-m1 did not reach started within 1 s"))
    #expect(r.stdout.contains("machines left untouched: \(Self.app)-m2"))
    #expect(r.stderr.contains("sync fly:\(Self.app): machine \(Self.app)-m1 FAILED: machine \(Self.app)-m1 did not reach started"))
    // The other app was restarted normally.
    #expect(f.fly.restarts(app: Self.worker, machine: "\(Self.worker)-m2") == 1)
  }

  @Test func failingChecksStopTheRollingRestart() async throws {
    let f = try await Self.fixture(withChecks: true)
    defer { f.stop() }
    f.fly.setChecks(app: Self.app, machine: "\(Self.app)-m1", status: "critical")
    let r = try await f.sync(["--target", "fly", "--deploy", "rolling", "--machine-timeout", "1"])
    #expect(r.status == 1, "\(r.allOutput)")
    #expect(r.stdout.contains("checks did not pass within 1 s (http critical)"))
    #expect(f.fly.restarts(app: Self.app, machine: "\(Self.app)-m2") == 0)
  }

  @Test func staleMachinesAreReportedForRollingTargetsAndFinishedByTheNextRollingSync() async throws {
    let f = try await Self.fixture(policy: Self.policy(appDeploy: ", deploy: rolling"))
    defer { f.stop() }
    #expect(try await f.sync(["--target", "fly"]).status == 0)  // the policy says rolling
    #expect(f.fly.restarts(app: Self.app, machine: "\(Self.app)-m1") == 1)
    #expect(f.fly.restarts(app: Self.worker, machine: "\(Self.worker)-m1") == 0)  // staged by default
    try await f.h.run(["set", "prod", "app", "SESSION_SECRET"], stdin: "n3w-s3ss10n-S3cr3t-bbbbbbb")
    #expect(try await f.sync(["--target", "fly", "--deploy", "stage"]).status == 0)
    let stale = try await f.h.run(["verify", "prod", "--targets", "--format", "json"])
    let findings = try #require(try f.h.json(stale)["findings"] as? [[String: Any]])
    let staleFindings = findings.filter { $0["check"] as? String == "target-stale" }
    #expect(staleFindings.count == 2, "\(findings)")
    #expect(
      staleFindings.allSatisfy {
        ($0["message"] as? String)?.contains("runs secrets version 1, the app's is 2") == true
      })
    // A rolling sync with nothing new to push still restarts the stale machines, once each.
    let finish = try await f.sync(["--target", "fly", "--deploy", "rolling"])
    #expect(finish.status == 0, "\(finish.allOutput)")
    #expect(f.fly.bulkUpdates(app: Self.app) == 2)
    #expect(f.fly.restarts(app: Self.app, machine: "\(Self.app)-m1") == 2)
    // The worker was only ever staged: its machines had never loaded a version hotsecrets knows of.
    #expect(f.fly.restarts(app: Self.worker, machine: "\(Self.worker)-m1") == 1)
    #expect(f.fly.restarts(app: Self.worker, machine: "\(Self.worker)-m2") == 1)
    let after = try await f.h.run(["verify", "prod", "--targets", "--format", "json"])
    let remaining = try #require(try f.h.json(after)["findings"] as? [[String: Any]])
    #expect(!remaining.contains { $0["check"] as? String == "target-stale" && $0["severity"] as? String == "error" })
  }

  @Test func opaqueFlyDigestsFallBackToThePushLedger() async throws {
    let f = try await Self.fixture()
    defer { f.stop() }
    f.fly.useOpaqueDigests(app: Self.app)
    #expect(try await f.sync(["--target", "fly"]).status == 0)
    let again = try await f.sync(["--target", "fly"])
    #expect(again.status == 0, "\(again.allOutput)")
    #expect(f.fly.bulkUpdates(app: Self.app) == 1)
    #expect(again.stdout.contains("compared with the push ledger instead"))
  }

  @Test func tokensComeFromTheVaultWhenTheEnvironmentHasNone() async throws {
    let f = try await Self.fixture()
    defer { f.stop() }
    f.h.environment["FLY_API_TOKEN"] = nil
    f.h.environment["GITHUB_TOKEN"] = nil
    let none = try await f.sync()
    #expect(none.status == 2, "\(none.allOutput)")
    #expect(none.stdout.contains("no Fly API token"))
    #expect(none.stdout.contains("no GitHub token"))
    try await f.h.run(["set", "prod", "hotsecrets", "FLY_API_TOKEN"], stdin: "fly-test-token")
    try await f.h.run(["set", "prod", "hotsecrets", "GITHUB_TOKEN"], stdin: "gh-test-token")
    let r = try await f.sync()
    #expect(r.status == 0, "\(r.allOutput)")
    #expect(!r.allOutput.contains("fly-test-token"))
    // The management service is not pushed anywhere.
    #expect(f.flyPlain(Self.app)["FLY_API_TOKEN"] == nil)
    // The environment variable wins over the vault.
    let wrong = try await f.sync(["--target", "fly"], env: ["FLY_API_TOKEN": "not-the-token"])
    #expect(wrong.status == 2)
  }

  @Test func everyPushIsAuditedWithNamesAndFingerprintsNeverValues() async throws {
    let f = try await Self.fixture()
    defer { f.stop() }
    #expect(try await f.sync().status == 0)
    let audit = try await f.h.run(["audit", "log", "--format", "json"])
    #expect(audit.status == 0)
    let entries = try #require(try f.h.json(audit)["entries"] as? [[String: Any]])
    let syncs = entries.filter { $0["action"] as? String == "sync" }
    #expect(
      syncs.compactMap { $0["subject"] as? String }.sorted() == [
        "fly:\(Self.app)", "fly:\(Self.worker)", "github:\(Self.repo):production",
      ])
    expectNoValues(audit)
    let detail = try #require(syncs.first { $0["subject"] as? String == "fly:\(Self.worker)" }?["detail"] as? [String: Any])
    #expect(detail["result"] as? String == "ok")
    let pushed = try #require(detail["pushed"] as? [[String: Any]])
    #expect(pushed.contains { $0["name"] as? String == "OPENAI_API_KEY" && $0["source"] as? String == "openai/API_KEY_PROD" })
    #expect(try await f.h.run(["audit", "verify"]).status == 0)
  }

  @Test func aRefusedBulkUpdateFailsThatAppOnlyAndIsRetriedByTheNextRun() async throws {
    let f = try await Self.fixture()
    defer { f.stop() }
    f.fly.inject(.failRequest(number: 1, status: 422, matching: "POST /v1/apps/\(Self.app)/secrets"))
    let r = try await f.sync(["--format", "json"])
    #expect(r.status == 1, "\(r.allOutput)")
    let targets = try #require(try f.h.json(r)["targets"] as? [[String: Any]])
    #expect(targets[0]["status"] as? String == "failed")
    #expect(
      (targets[0]["error"] as? String)?.hasPrefix("the bulk secrets update failed: fly answered HTTP 422") == true)
    #expect((targets[0]["failed"] as? [Any])?.count == 4)
    #expect(targets[1]["status"] as? String == "ok")
    expectNoValues(r)
    let again = try await f.sync()
    #expect(again.status == 0, "\(again.allOutput)")
    #expect(f.flyPlain(Self.app) == Self.expectedApp)
    #expect(f.fly.bulkUpdates(app: Self.app) == 1)
  }

  @Test func aGitHubPutRefusedIsTheOnlyOneRetriedNextRun() async throws {
    let f = try await Self.fixture()
    defer { f.stop() }
    f.github.inject(.failRequest(number: 2, status: 400, matching: "PUT "))
    let r = try await f.sync(["--target", "github", "--format", "json"])
    #expect(r.status == 1, "\(r.allOutput)")
    let first = try #require((try f.h.json(r)["targets"] as? [[String: Any]])?.first)
    #expect((first["pushed"] as? [Any])?.count == 2)
    let failed = try #require((first["failed"] as? [[String: Any]])?.first)
    #expect((failed["reason"] as? String)?.hasPrefix("github answered HTTP 400") == true)
    let again = try await f.sync(["--target", "github", "--format", "json"])
    #expect(again.status == 0, "\(again.allOutput)")
    let second = try #require((try f.h.json(again)["targets"] as? [[String: Any]])?.first)
    #expect(
      (second["pushed"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == [
        try #require(failed["name"] as? String)
      ])
    #expect((second["unchanged"] as? [Any])?.count == 2)
    #expect(f.githubPlain().count == 3)
  }

  @Test func persistentServerErrorsStopAfterFiveTriesAndRetryAfterIsHonoured() async throws {
    let f = try await Self.fixture()
    defer { f.stop() }
    for n in 1...5 {
      f.fly.inject(.failRequest(number: n, status: 503, matching: "GET /v1/apps/\(Self.worker)/secrets"))
    }
    let r = try await f.sync(["--target", "fly"])
    #expect(r.status == 1, "\(r.allOutput)")
    #expect(r.stdout.contains("cannot list the app's secrets: fly answered HTTP 503"))
    #expect(f.fly.requests.filter { $0 == "GET /v1/apps/\(Self.worker)/secrets" }.count == 5)

    f.github.inject(.failRequest(number: 1, status: 429, matching: "GET ", retryAfter: 1))
    let started = Date()
    let limited = try await f.sync(["--target", "github"])
    #expect(limited.status == 0, "\(limited.allOutput)")
    #expect(Date().timeIntervalSince(started) >= 1)
  }

  @Test func plainHTTPIsRefusedForAnyHostButLoopback() async throws {
    let f = try await Self.fixture()
    defer { f.stop() }
    let r = try await f.sync(env: ["HOTSECRETS_FLY_API_URL": "http://api.machines.dev"])
    #expect(r.status == 2)
    #expect(r.stderr.contains("HOTSECRETS_FLY_API_URL must be an https URL"))
  }
}
