import Foundation
import RemoteAPIs

/// Chatwoot user access tokens, at the policy's `base_url`.
///
/// - mint: `POST /api/v1/profile/reset_access_token`, authenticated with the current token; the
///   answer (the user) carries the new `access_token`, and the old token stops working at once —
///   hence single-phase: there is no old value to roll back to, and nothing to revoke later.
/// - test: `GET /api/v1/profile` with the token.
public struct ChatwootProvider: CredentialProvider {
  let baseURL: String?
  let transport: HTTPTransport
  let retry: RetryPolicy
  let probe: ProviderProbe

  public var singlePhase: Bool { true }

  /// `baseURL`, when given, replaces the policy's `base_url`.
  public init(baseURL: String? = nil, timeout: TimeInterval = 30, retry: RetryPolicy = RetryPolicy()) {
    self.baseURL = baseURL
    transport = HTTPTransport(timeout: timeout)
    self.retry = retry
    probe = ProviderProbe(endpoints: .init(), timeout: timeout)
  }

  private func base(_ context: CredentialContext) -> String? {
    let base = baseURL ?? context.provider["base_url"]
    return base?.isEmpty == false ? base : nil
  }

  public func mint(_ context: CredentialContext, current: String) async throws -> MintedCredential {
    try await ProviderCalls.guarded(secrets: [current]) {
      guard let base = base(context) else {
        throw RemoteError(status: nil, reason: "chatwoot: the policy gives service \(context.service) no base_url")
      }
      let client = APIClient(
        service: "chatwoot", baseURL: base, headers: ["api_access_token": current, "Accept": "application/json"],
        transport: transport, retry: ProviderCalls.once(retry))
      let response = try await ProviderCalls.create(
        client, "POST", "/api/v1/profile/reset_access_token", retry: retry,
        note: "the token may have been reset anyway: if the current one no longer works, reset it in Chatwoot")
      let object = try? client.decode(response, what: "a profile") as? [String: Any]
      guard let value = object?["access_token"] as? String, !value.isEmpty else {
        throw RemoteError(
          status: response.status,
          reason: "chatwoot reset the access token but its answer has no access_token: the old token no longer "
            + "works; reset it again in Chatwoot's profile settings and store the new one")
      }
      return MintedCredential(value: value, id: nil)
    }
  }

  public func test(_ context: CredentialContext, value: String) async -> LiveResult {
    guard let base = base(context) else {
      return .unreachable("chatwoot: the policy gives service \(context.service) no base_url")
    }
    return await probe.check(.chatwoot(baseURL: base, apiToken: value))
  }

  /// Always nil: a Chatwoot token has no id, and the old one died when the new one was minted.
  public func findID(_ context: CredentialContext, value: String) async throws -> String? { nil }

  /// Nothing to do: resetting the token revoked the old one.
  public func revoke(_ context: CredentialContext, id: String) async throws {}
}
