import Foundation
import RemoteAPIs

/// Answers `verify --live`: asks OpenAI, Supabase, Shopify and Chatwoot whether a credential
/// works, and opens TCP connections for database and Redis URLs. Probes time out and never retry.
public struct ProviderProbe: LiveProbe {
  /// Base URLs, overridable (by `HOTSECRETS_OPENAI_API_URL` …) so tests use loopback servers.
  public struct Endpoints: Sendable {
    public var openAI: String
    public init(openAI: String = "https://api.openai.com") { self.openAI = openAI }
  }

  let endpoints: Endpoints
  let http: HTTPTransport

  public init(endpoints: Endpoints, timeout: TimeInterval = 10) {
    self.endpoints = endpoints
    http = HTTPTransport(timeout: timeout)
  }

  public func check(_ check: LiveCheck) async -> LiveResult {
    switch check {
    case .openAI(let key):
      return await get(endpoints.openAI, "/v1/models", ["Authorization": "Bearer \(key)"], provider: "openai")
    case .supabase(let url, let key):
      return await get(url, "/rest/v1/", ["apikey": key], provider: "supabase")
    case .shopify(let shop, let version, let token):
      let base = shop.contains("://") ? shop : "https://\(shop)"
      return await get(base, "/admin/api/\(version)/shop.json", ["X-Shopify-Access-Token": token], provider: "shopify")
    case .chatwoot(let baseURL, let token):
      return await get(baseURL, "/api/v1/profile", ["api_access_token": token], provider: "chatwoot")
    case .tcp(let url):
      return await tcp(url)
    case .health(let url):
      return await get(url, "", [:], provider: "health check")
    }
  }

  private func get(_ base: String, _ path: String, _ headers: [String: String], provider: String) async -> LiveResult {
    let trimmed = base.hasSuffix("/") ? String(base.dropLast()) : base
    guard let url = URL(string: trimmed + path), url.host != nil else {
      return .unreachable("\(provider): invalid URL")
    }
    do {
      let response = try await http.send(
        "GET", url, headers: headers.merging(["Accept": "application/json"]) { a, _ in a })
      switch response.status {
      case 200..<300: return .accepted
      case 401, 403: return .rejected("\(provider) rejected the credential (HTTP \(response.status))")
      case 404: return .rejected("\(provider) answered HTTP 404 for \(path) (wrong URL or project?)")
      case 429: return .unreachable("\(provider) is rate limiting (HTTP 429); try again later")
      default: return .unreachable("\(provider) answered HTTP \(response.status)")
      }
    } catch let failure as HTTPFailure {
      return .unreachable("\(provider): \(failure.reason)")
    } catch {
      return .unreachable("\(provider): request failed")
    }
  }

  private func tcp(_ text: String) async -> LiveResult {
    guard let components = URLComponents(string: text), let host = components.host, !host.isEmpty else {
      return .rejected("not a valid URL")
    }
    let scheme = components.scheme?.lowercased() ?? ""
    let port = components.port ?? (scheme.hasPrefix("redis") ? 6379 : 5432)
    let timeout = http.timeout
    let failure = await Task.detached { TCPProbe.connect(host: host, port: port, timeout: timeout) }.value
    return failure.map { .unreachable($0) } ?? .accepted
  }
}
