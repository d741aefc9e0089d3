import Foundation
import Testing

@testable import HotSecretsCore

/// `SecretsSync` in process, through the target protocols (no HTTP, no binary): what a Fly app is
/// sent, what is recorded, and what a refusing API leaves behind.
@Suite(.remoteDiagnostics) struct InProcessSyncTests {
  /// A Fly app in memory: its secrets and their digests; a bulk update can be made to fail.
  final class MemoryFly: FlyMachinesAPI, @unchecked Sendable {
    private let lock = NSLock()
    var values: [String: String] = [:]
    var version = 0
    var refusal: RemoteError?
    var updates = 0

    func listSecrets(app: String) async throws -> [FlyAppSecret] {
      lock.withLock { values.map { FlyAppSecret(name: $0.key, digest: FlyDigest.of(Array($0.value.utf8)) ?? "", updatedAt: nil) } }
    }

    func updateSecrets(app: String, values new: [String: String]) async throws -> FlySecretsUpdate {
      try lock.withLock {
        updates += 1
        if let refusal { throw refusal }
        values.merge(new) { $1 }
        version += 1
        return FlySecretsUpdate(version: version, secrets: [])
      }
    }

    func listMachines(app: String) async throws -> [FlyMachine] { [] }
    func machine(app: String, id: String) async throws -> FlyMachine { throw RemoteError(status: 404, reason: "none") }
    func updateMachine(app: String, machine: FlyMachine, minSecretsVersion: Int) async throws -> FlyMachine { machine }
    func waitStarted(app: String, machineID: String, instanceID: String?, timeout: Int) async throws -> Bool { true }
  }

  static let policy = """
    version: 1
    environment: prod
    services:
      openai:
        keys:
          API_KEY: { target_name: OPENAI_API_KEY }
    targets:
      fly:
        - { app: web, services: [openai] }
    """

  func sync(_ vault: TestVault, _ fly: MemoryFly) async throws -> SyncReport {
    try await SecretsSync(
      session: vault.session, policy: try PolicyParser.parse(Self.policy, file: "policies/prod.yaml"), fly: fly,
      github: nil, options: SyncOptions(kinds: [.fly])
    ).run()
  }

  @Test func pushesOnceThenFindsTheAppInStep() async throws {
    let vault = try TestVault()
    try vault.session.set(address("prod", "openai", "API_KEY"), value: bytes("sk-live-0123456789abcdef"))
    let fly = MemoryFly()
    let first = try await sync(vault, fly)
    #expect(first.succeeded)
    #expect(fly.values == ["OPENAI_API_KEY": "sk-live-0123456789abcdef"])
    #expect(first.targets[0].pushed.map(\.name) == ["OPENAI_API_KEY"])
    let second = try await sync(vault, fly)
    #expect(second.targets[0].unchanged == ["OPENAI_API_KEY"])
    #expect(fly.updates == 1)
  }

  /// A refused bulk update: the report and the audit entry hold hotsecrets' words and the
  /// category; the API's message (which quoted the value) is in neither.
  @Test func aRefusalIsStoredAsItsCategoryNeverAsTheAPIsText() async throws {
    let vault = try TestVault()
    let value = "sk-live-0123456789abcdef"
    try vault.session.set(address("prod", "openai", "API_KEY"), value: bytes(value))
    let fly = MemoryFly()
    fly.refusal = RemoteError(
      status: 422, reason: "fly answered HTTP 422", apiMessage: "invalid value \"\(value.prefix(12))\"")
    let report = try await sync(vault, fly)
    let target = try #require(report.targets.first)
    #expect(!target.succeeded)
    #expect(target.failed.map(\.category) == ["http-422"])
    #expect(target.failed.map(\.reason) == ["fly answered HTTP 422"])
    let sync = try #require(try vault.session.auditEntries().last { $0.action == AuditAction.sync.rawValue })
    let detail = sync.detail ?? ""
    #expect(detail.contains("\"category\":\"http-422\""))
    #expect(!detail.contains("invalid value"))
    #expect(!detail.contains(String(value.prefix(8))))
  }
}
