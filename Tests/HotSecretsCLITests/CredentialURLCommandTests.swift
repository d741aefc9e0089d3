import Foundation
import TestSupport
import Testing

/// Every URL a credential goes to is https unless its host is loopback, whatever the setting it
/// comes from; a violation stops `verify --live` before any request (exit 2, naming the setting).
extension VerifyCommandTests {
  enum URLSource: String, CaseIterable, Sendable {
    case openAIVariable, chatwootBaseURL, shopifyShop, supabaseURLInTheVault
  }

  @Test(arguments: URLSource.allCases)
  func plainHTTPToAnotherHostIsRefusedBeforeAnyRequest(_ source: URLSource) async throws {
    let fakes = try await FakeProviders.start()
    defer { fakes.stop() }
    let remote = "http://provider.example.com"
    let h = try await prepared(
      supabaseURL: source == .supabaseURLInTheVault ? remote : fakes.baseURL, providers: fakes.baseURL)
    h.environment["HOTSECRETS_OPENAI_API_URL"] = source == .openAIVariable ? remote : fakes.baseURL
    let setting: String
    switch source {
    case .openAIVariable:
      setting = "HOTSECRETS_OPENAI_API_URL must be an https URL"
    case .chatwootBaseURL, .shopifyShop:
      let field = source == .chatwootBaseURL ? "base_url" : "shop"
      let service = source == .chatwootBaseURL ? "chatwoot" : "shopify"
      let text = try String(contentsOfFile: h.path("policies/prod.yaml"), encoding: .utf8)
        .replacingOccurrences(of: "\(field): '\(fakes.baseURL)'", with: "\(field): '\(remote)'")
      try text.write(toFile: h.path("policies/prod.yaml"), atomically: true, encoding: .utf8)
      setting = "services.\(service).provider.\(field) must be an https URL"
    case .supabaseURLInTheVault:
      setting = "the vault's prod/supabase/SUPABASE_URL must be an https URL"
    }
    let r = try await h.run(["verify", "prod", "--live"])
    #expect(r.status == 2, "\(r.allOutput)")
    #expect(r.stderr.contains(setting), "\(r.stderr)")
    #expect(r.stderr.contains("not http://provider.example.com"))
    #expect(fakes.requests.isEmpty)
    // Nothing went out, so nothing is recorded as sent.
    let log = try await h.run(["audit", "log", "--format", "json"])
    #expect(!log.stdout.contains("verify-live"))
    // Offline verification never sends anything, so the same settings do not fail it.
    if source == .openAIVariable {
      #expect(try await h.run(["verify", "prod"]).status == 0)
    }
  }
}

/// The same rule for `rotate`: API bases from the environment, the policy's health URL and
/// provider URLs, and the vault's Supabase URL — refused before anything is minted or pushed.
extension RotateCommandTests {
  enum RotateURLSource: String, CaseIterable, Sendable {
    case supabaseVariable, healthURL, chatwootBaseURL, supabaseURLInTheVault
  }

  @Test(arguments: RotateURLSource.allCases)
  func plainHTTPToAnotherHostStopsARotationBeforeAnyRequest(_ source: RotateURLSource) async throws {
    let f = try await Self.fixture()
    defer { f.stop() }
    var env: [String: String] = [:]
    let expected: String
    switch source {
    case .supabaseVariable:
      env["HOTSECRETS_SUPABASE_API_URL"] = "http://api.supabase.example"
      expected = "HOTSECRETS_SUPABASE_API_URL must be an https URL"
    case .healthURL:
      try f.h.writePolicy(Self.policy(f.providers.baseURL, healthURL: "http://app.example.com/health"))
      expected = "targets.fly[\(Self.app)].health_url must be an https URL"
    case .chatwootBaseURL:
      try f.h.writePolicy(
        Self.policy(f.providers.baseURL).replacingOccurrences(
          of: "base_url: '\(f.providers.baseURL)'", with: "base_url: 'http://chat.example.com'"))
      expected = "services.chatwoot.provider.base_url must be an https URL"
    case .supabaseURLInTheVault:
      try #require(
        try await f.h.run(["set", "prod", "supabase", "SUPABASE_URL"], stdin: "http://x.supabase.co").status == 0)
      expected = "the vault's prod/supabase/SUPABASE_URL must be an https URL"
    }
    let (providerRequests, flyRequests) = (f.providers.requests.count, f.fly.requests.count)
    let r = try await f.rotate(["app/SESSION_SECRET", "openai/API_KEY_PROD"], env: env)
    #expect(r.status == 2, "\(r.allOutput)")
    #expect(r.stderr.contains(expected), "\(r.stderr)")
    #expect(f.providers.requests.count == providerRequests)
    #expect(f.fly.requests.count == flyRequests)
    #expect(try await f.current("app", "SESSION_SECRET") == Self.oldSession)
  }
}

extension VerifyCommandTests {
  /// A provider answering 302 to another server: the token never goes there, and the check fails
  /// (it used to follow the redirect and say "ok").
  @Test func aRedirectingProviderFailsTheCheckAndTheTokenStaysHome() async throws {
    let (fakes, h) = try await liveFakes()
    defer { fakes.stop() }
    let thief = try await FakeRecorder.start()
    defer { thief.stop() }
    let redirect = try await FakeRedirect.start(location: thief.baseURL + "/api/v1/profile")
    defer { redirect.stop() }
    let text = try String(contentsOfFile: h.path("policies/prod.yaml"), encoding: .utf8)
      .replacingOccurrences(of: "base_url: '\(fakes.baseURL)'", with: "base_url: '\(redirect.baseURL)'")
    try text.write(toFile: h.path("policies/prod.yaml"), atomically: true, encoding: .utf8)
    let r = try await h.run(["verify", "prod", "--live", "--format", "json"])
    #expect(r.status == 1, "\(r.allOutput)")
    let findings = try #require(try h.json(r)["findings"] as? [[String: Any]])
    let chatwoot = try #require(findings.first { $0["key"] as? String == "API_TOKEN" })
    #expect(chatwoot["check"] as? String == "unreachable")
    #expect((chatwoot["message"] as? String)?.contains("answered HTTP 302, a redirect; redirects are never followed") == true)
    #expect(redirect.requests.count == 1)
    #expect(thief.requests.isEmpty)
  }
}
