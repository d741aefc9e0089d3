import Foundation
import HotSecretsModel
import HotSecretsPolicy
import RemoteAPIs
import Integrations
import TestSupport
import Testing

@Suite(.curlHandlePool(.shared)) struct ProviderProbeTests {
  @Test func eachProviderAcceptsValidAndRejectsRevokedCredentials() async throws {
    let fakes = try await FakeProviders.start()
    defer { fakes.stop() }
    let probe = ProviderProbe(endpoints: .init(openAI: fakes.baseURL), timeout: 5)
    fakes.accept("sk-good", for: .openai)
    fakes.accept("sb-good", for: .supabase)
    fakes.accept("shpat-good", for: .shopify)
    fakes.accept("cw-good", for: .chatwoot)
    #expect(await probe.check(.openAI(apiKey: "sk-good")) == .accepted)
    #expect(await probe.check(.supabase(url: fakes.baseURL, serviceKey: "sb-good")) == .accepted)
    #expect(
      await probe.check(.shopify(shop: fakes.baseURL, apiVersion: "2025-10", accessToken: "shpat-good")) == .accepted)
    #expect(await probe.check(.chatwoot(baseURL: fakes.baseURL, apiToken: "cw-good")) == .accepted)

    #expect(await probe.check(.openAI(apiKey: "sk-revoked")) == .rejected("openai rejected the credential (HTTP 401)"))
    #expect(
      await probe.check(.supabase(url: fakes.baseURL + "/", serviceKey: "x"))
        == .rejected("supabase rejected the credential (HTTP 401)"))
    #expect(
      await probe.check(.shopify(shop: fakes.baseURL, apiVersion: "2025-10", accessToken: "x"))
        == .rejected("shopify rejected the credential (HTTP 401)"))
    #expect(
      await probe.check(.chatwoot(baseURL: fakes.baseURL, apiToken: "x"))
        == .rejected("chatwoot rejected the credential (HTTP 401)"))
    #expect(fakes.requests.contains("shopify GET /admin/api/2025-10/shop.json"))
    #expect(fakes.requests.contains("supabase GET /rest/v1/"))
  }

  @Test func serverErrorsAndTimeoutsAreUnreachableNotPasses() async throws {
    let fakes = try await FakeProviders.start()
    defer { fakes.stop() }
    fakes.accept("sk-good", for: .openai)
    fakes.accept("cw-good", for: .chatwoot)
    let probe = ProviderProbe(endpoints: .init(openAI: fakes.baseURL), timeout: 10)
    fakes.inject(.status(500), into: .openai)
    #expect(await probe.check(.openAI(apiKey: "sk-good")) == .unreachable("openai answered HTTP 500"))
    fakes.inject(.status(429), into: .openai)
    #expect(
      await probe.check(.openAI(apiKey: "sk-good"))
        == .unreachable("openai is rate limiting (HTTP 429); try again later"))
    fakes.inject(.delay(6), into: .chatwoot)
    let impatient = ProviderProbe(endpoints: .init(openAI: fakes.baseURL), timeout: 1)
    let started = Date()
    let slow = await impatient.check(.chatwoot(baseURL: fakes.baseURL, apiToken: "cw-good"))
    #expect(Date().timeIntervalSince(started) < 5)
    guard case .unreachable(let reason) = slow else {
      Issue.record("expected unreachable, got \(slow)")
      return
    }
    #expect(reason.contains("chatwoot"))
  }

  @Test func tcpProbeConnectsOrSaysWhy() async throws {
    // A plain listening socket: connecting to a SwiftNIO server and dropping the connection right
    // away races its shutdown at the end of the test.
    let listener = try LoopbackListener()
    let port = listener.port
    let probe = ProviderProbe(endpoints: .init(), timeout: 2)
    #expect(await probe.check(.tcp(url: "postgresql://u:p@127.0.0.1:\(port)/db")) == .accepted)
    #expect(await probe.check(.tcp(url: "rediss://default:pw@127.0.0.1:\(port)")) == .accepted)
    let closedPort = closedLoopbackPort()
    let closed = await probe.check(.tcp(url: "redis://default:pw@127.0.0.1:\(closedPort)"))
    guard case .unreachable(let reason) = closed else {
      Issue.record("expected unreachable, got \(closed)")
      return
    }
    #expect(reason.contains("127.0.0.1:\(closedPort)"))
    #expect(!reason.contains("pw"))
  }

  @Test func unreachableHostIsReported() async throws {
    let probe = ProviderProbe(endpoints: .init(openAI: "http://127.0.0.1:\(closedLoopbackPort())"), timeout: 2)
    guard case .unreachable(let reason) = await probe.check(.openAI(apiKey: "sk")) else {
      Issue.record("expected unreachable")
      return
    }
    #expect(reason.hasPrefix("openai: "))
  }
}
