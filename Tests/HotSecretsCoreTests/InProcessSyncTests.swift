import Foundation
import Testing

@testable import HotSecretsCompliance
@testable import HotSecretsModel
@testable import HotSecretsOperations
@testable import HotSecretsPolicy
@testable import HotSecretsVault
@testable import RemoteAPIs
@testable import VaultSQLite

/// `SecretsSync` in process, through the target protocols (no HTTP, no binary): what a Fly app is
/// sent, what is recorded, and what a refusing API leaves behind.
@Suite(.remoteDiagnostics) struct InProcessSyncTests {
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
