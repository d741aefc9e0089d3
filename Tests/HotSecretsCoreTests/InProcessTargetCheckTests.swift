import Foundation
import Testing

@testable import HotSecretsModel
@testable import HotSecretsOperations
@testable import HotSecretsPolicy
@testable import HotSecretsVault
@testable import RemoteAPIs

/// `TargetCheck` (`verify --targets`) in process, through the Fly protocol: what it finds in step,
/// missing, changed behind hotsecrets' back, never pushed, and unreadable.
@Suite struct InProcessTargetCheckTests {
  static let value = "sk-live-0123456789abcdef"

  func check(_ vault: TestVault, _ fly: MemoryFly?) async throws -> VerifyReport {
    var report = VerifyReport(environment: "prod")
    try await TargetCheck(
      session: vault.session, policy: try PolicyParser.parse(InProcessSyncTests.policy, file: "policies/prod.yaml"),
      fly: fly, github: nil
    ).run(into: &report)
    return report
  }

  func pushed() async throws -> (TestVault, MemoryFly) {
    let vault = try TestVault()
    try vault.session.set(address("prod", "openai", "API_KEY"), value: bytes(Self.value))
    let fly = MemoryFly()
    _ = try await SecretsSync(
      session: vault.session, policy: try PolicyParser.parse(InProcessSyncTests.policy, file: "policies/prod.yaml"),
      fly: fly, github: nil, options: SyncOptions(kinds: [.fly])
    ).run()
    return (vault, fly)
  }

  @Test func anAppInStepPasses() async throws {
    let (vault, fly) = try await pushed()
    let report = try await check(vault, fly)
    #expect(report.findings.isEmpty)
    #expect(report.passedChecks == 1)
  }

  @Test func aMissingSecretIsAnError() async throws {
    let vault = try TestVault()
    try vault.session.set(address("prod", "openai", "API_KEY"), value: bytes(Self.value))
    let report = try await check(vault, MemoryFly())
    #expect(report.findings.map(\.check) == [.targetMissing])
    #expect(report.errors == 1)
  }

  @Test func aValueChangedAfterThePushIsDrift() async throws {
    let (vault, fly) = try await pushed()
    fly.values["OPENAI_API_KEY"] = "sk-live-changed-by-hand-0000"
    let report = try await check(vault, fly)
    #expect(report.findings.map(\.check) == [.targetDrift])
    #expect(report.findings.first?.severity == .error)
    #expect(report.findings.first?.message.contains(Self.value) == false)
  }

  /// A name the app holds that hotsecrets never pushed: Fly's digest shows it is another value than
  /// the vault's, so it is drift (an error), not an unknown.
  @Test func aSecretSetElsewhereWithAnotherValueIsDrift() async throws {
    let vault = try TestVault()
    try vault.session.set(address("prod", "openai", "API_KEY"), value: bytes(Self.value))
    let fly = MemoryFly()
    fly.values["OPENAI_API_KEY"] = "sk-live-set-elsewhere-000000"
    let report = try await check(vault, fly)
    #expect(report.findings.map(\.check) == [.targetDrift])
    #expect(report.findings.first?.severity == .error)
    #expect(report.findings.first?.message.contains("holds another value") == true)
  }

  @Test func anUnreadableAppIsUnreachableAndNoTokenSaysWhichIsMissing() async throws {
    let (vault, _) = try await pushed()
    let none = try await check(vault, nil)
    #expect(none.findings.map(\.check) == [.unreachable])
    #expect(none.findings.first?.message.contains("FLY_API_TOKEN") == true)
  }
}
