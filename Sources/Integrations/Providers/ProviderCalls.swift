import Foundation
import RemoteAPIs

/// What the credential providers share: minting without blind retries, error texts without
/// credentials, timestamps for the names of what they create.
enum ProviderCalls {
  /// A management API client with `credential` as a bearer token, and the same client with one
  /// attempt per request, for minting.
  static func clients(
    service: String, baseURL: String, credential: String, timeout: TimeInterval, retry: RetryPolicy
  ) -> (client: APIClient, create: APIClient) {
    let headers = ["Authorization": "Bearer \(credential)", "Accept": "application/json"]
    let transport = HTTPTransport(timeout: timeout)
    return (
      APIClient(service: service, baseURL: baseURL, headers: headers, transport: transport, retry: retry),
      APIClient(service: service, baseURL: baseURL, headers: headers, transport: transport, retry: once(retry))
    )
  }

  /// `retry` with a single attempt: nothing is repeated automatically.
  static func once(_ retry: RetryPolicy) -> RetryPolicy {
    var single = retry
    single.maxAttempts = 1
    return single
  }

  /// Sends a request that creates a credential through `client` (whose policy makes one attempt).
  /// It is never repeated after a timeout, a dropped connection or a 5xx — the provider may have
  /// acted on it and a second try would create a second credential; only HTTP 429 (refused before
  /// anything happened) is tried again, within `retry`'s attempts and total time. Failures that
  /// leave the outcome unknown get `note` appended.
  static func create(
    _ client: APIClient, _ method: String, _ path: String, json: Any? = nil, retry: RetryPolicy, note: String
  ) async throws -> HTTPResponse {
    let started = Date()
    var tries = 0
    while true {
      tries += 1
      let response: HTTPResponse
      do {
        response = try await client.send(method, path, json: json, accept: [429], idempotent: false)
      } catch let error as RemoteError where error.status == nil || (500...599).contains(error.status ?? 0) {
        throw error.appending(note)
      }
      guard response.status == 429 else { return response }
      let wait = RetryPolicy.retryAfter(response) ?? retry.backoff(tries)
      if tries >= retry.maxAttempts || Date().timeIntervalSince(started) + wait > retry.maxTotal {
        throw client.failed(response)
      }
      await retry.sleep(wait)
    }
  }

  /// Runs `body`, turning every error into a `RemoteError`. `secrets` (the credentials and values
  /// the call handles) are registered with `SentSecrets`, so that whatever the provider echoes of
  /// them is scrubbed wherever it is printed.
  static func guarded<T>(secrets: [String], _ body: () async throws -> T) async throws -> T {
    for secret in secrets { SentSecrets.shared.register(secret) }
    do {
      return try await body()
    } catch let error as RemoteError {
      throw error
    } catch {
      throw RemoteError(status: nil, reason: "request failed")
    }
  }

  /// Now in UTC as `yyyyMMddHHmmss`.
  static func timestamp(_ date: Date = Date()) -> String {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyyMMddHHmmss"
    return formatter.string(from: date)
  }

  /// `value` percent-encoded for a query string.
  static func queryValue(_ value: String) -> String {
    var allowed = CharacterSet.urlQueryAllowed
    allowed.remove(charactersIn: "&=+?#/%")
    return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
  }
}
