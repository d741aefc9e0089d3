/// A question to a provider: does this credential work? Built by the policy check from the policy
/// and the vault's values; answered by an implementation in the Integrations target.
public enum LiveCheck: Sendable, Equatable {
  /// `GET {openai}/v1/models` with the key as a bearer token.
  case openAI(apiKey: String)
  /// `GET {supabaseURL}/rest/v1/` with the key as `apikey`.
  case supabase(url: String, serviceKey: String)
  /// `GET https://{shop}/admin/api/{version}/shop.json` with `X-Shopify-Access-Token`.
  case shopify(shop: String, apiVersion: String, accessToken: String)
  /// `GET {baseURL}/api/v1/profile` with `api_access_token`.
  case chatwoot(baseURL: String, apiToken: String)
  /// A TCP connection to the host and port of a `postgres://`, `redis://` or `rediss://` URL.
  case tcp(url: String)
  /// `GET url` answers 200 (an app's health check after a rolling restart).
  case health(url: String)
}

/// The provider's answer.
public enum LiveResult: Sendable, Equatable {
  case accepted
  /// The provider said no (e.g. HTTP 401); the reason names the status, never the credential.
  case rejected(String)
  /// No answer that says yes or no: network failure, timeout, 5xx, rate limit.
  case unreachable(String)
}

/// Answers `LiveCheck`s. Implementations must time out and never throw.
public protocol LiveProbe: Sendable {
  func check(_ check: LiveCheck) async -> LiveResult
}
