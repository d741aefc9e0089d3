import Foundation
import RemoteAPIs

/// Supabase secret API keys, through the management API (`https://api.supabase.com`, or
/// `HOTSECRETS_SUPABASE_API_URL`) with a personal access token (`SUPABASE_ACCESS_TOKEN`).
///
/// - mint: a new `secret` key in the policy's `project_ref`, named
///   `hotsecrets_<key>_<yyyymmddhhmmss>`.
/// - test: `GET {SUPABASE_URL}/rest/v1/` with the key as `apikey`, where SUPABASE_URL is the
///   service's value of the key named by the provider's `url_key` setting (default `SUPABASE_URL`).
/// - findID: the project's keys, listed with `reveal=true`, matched by value. Legacy JWT keys
///   (anon, service_role) give nil: they are retired only by rotating the project's JWT secret.
public struct SupabaseProvider: CredentialProvider {
  let client: APIClient
  /// The same client with one attempt per request, for minting (see `ProviderCalls.create`).
  let createClient: APIClient
  let retry: RetryPolicy
  let probe: ProviderProbe
  let token: String

  public var singlePhase: Bool { false }

  public init(baseURL: String, credential: String, timeout: TimeInterval = 30, retry: RetryPolicy = RetryPolicy()) {
    (client, createClient) = ProviderCalls.clients(
      service: "supabase", baseURL: baseURL, credential: credential, timeout: timeout, retry: retry)
    self.retry = retry
    probe = ProviderProbe(endpoints: .init(), timeout: timeout)
    token = credential
  }

  private func keysPath(_ context: CredentialContext) throws -> String {
    guard let ref = context.provider["project_ref"], !ref.isEmpty else {
      throw RemoteError(status: nil, reason: "supabase: the policy gives service \(context.service) no project_ref")
    }
    return "/v1/projects/\(APIClient.pathComponent(ref))/api-keys"
  }

  /// `hotsecrets_<key lower-cased, anything but [a-z0-9_] as _>_<yyyymmddhhmmss>`, at most 64
  /// characters (the key part is shortened), matching Supabase's `^[a-z_][a-z0-9_]+$`.
  static func keyName(_ key: String, at date: Date = Date()) -> String {
    let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789_")
    let cleaned = String(key.lowercased().map { allowed.contains($0) ? $0 : "_" })
    let stamp = ProviderCalls.timestamp(date)
    return "hotsecrets_" + cleaned.prefix(64 - 11 - 1 - stamp.count) + "_" + stamp
  }

  public func mint(_ context: CredentialContext, current: String) async throws -> MintedCredential {
    try await ProviderCalls.guarded(secrets: [token, current]) {
      let path = try keysPath(context)
      let name = Self.keyName(context.key)
      let response = try await ProviderCalls.create(
        createClient, "POST", path + "?reveal=true",
        json: ["type": "secret", "name": name, "description": "minted by hotsecrets for \(context.service)"],
        retry: retry, note: "a key may have been created anyway: look for \"\(name)\" in the project's API keys")
      let object = try client.decode(response, what: "an API key") as? [String: Any]
      guard let id = object?["id"] as? String, RemoteText.isIdentifier(id) else {
        throw RemoteError(
          status: response.status,
          reason: "supabase created API key \"\(name)\" but its answer has no id; delete it in the project")
      }
      guard let value = object?["api_key"] as? String, !value.isEmpty else {
        // Useless without its value: remove it again rather than leave a live key behind.
        let removed = (try? await revoke(context, id: id)) != nil
        throw RemoteError(
          status: response.status,
          reason: "supabase created API key \(id) but did not reveal its value"
            + (removed ? " (the key was deleted again)" : "; delete the key in the project"))
      }
      return MintedCredential(value: value, id: id)
    }
  }

  public func test(_ context: CredentialContext, value: String) async -> LiveResult {
    let urlKey = context.provider["url_key"] ?? "SUPABASE_URL"
    guard let url = context.serviceValues[urlKey], !url.isEmpty else {
      return .unreachable("supabase: service \(context.service) has no \(urlKey) value to test the key against")
    }
    return await probe.check(.supabase(url: url, serviceKey: value))
  }

  public func findID(_ context: CredentialContext, value: String) async throws -> String? {
    try await ProviderCalls.guarded(secrets: [token, value]) {
      let response = try await client.send("GET", try keysPath(context) + "?reveal=true")
      guard let keys = try client.decode(response, what: "an API key list") as? [[String: Any]] else {
        throw RemoteError(status: response.status, reason: "supabase: unexpected API key list")
      }
      let matches = keys.filter { $0["api_key"] as? String == value }
      guard matches.count == 1, let match = matches.first, match["type"] as? String != "legacy",
        let id = match["id"] as? String, RemoteText.isIdentifier(id)
      else { return nil }
      return id
    }
  }

  /// Deletes the API key `id`. A key that no longer exists (404) counts as revoked, so a resumed
  /// run can repeat the call.
  public func revoke(_ context: CredentialContext, id: String) async throws {
    try await ProviderCalls.guarded(secrets: [token]) {
      let path = try keysPath(context) + "/\(APIClient.pathComponent(id))?reason=rotating_key"
      _ = try await client.send("DELETE", path, accept: [404])
    }
  }
}
