import Foundation
import TestSupport
import Testing

/// The rotation invariant, watched continuously: while `rotate` runs against the fakes — with a
/// failure injected at one step, or the process killed after one step and resumed — a poller reads
/// what every target holds every 20 ms and checks that the provider still accepts it. When the run
/// (and its resume, and `--finish`) is over, exactly one credential of the rotated key is live at
/// the provider — the vault's current one — unless the report says why.
@Suite(.endToEnd) struct RotationInvariantTests {
  typealias Fixture = RotateCommandTests.Fixture

  enum Fault: String, CaseIterable, CustomTestStringConvertible {
    case none, createFails, testFails, flyPushFails, githubPushFails, restoreFails, machineNeverStarts, verifyFails, revokeFails
    case killedAfterCreate, killedAfterTest, killedAfterPush, killedAfterVerify, killedAfterPromote

    var testDescription: String { rawValue }

    /// The step after which the process dies, for the killed cases.
    var crashStep: String? {
      switch self {
      case .killedAfterCreate: "create"
      case .killedAfterTest: "test"
      case .killedAfterPush: "push"
      case .killedAfterVerify: "verify"
      case .killedAfterPromote: "promote"
      default: nil
      }
    }

    func inject(into f: Fixture) {
      switch self {
      case .createFails: f.providers.failNext(.openaiCreate, status: 500)
      // The provider's check of the new key (`GET /v1/models`) answers 401.
      case .testFails: f.providers.inject(.status(401), into: .openai)
      case .flyPushFails:
        f.fly.inject(.failRequest(number: 1, status: 422, matching: "POST /v1/apps/\(RotateCommandTests.app)/secrets"))
      case .githubPushFails: f.github.inject(.failRequest(number: 1, status: 422, matching: "PUT "))
      case .restoreFails:
        // GitHub refuses the push, then Fly refuses the restore: Fly keeps the new value, which must
        // stay live (and `--finish` then settles it).
        f.github.inject(.failRequest(number: 1, status: 422, matching: "PUT "))
        f.fly.inject(.failRequest(number: 2, status: 422, matching: "POST /v1/apps/\(RotateCommandTests.app)/secrets"))
      case .machineNeverStarts: f.fly.neverStarts(app: RotateCommandTests.app, machine: "\(RotateCommandTests.app)-m1")
      case .revokeFails: f.providers.failNext(.openaiDelete, status: 500, times: 10)
      default: break
      }
    }
  }

  /// A second Fly app carrying the OpenAI key (two machines, rolling).
  static let secondApp = "hotdash-worker"

  /// The rotation fixture with a second Fly app in the policy, synced.
  static func fixture(healthPath: String?) async throws -> Fixture {
    let f = try await RotateCommandTests.fixture(healthPath: healthPath)
    f.fly.addApp(secondApp, machines: 2)
    let policy = RotateCommandTests.policy(
      f.providers.baseURL, healthURL: healthPath.map { f.providers.baseURL + $0 })
    let github = "\n  github:\n"
    try #require(policy.contains(github))
    try f.h.writePolicy(
      policy.replacingOccurrences(
        of: github, with: "\n    - { app: \(secondApp), services: [openai], deploy: rolling }" + github))
    let synced = try await f.h.run(["sync", "prod", "--deploy", "stage"])
    try #require(synced.status == 0, "\(synced.allOutput)")
    try #require(f.fly.secretValues(app: secondApp)["OPENAI_API_KEY"] == RotateCommandTests.oldOpenAI)
    return f
  }

  /// Values of `OPENAI_API_KEY` that any target holds right now: both Fly apps and GitHub.
  static func held(_ f: Fixture) -> [String] {
    [
      f.fly.secretValues(app: RotateCommandTests.app)["OPENAI_API_KEY"],
      f.fly.secretValues(app: secondApp)["OPENAI_API_KEY"],
      f.github.secrets(repository: RotateCommandTests.repo, environment: "production")["OPENAI_API_KEY"],
    ].compactMap { $0 }
  }

  /// OpenAI credentials the provider accepts now.
  static func live(_ f: Fixture) -> Set<String> {
    Set(f.providers.openAIServiceAccounts().flatMap(\.keys).filter { f.providers.isValid($0, for: .openai) })
  }

  final class Poller: @unchecked Sendable {
    private let lock = NSLock()
    private var violations: [String] = []
    private var polls = 0
    private var stopped = false

    func record(_ violation: String) { lock.withLock { violations.append(violation) } }
    func tick() { lock.withLock { polls += 1 } }
    func stop() { lock.withLock { stopped = true } }
    var isStopped: Bool { lock.withLock { stopped } }
    var result: (violations: [String], polls: Int) { lock.withLock { (violations, polls) } }
  }

  @Test(arguments: Fault.allCases)
  func noTargetEverHoldsARevokedCredential(fault: Fault) async throws {
    // verify: the Fly app's health URL answers 404 after the restart.
    let f = try await Self.fixture(healthPath: fault == .verifyFails ? "/no-such-health-endpoint" : nil)
    defer { f.stop() }
    fault.inject(into: f)
    let poller = Poller()
    let watch = Task.detached(priority: .high) {
      while !poller.isStopped {
        for value in Self.held(f) where !f.providers.isValid(value, for: .openai) {
          poller.record("a target holds a credential the provider no longer accepts (\(value.prefix(12))…)")
        }
        poller.tick()
        try? await Task.sleep(for: .milliseconds(20))
      }
    }
    // The watch has looked once before anything starts.
    while poller.result.polls == 0 { try await Task.sleep(for: .milliseconds(5)) }
    var arguments = ["openai/API_KEY_PROD", "--deploy", "rolling", "--format", "json"]
    if fault == .machineNeverStarts { arguments += ["--machine-timeout", "1"] }
    let env = fault.crashStep.map { ["HOTSECRETS_TEST_CRASH_AFTER": $0] } ?? [:]
    var report = try await f.rotate(arguments, env: env)
    if fault.crashStep != nil {
      #expect(report.status == 137, "\(report.allOutput)")
      report = try await f.rotate(["--resume", "--format", "json"])
    }
    // Whatever a failed rollback kept live is settled.
    let finished = try await f.rotate(["--finish", "--format", "json"])
    #expect(finished.status == 0, "\(fault): \(finished.allOutput)")
    poller.stop()
    await watch.value

    let (violations, polls) = poller.result
    #expect(violations.isEmpty, "\(fault): \(violations.prefix(3))")
    #expect(polls >= 2)  // before the run and after it, at least (a failed create ends in milliseconds)
    let current = try await f.current("openai", "API_KEY_PROD")
    let json = try f.h.json(report)
    let revocation = ((json["keys"] as? [[String: Any]])?.first?["revocation"] as? String)
    if fault == .revokeFails {
      // The report says why two are live: the old one could not be revoked (and verify warns).
      #expect(revocation == "failed")
      #expect(Self.live(f) == [current, RotateCommandTests.oldOpenAI])
    } else {
      #expect(Self.live(f) == [current], "\(fault): \(report.allOutput)")
    }
    // Every target holds the vault's current value at the end.
    #expect(Self.held(f).count == 3)
    #expect(Self.held(f).allSatisfy { $0 == current }, "\(fault)")
  }

  /// Chatwoot is single-phase: resetting the token kills the old one, so the Fly app holds a dead
  /// token until the push lands — the window the plan declares. It must close when the run ends.
  /// The measured length is printed (docs/rotation.md quotes it).
  @Test func chatwootsSinglePhaseWindowClosesWithTheRun() async throws {
    let f = try await RotateCommandTests.fixture()
    defer { f.stop() }
    let lock = NSLock()
    nonisolated(unsafe) var dead: [ContinuousClock.Instant] = []
    nonisolated(unsafe) var running = true
    let watch = Task.detached(priority: .high) {
      while lock.withLock({ running }) {
        if let token = f.fly.secretValues(app: RotateCommandTests.app)["CHATWOOT_API_TOKEN"],
          !f.providers.isValid(token, for: .chatwoot)
        {
          lock.withLock { dead.append(.now) }
        }
        try? await Task.sleep(for: .milliseconds(5))
      }
    }
    let r = try await f.rotate(["chatwoot/API_TOKEN", "--deploy", "rolling"])
    #expect(r.status == 0, "\(r.allOutput)")
    let ended = ContinuousClock.now
    try await Task.sleep(for: .milliseconds(50))
    lock.withLock { running = false }
    await watch.value
    let seen = lock.withLock { dead }
    #expect(seen.allSatisfy { $0 < ended }, "the Fly app still held the dead token after the run")
    let window = seen.isEmpty ? Duration.zero : seen.last! - seen.first!
    print("chatwoot single-phase window against the loopback fakes: \(seen.count) polls, \(window)")
  }
}
