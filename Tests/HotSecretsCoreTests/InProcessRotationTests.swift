import Foundation
import Testing

@testable import HotSecretsModel
@testable import HotSecretsOperations
@testable import HotSecretsPolicy
@testable import HotSecretsVault
@testable import RemoteAPIs
@testable import VaultSQLite

/// `Rotation` in process, through the provider, target and store protocols: a run stopped at every
/// step (a throwing checkpoint, as a crash would stop it) and a run whose journal refuses each of its
/// writes in turn are finished by `resume()`, and leave exactly one live credential: the vault's
/// current value, which is also what the Fly app holds.
@Suite(.remoteDiagnostics) struct InProcessRotationTests {
  struct Crash: Error {}

  static let initial = "sk-initial-0123456789abcdef"
  static let name = ServiceKey(service: "openai", key: "API_KEY")
  static let policy = """
    version: 1
    environment: prod
    services:
      openai:
        provider: { kind: openai, project_id: proj_test }
        keys:
          API_KEY: { rotate: provider, target_name: OPENAI_API_KEY }
    targets:
      fly:
        - { app: web, services: [openai], deploy: rolling }
    """

  /// A vault holding the initial key, a Fly app in step with it, a provider where it is live.
  struct World {
    let vault: TestVault
    let fly = MemoryFly()
    let provider = MemoryProvider(live: ["cred-0": InProcessRotationTests.initial])
    let policy: Policy

    init() throws {
      vault = try TestVault()
      try vault.session.set(
        SecretAddress(trusted: "prod", service: "openai", key: "API_KEY"), value: bytes(InProcessRotationTests.initial))
      fly.values = ["OPENAI_API_KEY": InProcessRotationTests.initial]
      policy = try PolicyParser.parse(InProcessRotationTests.policy, file: "policies/prod.yaml")
    }

    /// A session on `store` (the vault's file, possibly wrapped).
    func session(_ wrap: (any VaultStore) -> any VaultStore = { $0 }) throws -> VaultSession {
      try VaultAccess.unlock(
        wrap(try SQLiteStore.open(path: vault.path)), with: .identity(vault.identity), user: "tester")
    }

    func rotation(
      _ session: VaultSession, checkpoint: @escaping @Sendable (RotationStep) throws -> Void = { _ in }
    ) -> Rotation {
      Rotation(
        session: session, policy: policy, providers: [.openai: provider], probe: nil, fly: fly, github: nil,
        options: RotationOptions(keys: [InProcessRotationTests.name], checkInterval: 0), checkpoint: checkpoint)
    }

    /// The vault's current value of the key.
    func current() throws -> String {
      let value = try vault.reopen().get(SecretAddress(trusted: "prod", service: "openai", key: "API_KEY"))
      return String(decoding: value.withUnsafeBytes { Array($0) }, as: UTF8.self)
    }

    /// No run left unfinished; one live credential, the vault's current value, which Fly holds too.
    func expectSettled(_ comment: Comment) throws {
      let session = try vault.reopen()
      #expect(try session.database.read { try $0.journal.unfinished(environment: "prod") } == nil, comment)
      let current = try current()
      #expect(provider.liveValues == [current], comment)
      #expect(fly.values["OPENAI_API_KEY"] == current, comment)
    }
  }

  @Test func aCleanRunReplacesTheCredentialEverywhere() async throws {
    let world = try World()
    let report = try await world.rotation(try world.session()).run()
    #expect(report.outcome == .completed)
    #expect(try world.current() != Self.initial)
    try world.expectSettled("clean run")
  }

  /// Stopped right after each step is journaled, then resumed: before promote the run rolls back to
  /// the initial credential; from promote on it finishes with the new one.
  @Test(arguments: [RotationStep.plan, .create, .test, .push, .verify, .promote, .revoke])
  func aRunStoppedAfterAnyStepIsFinishedByResume(step: RotationStep) async throws {
    let world = try World()
    await #expect(throws: Crash.self) {
      _ = try await world.rotation(try world.session()) { if $0 == step { throw Crash() } }.run()
    }
    #expect(try world.vault.reopen().database.read { try $0.journal.unfinished(environment: "prod") } != nil)
    let resumed = try await world.rotation(try world.session()).resume()
    #expect(resumed.outcome == (step < .promote ? .rolledBack : .completed), "stopped after \(step)")
    #expect((try world.current() == Self.initial) == (step < .promote), "stopped after \(step)")
    try world.expectSettled("stopped after \(step)")
  }

  /// Each journal write of a clean run fails in turn: the run stops at that write (nothing after it
  /// happens as if it had been recorded), and `resume` (when a run was begun) settles it.
  @Test func aJournalWriteFailingAnywhereStopsTheRunAndResumeSettlesIt() async throws {
    let counting = try World()
    let counter = FailingStore(try SQLiteStore.open(path: counting.vault.path))
    _ = try await counting.rotation(try counting.session { _ in counter }).run()
    let writes = counter.journalWrites
    #expect(writes >= 8)
    for failAt in 1...writes {
      let world = try World()
      let failing = FailingStore(try SQLiteStore.open(path: world.vault.path), failAt: failAt)
      await #expect(throws: FailingStore.InjectedFailure.self, "journal write \(failAt) of \(writes)") {
        _ = try await world.rotation(try world.session { _ in failing }).run()
      }
      if try world.vault.reopen().database.read({ try $0.journal.unfinished(environment: "prod") }) != nil {
        _ = try await world.rotation(try world.session()).resume()
      }
      try world.expectSettled("journal write \(failAt) of \(writes) failed")
    }
  }
}
