import Foundation
import Testing

@testable import HotSecretsModel
@testable import HotSecretsOperations
@testable import HotSecretsPolicy
@testable import HotSecretsVault
@testable import RemoteAPIs
@testable import VaultSQLite

/// What a run leaves live is tracked until `Rotation.settle()` (`rotate --finish`) settles it: a
/// new value kept after a rollback that could not restore Fly, and an old credential deferred while
/// a staged Fly app's machines still ran the old secrets.
@Suite(.remoteDiagnostics) struct InProcessSettleTests {
  static let initial = "sk-initial-0123456789abcdef"
  static let name = ServiceKey(service: "openai", key: "API_KEY")
  static let address = SecretAddress(trusted: "prod", service: "openai", key: "API_KEY")

  static func policy(deploy: String, health: Bool = false) -> String {
    """
    version: 1
    environment: prod
    services:
      openai:
        provider: { kind: openai, project_id: proj_test }
        keys:
          API_KEY: { rotate: provider, target_name: OPENAI_API_KEY }
    targets:
      fly:
        - { app: web, services: [openai], deploy: \(deploy)\(health ? ", health_url: 'https://health.example.test/'" : "") }
    """
  }

  struct World {
    let vault: TestVault
    let fly = MemoryFly()
    let provider = MemoryProvider(live: ["cred-0": InProcessSettleTests.initial])
    let probe = MemoryProbe()
    let policy: Policy

    init(deploy: String = "rolling", health: Bool = false) throws {
      vault = try TestVault()
      try vault.session.set(InProcessSettleTests.address, value: bytes(InProcessSettleTests.initial))
      fly.values = ["OPENAI_API_KEY": InProcessSettleTests.initial]
      policy = try PolicyParser.parse(
        InProcessSettleTests.policy(deploy: deploy, health: health), file: "policies/prod.yaml")
    }

    func rotation() throws -> Rotation {
      Rotation(
        session: try vault.reopen(), policy: policy, providers: [.openai: provider], probe: probe, fly: fly,
        github: nil, options: RotationOptions(keys: [InProcessSettleTests.name], checkInterval: 0))
    }

    func current() throws -> String {
      let value = try vault.reopen().get(InProcessSettleTests.address)
      return String(decoding: value.withUnsafeBytes { Array($0) }, as: UTF8.self)
    }

    func verify() async throws -> VerifyReport {
      try await PolicyCheck(session: try vault.reopen(), policy: policy, probe: nil, options: .init()).run()
    }

    func findings(_ check: Finding.Check) async throws -> [Finding] {
      try await verify().findings.filter { $0.check == check }
    }
  }

  /// Fly refuses the push: its digest shows the previous value, so the rollback leaves it alone
  /// (no restore request at all) and revokes the new credential at once; nothing is kept live.
  @Test func aTargetThatNeverTookTheNewValueIsNotRestoredAndTheNewCredentialGoes() async throws {
    let world = try World()
    world.fly.refuseFrom = 1
    let report = try await world.rotation().run()
    #expect(report.outcome == .rolledBack)
    #expect(world.fly.updates == 1)
    #expect(world.provider.liveValues == [Self.initial])
    #expect(try await world.findings(.orphanCredential).isEmpty)
    #expect(try await world.rotation().settle().entries.isEmpty)
  }

  /// Fly takes the new value, the health check fails, Fly refuses the restore: the new value is kept
  /// live and tracked. A later sync puts the previous value back on Fly; `settle` then sees from the
  /// digests that no target holds the new value, and revokes it.
  @Test func aNewValueNoTargetHoldsAnyMoreIsRevokedBySettle() async throws {
    let world = try World(health: true)
    world.probe.health = .rejected("HTTP 503")
    world.fly.refuseFrom = 2
    let report = try await world.rotation().run()
    #expect(report.outcome == .rolledBack)
    #expect(world.provider.liveValues.count == 2)
    let orphan = try #require(try await world.findings(.orphanCredential).first)
    #expect(orphan.message.contains("kept live"))
    #expect(orphan.remedy == .finishRotation)
    let kept = try #require(report.items.first?.newVersion)
    #expect(try world.vault.reopen().versionValue(Self.address, version: kept).isEmpty == false)

    world.fly.refuseFrom = nil
    _ = try await SecretsSync(
      session: try world.vault.reopen(), policy: world.policy, fly: world.fly, github: nil,
      options: SyncOptions(kinds: [.fly])
    ).run()
    #expect(world.fly.values["OPENAI_API_KEY"] == Self.initial)
    let settlement = try await world.rotation().settle()
    #expect(settlement.entries.map(\.outcome) == [.newRevoked])
    #expect(settlement.settled)
    #expect(world.provider.liveValues == [Self.initial])
    #expect(try world.current() == Self.initial)
    #expect(try await world.findings(.orphanCredential).isEmpty)
    // Its ciphertext is gone now.
    #expect(throws: VaultError.self) { try world.vault.reopen().versionValue(Self.address, version: kept) }
    // Nothing left: a second settle has nothing to do.
    #expect(try await world.rotation().settle().entries.isEmpty)
  }

  /// Fly takes the push, the health check fails, and Fly refuses the restore: Fly runs the new
  /// value. `settle` finds it there, pushes and verifies it everywhere, promotes it and revokes the
  /// old credential.
  @Test func aNewValueATargetHoldsIsPromotedBySettle() async throws {
    let world = try World(health: true)
    world.probe.health = .rejected("HTTP 503")
    world.fly.refuseFrom = 2
    let report = try await world.rotation().run()
    #expect(report.outcome == .rolledBack)
    let new = try #require(world.fly.values["OPENAI_API_KEY"])
    #expect(new != Self.initial)
    #expect(try await world.findings(.orphanCredential).count == 1)

    world.fly.refuseFrom = nil
    world.probe.health = .accepted
    let settlement = try await world.rotation().settle()
    #expect(settlement.entries.map(\.outcome) == [.promoted(.revoked)])
    #expect(try world.current() == new)
    #expect(world.provider.liveValues == [new])
    #expect(world.fly.values["OPENAI_API_KEY"] == new)
    #expect(try await world.findings(.orphanCredential).isEmpty)
    #expect(try await world.findings(.oldCredential).isEmpty)
  }

  /// A staged Fly app: the old credential is deferred while a machine runs the old secrets version;
  /// `settle` names that machine and revokes nothing; once it runs the new version, it revokes.
  @Test func aDeferredOldCredentialIsRevokedOnceEveryMachineRunsTheNewSecrets() async throws {
    let world = try World(deploy: "stage")
    world.fly.machines = [
      FlyMachine(id: "m1", state: "started", instanceID: nil, config: nil, checks: [], minSecretsVersion: 0)
    ]
    let report = try await world.rotation().run()
    #expect(report.outcome == .completed)
    #expect(report.items.first?.revocation == .deferred)
    let new = try world.current()
    #expect(world.provider.liveValues == [Self.initial, new])
    #expect(try await world.findings(.oldCredential).first?.remedy == .finishRotation)

    let waiting = try await world.rotation().settle()
    #expect(!waiting.settled)
    guard case .waiting(let why) = waiting.entries.first?.outcome else {
      Issue.record("expected waiting, got \(String(describing: waiting.entries.first?.outcome))")
      return
    }
    #expect(why.contains("fly:web/m1"))
    #expect(world.provider.liveValues == [Self.initial, new])

    world.fly.machines = [
      FlyMachine(id: "m1", state: "started", instanceID: nil, config: nil, checks: [], minSecretsVersion: world.fly.version)
    ]
    let done = try await world.rotation().settle()
    #expect(done.entries.map(\.outcome) == [.oldRevoked])
    #expect(world.provider.liveValues == [new])
    #expect(try await world.findings(.oldCredential).isEmpty)
  }

  /// The journal is not authenticated: a writer of the vault file without its keys who points a
  /// deferred item's old credential id at the current credential gets nothing revoked but the
  /// credential whose secret is the old value, found at the provider from that value.
  @Test func settleRevokesWhatTheValueSaysNotWhatTheJournalSays() async throws {
    let world = try World(deploy: "stage")
    _ = try await world.rotation().run()
    let new = try world.current()
    let newID = try #require(world.provider.live.first { $0.value == new }?.key)
    try world.vault.tamper("UPDATE rotation_items SET old_credential_id = ?", [newID])
    try world.vault.tamper("DELETE FROM credential_ids")
    let done = try await world.rotation().settle()
    #expect(done.entries.map(\.outcome) == [.oldRevoked])
    #expect(world.provider.liveValues == [new])
  }

  /// `--confirm-revoked` accepts a new value kept live: the operator revoked it by hand; its
  /// ciphertext goes, and `verify` stops warning.
  @Test func confirmRevokedAcceptsANewValueKeptLive() async throws {
    let world = try World(health: true)
    world.probe.health = .rejected("HTTP 503")
    world.fly.refuseFrom = 2
    _ = try await world.rotation().run()
    #expect(try await world.findings(.orphanCredential).count == 1)
    try world.rotation().confirmRevoked(Self.name)
    #expect(try await world.findings(.orphanCredential).isEmpty)
    #expect(try await world.rotation().settle().entries.isEmpty)
  }

  /// Settling refuses while a run is unfinished (resume it first).
  @Test func settleWaitsForAnUnfinishedRun() async throws {
    let world = try World()
    struct Crash: Error {}
    let session = try world.vault.reopen()
    let crashing = Rotation(
      session: session, policy: world.policy, providers: [.openai: world.provider], probe: nil, fly: world.fly,
      github: nil, options: RotationOptions(keys: [Self.name], checkInterval: 0), checkpoint: { _ in throw Crash() })
    await #expect(throws: Crash.self) { _ = try await crashing.run() }
    await #expect(throws: RotationError.self) { _ = try await world.rotation().settle() }
  }
}
