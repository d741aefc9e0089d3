import Foundation
import HotSecretsModel
import HotSecretsPolicy
import RemoteAPIs
import Integrations
import TestSupport
import Testing

@Suite(.curlHandlePool(.shared)) struct CredentialProviderTests {
  static let adminKey = "sk-admin-0123456789abcdefghijklmnop"
  static let accessToken = "sbp_0123456789abcdef0123456789abcdef01234567"
  /// Retries at once, so 429 tests do not wait.
  static let instant = RetryPolicy(maxAttempts: 3, baseDelay: 0.01, sleep: { _ in })

  /// A context for `service/key` whose provider is `kind` with `settings` (YAML flow-mapping entries).
  static func context(
    _ kind: String, _ settings: String, service: String, key: String, values: [String: String] = [:]
  ) throws -> CredentialContext {
    let policy = try PolicyParser.parse(
      """
      version: 1
      environment: prod
      services:
        \(service):
          provider: { kind: \(kind), \(settings) }
          keys:
            \(key): { rotate: provider }
      """, file: "test.yaml")
    let provider = try #require(policy.service(service)?.provider)
    return CredentialContext(service: service, key: key, provider: provider, serviceValues: values)
  }

  static func openAIContext() throws -> CredentialContext {
    try context("openai", "project_id: \(FakeProviders.openAIProject)", service: "openai", key: "API_KEY_PROD")
  }

  static func supabaseContext(url: String?, urlKey: String? = nil) throws -> CredentialContext {
    var settings = "project_ref: \(FakeProviders.supabaseProjectRef)"
    if let urlKey { settings += ", url_key: \(urlKey)" }
    return try context(
      "supabase", settings, service: "supabase", key: "SERVICE_KEY",
      values: url.map { [urlKey ?? "SUPABASE_URL": $0] } ?? [:])
  }

  /// The RemoteError `body` throws (records an issue when it throws something else or nothing).
  static func remoteError(_ body: () async throws -> Void) async -> RemoteError? {
    do {
      try await body()
      Issue.record("expected a RemoteError")
    } catch let error as RemoteError {
      return error
    } catch {
      Issue.record("expected a RemoteError, got \(error)")
    }
    return nil
  }

  // MARK: - OpenAI

  @Test func openAIMintsTestsAndRevokesServiceAccounts() async throws {
    let fakes = try await FakeProviders.start()
    defer { fakes.stop() }
    fakes.setAdminKey(Self.adminKey)
    let provider = OpenAIProvider(baseURL: fakes.baseURL, credential: Self.adminKey, timeout: 5, retry: Self.instant)
    let context = try Self.openAIContext()
    #expect(!provider.singlePhase)

    let minted = try await provider.mint(context, current: "sk-old-key-not-used-for-minting")
    #expect(minted.value.hasPrefix("sk-svcacct-"))
    let accounts = fakes.openAIServiceAccounts(project: FakeProviders.openAIProject)
    #expect(accounts.map(\.id) == [minted.id])
    #expect(accounts.first?.keys == [minted.value])
    let name = try #require(accounts.first?.name)
    #expect(name.range(of: #"^hotsecrets-openai-API_KEY_PROD-\d{14}$"#, options: .regularExpression) != nil)
    #expect(await provider.test(context, value: minted.value) == .accepted)

    try await provider.revoke(context, id: try #require(minted.id))
    #expect(fakes.openAIServiceAccounts().isEmpty)
    #expect(
      await provider.test(context, value: minted.value) == .rejected("openai rejected the credential (HTTP 401)"))
    // Revoking what is already gone succeeds (a resumed run may repeat it).
    try await provider.revoke(context, id: try #require(minted.id))
    #expect(fakes.count(.openaiCreate) == 1)
    #expect(fakes.count(.openaiDelete) == 1)
  }

  @Test func openAIFindsTheServiceAccountOfAnImportedKeyOnlyWhenCertain() async throws {
    let fakes = try await FakeProviders.start()
    defer { fakes.stop() }
    fakes.setAdminKey(Self.adminKey)
    let provider = OpenAIProvider(baseURL: fakes.baseURL, credential: Self.adminKey, timeout: 5, retry: Self.instant)
    let context = try Self.openAIContext()
    // 150 unrelated keys first, so the match is on the second page.
    for index in 0..<150 {
      fakes.registerOpenAIKey(
        "sk-svcacct-filler\(index)-abcdefghijklmnopqrstuvwx\(index)", ownerServiceAccount: "svc_acct_filler\(index)")
    }
    let imported = "sk-svcacct-IMPORTEDabcdefghijklmnopqrstuvwxyz0123456789"
    fakes.registerOpenAIKey(imported, ownerServiceAccount: "svc_acct_imported")
    #expect(try await provider.findID(context, value: imported) == "svc_acct_imported")
    let listCalls = fakes.requests.filter { $0.hasPrefix("openai GET /v1/organization/projects/proj_fake/api_keys") }
    #expect(listCalls.count == 2)

    // A user's key cannot be revoked by deleting a service account.
    let userKey = "sk-proj-USERKEYabcdefghijklmnopqrstuvwxyz0123456789"
    fakes.registerOpenAIKey(userKey, ownerServiceAccount: nil)
    #expect(try await provider.findID(context, value: userKey) == nil)

    // Two keys with the same visible prefix and suffix: no certain match.
    fakes.registerOpenAIKey(
      "sk-svcacct-TWINaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-end9", ownerServiceAccount: "svc_acct_a")
    fakes.registerOpenAIKey(
      "sk-svcacct-TWINbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-end9", ownerServiceAccount: "svc_acct_b")
    #expect(
      try await provider.findID(context, value: "sk-svcacct-TWINaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-end9") == nil)

    // Unknown keys and keys of another project match nothing.
    #expect(try await provider.findID(context, value: "sk-svcacct-NOTTHEREabcdefghijklmnopqrstuvwxyz") == nil)
    let elsewhere = "sk-svcacct-OTHERPROJECTabcdefghijklmnopqrstuvwxyz"
    fakes.registerOpenAIKey(elsewhere, ownerServiceAccount: "svc_acct_other", project: "proj_other")
    #expect(try await provider.findID(context, value: elsewhere) == nil)

    // The id found is what revoke deletes.
    try await provider.revoke(context, id: "svc_acct_imported")
    #expect(await provider.test(context, value: imported) == .rejected("openai rejected the credential (HTTP 401)"))
  }

  @Test func openAIRequiresTheAdminKey() async throws {
    let fakes = try await FakeProviders.start()
    defer { fakes.stop() }
    fakes.setAdminKey(Self.adminKey)
    let wrongKey = "sk-admin-WRONGwrongWRONGwrong"
    let provider = OpenAIProvider(baseURL: fakes.baseURL, credential: wrongKey, timeout: 5, retry: Self.instant)
    let context = try Self.openAIContext()
    let mint = await Self.remoteError { _ = try await provider.mint(context, current: "sk-current-value-123456") }
    #expect(mint?.status == 401)
    #expect(mint?.reason == "openai answered HTTP 401")
    #expect(mint?.apiMessage?.contains("Incorrect API key provided") == true)
    #expect(mint?.reason.contains(wrongKey) == false)
    let find = await Self.remoteError { _ = try await provider.findID(context, value: "sk-current-value-123456") }
    #expect(find?.status == 401)
    let revoke = await Self.remoteError { try await provider.revoke(context, id: "svc_acct_x") }
    #expect(revoke?.status == 401)
    #expect(fakes.openAIServiceAccounts().isEmpty)
  }

  @Test func openAICreateFailureSurfacesTheAPIsMessageWithoutSecrets() async throws {
    let fakes = try await FakeProviders.start()
    defer { fakes.stop() }
    fakes.setAdminKey(Self.adminKey)
    let provider = OpenAIProvider(baseURL: fakes.baseURL, credential: Self.adminKey, timeout: 5, retry: Self.instant)
    let context = try Self.openAIContext()
    let current = "sk-svcacct-CURRENTabcdefghijklmnopqrstuvwxyz"
    fakes.failNext(.openaiCreate, status: 400, message: "Project proj_fake is archived; key \(current) kept")
    let error = await Self.remoteError { _ = try await provider.mint(context, current: current) }
    #expect(error?.status == 400)
    // The API's words stay out of the reason; printed, they are scrubbed of the values sent.
    #expect(error?.reason == "openai answered HTTP 400")
    #expect(error?.apiMessage?.contains("Project proj_fake is archived") == true)
    let printed = SentSecrets.shared.scrub(error?.apiMessage ?? "")
    #expect(printed.contains("Project proj_fake is archived"))
    #expect(!printed.contains("CURRENT"))
    #expect(!printed.contains(Self.adminKey))
    #expect(error?.reason.contains(Self.adminKey) == false)

    // A 5xx is not retried (a second try could create a second account).
    fakes.failNext(.openaiCreate, status: 503, performed: true)
    let unknown = await Self.remoteError { _ = try await provider.mint(context, current: current) }
    #expect(unknown?.status == 503)
    #expect(unknown?.reason.contains("may have been created") == true)
    let posts = fakes.requests.filter { $0 == "openai POST /v1/organization/projects/proj_fake/service_accounts" }
    #expect(posts.count == 2)
    #expect(fakes.openAIServiceAccounts().count == 1)

    // 429 is: the request was refused before anything happened.
    fakes.failNext(.openaiCreate, status: 429)
    let minted = try await provider.mint(context, current: current)
    #expect(fakes.openAIServiceAccounts().map(\.id).last == minted.id)
    #expect(fakes.count(.openaiCreate) == 2)
  }

  @Test func openAIMintIsNotRepeatedAfterATimeout() async throws {
    let fakes = try await FakeProviders.start()
    defer { fakes.stop() }
    fakes.setAdminKey(Self.adminKey)
    let provider = OpenAIProvider(baseURL: fakes.baseURL, credential: Self.adminKey, timeout: 0.5, retry: Self.instant)
    let context = try Self.openAIContext()
    fakes.delayNext(.openaiCreate, seconds: 1.5)
    let error = await Self.remoteError { _ = try await provider.mint(context, current: "sk-current-abcdefgh") }
    #expect(error?.status == nil)
    #expect(error?.reason.contains("may have been created") == true)
    #expect(fakes.requests.filter { $0.hasPrefix("openai POST ") }.count == 1)
    #expect(fakes.openAIServiceAccounts().count == 1)
    // Let the delayed answer go out before the fake stops.
    try await Task.sleep(for: .seconds(1.5))
  }

  // MARK: - Supabase

  @Test func supabaseMintsTestsAndRevokesSecretKeys() async throws {
    let fakes = try await FakeProviders.start()
    defer { fakes.stop() }
    fakes.setSupabaseToken(Self.accessToken)
    let provider = SupabaseProvider(
      baseURL: fakes.baseURL, credential: Self.accessToken, timeout: 5, retry: Self.instant)
    let context = try Self.supabaseContext(url: fakes.baseURL)
    #expect(!provider.singlePhase)

    let minted = try await provider.mint(context, current: "sb_secret_oldoldoldoldold")
    #expect(minted.value.hasPrefix("sb_secret_"))
    let keys = fakes.supabaseKeys(project: FakeProviders.supabaseProjectRef)
    #expect(keys.map(\.id) == [minted.id])
    #expect(keys.first?.type == "secret")
    let name = try #require(keys.first?.name)
    #expect(name.range(of: #"^hotsecrets_service_key_\d{14}$"#, options: .regularExpression) != nil)
    #expect(await provider.test(context, value: minted.value) == .accepted)
    #expect(fakes.requests.contains("supabase GET /rest/v1/"))

    try await provider.revoke(context, id: try #require(minted.id))
    #expect(fakes.supabaseKeys().isEmpty)
    #expect(
      await provider.test(context, value: minted.value) == .rejected("supabase rejected the credential (HTTP 401)"))
    try await provider.revoke(context, id: try #require(minted.id))
    #expect(fakes.count(.supabaseDelete) == 1)
  }

  @Test func supabaseTestNeedsTheProjectURL() async throws {
    let fakes = try await FakeProviders.start()
    defer { fakes.stop() }
    let provider = SupabaseProvider(baseURL: fakes.baseURL, credential: Self.accessToken, timeout: 5)
    let key = "sb_secret_abcdefghijklmnopqrstuvwxyz"
    fakes.registerSupabaseKey(key)
    let missing = await provider.test(try Self.supabaseContext(url: nil), value: key)
    #expect(missing == .unreachable("supabase: service supabase has no SUPABASE_URL value to test the key against"))
    let custom = try Self.supabaseContext(url: fakes.baseURL, urlKey: "API_URL")
    #expect(await provider.test(custom, value: key) == .accepted)
  }

  @Test func supabaseFindsTheIDOfAnImportedKeyByValue() async throws {
    let fakes = try await FakeProviders.start()
    defer { fakes.stop() }
    fakes.setSupabaseToken(Self.accessToken)
    let provider = SupabaseProvider(
      baseURL: fakes.baseURL, credential: Self.accessToken, timeout: 5, retry: Self.instant)
    let context = try Self.supabaseContext(url: fakes.baseURL)
    let imported = "sb_secret_IMPORTEDabcdefghijklmnopqrstuv"
    fakes.registerSupabaseKey("sb_publishable_abcdefghijklmnopqrstuvwxyz", name: "default", type: "publishable")
    let id = fakes.registerSupabaseKey(imported, name: "default_secret")
    fakes.registerSupabaseKey("eyJhbGciOiJIUzI1NiJ9.legacy.signature", name: "service_role", type: "legacy")
    #expect(try await provider.findID(context, value: imported) == id)
    #expect(try await provider.findID(context, value: "sb_secret_NOTTHEREabcdefghijklmnop") == nil)
    // Legacy JWT keys go only with the project's JWT secret: nothing to revoke by id.
    #expect(try await provider.findID(context, value: "eyJhbGciOiJIUzI1NiJ9.legacy.signature") == nil)
    #expect(fakes.requests.contains("supabase GET /v1/projects/\(FakeProviders.supabaseProjectRef)/api-keys"))
  }

  @Test func supabaseRequiresTheAccessTokenAndReportsCreateFailures() async throws {
    let fakes = try await FakeProviders.start()
    defer { fakes.stop() }
    fakes.setSupabaseToken(Self.accessToken)
    let context = try Self.supabaseContext(url: fakes.baseURL)
    let wrong = SupabaseProvider(baseURL: fakes.baseURL, credential: "sbp_wrongwrongwrong", retry: Self.instant)
    let denied = await Self.remoteError { _ = try await wrong.mint(context, current: "sb_secret_current") }
    #expect(denied?.status == 401)
    #expect(denied?.reason == "supabase answered HTTP 401")
    #expect(denied?.apiMessage == "Unauthorized")
    let find = await Self.remoteError { _ = try await wrong.findID(context, value: "sb_secret_current") }
    #expect(find?.status == 401)
    #expect(fakes.supabaseKeys().isEmpty)

    let provider = SupabaseProvider(
      baseURL: fakes.baseURL, credential: Self.accessToken, timeout: 5, retry: Self.instant)
    let postsBefore = fakes.requests.filter { $0.hasPrefix("supabase POST ") }.count
    fakes.failNext(.supabaseCreate, status: 500, message: "Failed to create API key")
    let error = await Self.remoteError { _ = try await provider.mint(context, current: "sb_secret_currentvalue") }
    #expect(error?.status == 500)
    #expect(error?.reason.hasPrefix("supabase answered HTTP 500 (") == true)
    #expect(error?.apiMessage == "Failed to create API key")
    #expect(error?.reason.contains("sb_secret_currentvalue") == false)
    #expect(error?.reason.contains(Self.accessToken) == false)
    #expect(fakes.requests.filter { $0.hasPrefix("supabase POST ") }.count == postsBefore + 1)
    #expect(fakes.supabaseKeys().isEmpty)

    fakes.failNext(.supabaseDelete, status: 500, message: "Internal error", times: 5)
    let minted = try await provider.mint(context, current: "sb_secret_currentvalue")
    let revoke = await Self.remoteError { try await provider.revoke(context, id: minted.id ?? "") }
    #expect(revoke?.status == 500)
    #expect(fakes.supabaseKeys().count == 1)
  }

  // MARK: - Chatwoot

  @Test func chatwootResetReplacesTheTokenAtOnce() async throws {
    let fakes = try await FakeProviders.start()
    defer { fakes.stop() }
    let old = "cwOLDtoken0123456789abcd"
    fakes.accept(old, for: .chatwoot)
    let provider = ChatwootProvider(timeout: 5, retry: Self.instant)
    let context = try Self.context("chatwoot", "base_url: '\(fakes.baseURL)'", service: "chatwoot", key: "API_TOKEN")
    #expect(provider.singlePhase)

    let minted = try await provider.mint(context, current: old)
    #expect(minted.id == nil)
    #expect(minted.value != old && !minted.value.isEmpty)
    #expect(fakes.chatwootToken == minted.value)
    #expect(await provider.test(context, value: old) == .rejected("chatwoot rejected the credential (HTTP 401)"))
    #expect(await provider.test(context, value: minted.value) == .accepted)
    #expect(try await provider.findID(context, value: minted.value) == nil)
    try await provider.revoke(context, id: "anything")
    #expect(await provider.test(context, value: minted.value) == .accepted)

    // The old token can no longer reset anything.
    let error = await Self.remoteError { _ = try await provider.mint(context, current: old) }
    #expect(error?.status == 401)
    #expect(error?.reason == "chatwoot answered HTTP 401")
    #expect(error?.apiMessage == "Invalid Access Token")
    #expect(fakes.count(.chatwootReset) == 1)

    fakes.failNext(.chatwootReset, status: 502)
    let failed = await Self.remoteError { _ = try await provider.mint(context, current: minted.value) }
    #expect(failed?.status == 502)
    #expect(failed?.reason.contains(minted.value) == false)
    #expect(fakes.chatwootToken == minted.value)
    #expect(fakes.requests.filter { $0 == "chatwoot POST /api/v1/profile/reset_access_token" }.count == 3)
  }

  @Test func chatwootWithoutBaseURLSaysSo() async throws {
    let provider = ChatwootProvider(timeout: 1)
    let policy = try PolicyParser.parse(
      "version: 1\nenvironment: prod\nservices:\n  chatwoot:\n    provider: { kind: openai, project_id: p }\n",
      file: "t.yaml")
    let config = try #require(policy.service("chatwoot")?.provider)
    let context = CredentialContext(service: "chatwoot", key: "API_TOKEN", provider: config, serviceValues: [:])
    #expect(
      await provider.test(context, value: "x")
        == .unreachable("chatwoot: the policy gives service chatwoot no base_url"))
    let error = await Self.remoteError { _ = try await provider.mint(context, current: "x") }
    #expect(error?.reason == "chatwoot: the policy gives service chatwoot no base_url")
  }
}
