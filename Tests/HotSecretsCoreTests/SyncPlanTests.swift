import Foundation
import Testing

@testable import HotSecretsCompliance
@testable import HotSecretsModel
@testable import HotSecretsOperations
@testable import HotSecretsPolicy
@testable import HotSecretsVault
@testable import RemoteAPIs
@testable import VaultSQLite

@Suite struct SyncPlanTests {
  static let policyText = """
    version: 1
    environment: prod
    services:
      openai:
        keys:
          API_KEY_PROD: { target_name: OPENAI_API_KEY }
      app:
        keys:
          SESSION_SECRET: {}
    targets:
      fly:
        - { app: hotdash-production, services: [openai, app] }
      github:
        - { repository: hotrodan/hot-dash, environment: production, services: [openai] }
    """

  func stored(_ values: [String: String]) -> [ServiceKey: StoredSecret] {
    var result: [ServiceKey: StoredSecret] = [:]
    for (name, value) in values {
      let parts = name.split(separator: "/").map(String.init)
      result[ServiceKey(service: parts[0], key: parts[1])] = StoredSecret(
        version: 1, createdAt: "2026-11-01T00:00:00Z", fingerprint: "fp-\(name)", value: Array(value.utf8))
    }
    return result
  }

  func plans(_ values: [String: String], policy policyText: String = policyText) throws -> [TargetPlan] {
    let policy = try PolicyParser.parse(policyText, file: "policies/prod.yaml")
    return try SyncPlanner.plans(policy: policy, kinds: Set(SyncTargetKind.allCases), stored: stored(values))
  }

  @Test func targetNamesUndeclaredKeysAndOtherServices() throws {
    let plans = try plans([
      "openai/API_KEY_PROD": "sk-1", "openai/EXTRA": "x", "app/SESSION_SECRET": "s", "chatwoot/API_TOKEN": "c",
    ])
    #expect(plans.map(\.id.description) == ["fly:hotdash-production", "github:hotrodan/hot-dash:production"])
    // Undeclared keys of a targeted service go too; services not in a target do not.
    #expect(plans[0].secrets.map(\.name) == ["EXTRA", "OPENAI_API_KEY", "SESSION_SECRET"])
    #expect(
      plans[0].secrets.map(\.source.description) == ["openai/EXTRA", "openai/API_KEY_PROD", "app/SESSION_SECRET"])
    #expect(plans[1].secrets.map(\.name) == ["EXTRA", "OPENAI_API_KEY"])
  }

  @Test func twoKeysUnderOneNameAreAnErrorNamingBoth() throws {
    #expect(
      throws: SyncError.nameCollision(
        target: "fly:hotdash-production", name: "OPENAI_API_KEY", first: "app/OPENAI_API_KEY",
        second: "openai/API_KEY_PROD")
    ) {
      try plans(["openai/API_KEY_PROD": "a", "app/OPENAI_API_KEY": "b"])
    }
  }

  @Test func gitHubNamesCollideCaseInsensitively() throws {
    let error = #expect(throws: SyncError.self) {
      try plans(["openai/API_KEY_PROD": "a", "openai/openai_api_key": "b"])
    }
    #expect(error?.errorDescription?.contains("github:hotrodan/hot-dash:production") == true)
  }

  @Test func gitHubNameRules() {
    #expect(SyncPlanner.gitHubNameProblem("OPENAI_API_KEY") == nil)
    #expect(SyncPlanner.gitHubNameProblem("_X1") == nil)
    #expect(SyncPlanner.gitHubNameProblem("GITHUB_TOKEN")?.contains("GITHUB_") == true)
    #expect(SyncPlanner.gitHubNameProblem("github_x")?.contains("GITHUB_") == true)
    #expect(SyncPlanner.gitHubNameProblem("1KEY")?.contains("digit") == true)
    #expect(SyncPlanner.gitHubNameProblem("A-B")?.contains("letters") == true)
    #expect(SyncPlanner.gitHubNameProblem("")?.contains("empty") == true)
  }

  @Test func invalidGitHubNameOrOversizedValueStopsThePlan() throws {
    let bad = #expect(throws: SyncError.self) { try plans(["openai/API_KEY_PROD": "a", "openai/GITHUB_PAT": "b"]) }
    #expect(bad?.errorDescription?.contains("openai/GITHUB_PAT cannot be pushed as GITHUB_PAT") == true)
    let big = String(repeating: "a", count: 48 * 1024 + 1)
    let large = #expect(throws: SyncError.self) { try plans(["openai/API_KEY_PROD": big]) }
    #expect(large?.errorDescription?.contains("49153 bytes") == true)
    // Exactly 48 KB is allowed.
    #expect(throws: Never.self) { try plans(["openai/API_KEY_PROD": String(repeating: "a", count: 48 * 1024)]) }
  }

  @Test func flyDigestIsHexMD5() {
    #expect(FlyDigest.of(Array("asdf".utf8)) == "912ec803b2ce49e4a541068d495ab570")
    #expect(FlyDigest.of([]) == "d41d8cd98f00b204e9800998ecf8427e")
    #expect(FlyDigest.isMD5("912ec803b2ce49e4a541068d495ab570"))
    #expect(!FlyDigest.isMD5("v1:912ec803b2ce49e4a541068d495ab570"))
    #expect(!FlyDigest.isMD5("912ec803b2ce49e4a541068d495ab57g"))
  }

  @Test func remoteTimestamps() {
    #expect(RemoteTimestamp.isNewer("2026-11-30T01:02:04Z", than: "2026-11-30T01:02:03Z"))
    #expect(!RemoteTimestamp.isNewer("2026-11-30T01:02:03Z", than: "2026-11-30T01:02:03Z"))
    #expect(RemoteTimestamp.isNewer("2026-11-30T01:02:03.500Z", than: "2026-11-30T01:02:03Z"))
    #expect(!RemoteTimestamp.isNewer("garbage", than: "2026-11-30T01:02:03Z"))
  }

  @Test func comparisonRulesSharedBySyncAndVerify() {
    let secret = PlannedSecret(
      name: "K", source: ServiceKey(service: "s", key: "K"), version: 2, fingerprint: "fp2", value: Array("asdf".utf8))
    let md5 = "912ec803b2ce49e4a541068d495ab570"
    func ledger(_ fp: String, _ updated: String?) -> PushLedgerEntry {
      PushLedgerEntry(
        target: "t", name: "K", source: secret.source, version: 1, fingerprint: fp, pushedAt: "2026-11-30T00:00:00Z",
        remoteUpdatedAt: updated)
    }
    #expect(TargetComparison.fly(secret, remote: nil, ledger: nil).0 == .missing)
    #expect(TargetComparison.fly(secret, remote: .init(name: "K", digest: md5, updatedAt: nil), ledger: nil).0 == .same)
    #expect(
      TargetComparison.fly(
        secret, remote: .init(name: "K", digest: String(repeating: "0", count: 32), updatedAt: nil),
        ledger: ledger("fp2", nil)
      ).0 == .differs(elsewhere: true))
    let opaque = FlyAppSecret(name: "K", digest: "v1:xyz", updatedAt: "2026-11-30T00:00:05Z")
    #expect(TargetComparison.fly(secret, remote: opaque, ledger: nil) == (.unknown, true))
    #expect(TargetComparison.fly(secret, remote: opaque, ledger: ledger("fp2", "2026-11-30T00:00:05Z")).0 == .same)
    #expect(
      TargetComparison.fly(secret, remote: opaque, ledger: ledger("fp2", "2026-11-30T00:00:01Z")).0
        == .differs(elsewhere: true))
    let gh = GitHubSecret(name: "K", updatedAt: "2026-11-30T00:00:05Z")
    #expect(TargetComparison.github(secret, remote: gh, ledger: nil) == .unknown)
    #expect(
      TargetComparison.github(secret, remote: gh, ledger: ledger("fp1", "2026-11-30T00:00:05Z"))
        == .differs(elsewhere: false))
    #expect(TargetComparison.github(secret, remote: gh, ledger: ledger("fp2", "2026-11-30T00:00:05Z")) == .same)
  }
}
