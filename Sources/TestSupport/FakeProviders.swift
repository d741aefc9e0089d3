import Foundation
import Hummingbird

/// Loopback fakes of the providers' validation endpoints: OpenAI `GET /v1/models`, Supabase
/// `GET /rest/v1/`, Shopify `GET /admin/api/{version}/shop.json`, Chatwoot `GET /api/v1/profile`.
/// Each accepts the credentials in its valid set (401 otherwise) and can be told to fail.
public final class FakeProviders: Sendable {
  public enum Provider: String, Sendable, CaseIterable { case openai, supabase, shopify, chatwoot }

  public struct State: Sendable {
    public var valid: [Provider: Set<String>] = [:]
    public var faults: [Provider: Fault] = [:]
    /// Requests seen, as "provider METHOD path".
    public var requests: [String] = []
  }

  public let server: FakeServer
  public var baseURL: String { server.baseURL }

  private init(server: FakeServer, state: Locked<State>) {
    self.server = server
    self.stateBox = state
  }
  private let stateBox: Locked<State>

  /// Starts all four fakes on one loopback port.
  public static func start() async throws -> FakeProviders {
    let state = Locked(State())
    let router = Router()
    func handle(_ provider: Provider, credential: @escaping @Sendable (Request) -> String?)
      -> @Sendable (Request, BasicRequestContext) async throws -> Response
    {
      { request, _ in
        let (fault, valid) = state.withLock { s -> (Fault, Set<String>) in
          s.requests.append("\(provider.rawValue) \(request.method) \(request.uri.path)")
          return (s.faults[provider] ?? .none, s.valid[provider] ?? [])
        }
        switch fault {
        case .status(let code):
          return .json(["error": "injected failure"], status: .init(code: code))
        case .delay(let seconds):
          try await Task.sleep(for: .seconds(seconds))
        case .none: break
        }
        guard let given = credential(request), valid.contains(given) else {
          return .json(["error": "Invalid credentials"], status: .unauthorized)
        }
        return .json(["ok": true])
      }
    }
    router.get(
      "/v1/models",
      use: handle(.openai) { request in
        request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
      })
    router.get("/rest/v1/", use: handle(.supabase) { $0.headers[.init("apikey")!] })
    router.get("/admin/api/{version}/shop.json", use: handle(.shopify) { $0.headers[.init("X-Shopify-Access-Token")!] })
    router.get("/api/v1/profile", use: handle(.chatwoot) { $0.headers[.init("api_access_token")!] })
    let server = try await FakeServer.start(router)
    let fakes = FakeProviders(server: server, state: state)
    return fakes
  }

  /// Accept `credential` for `provider`.
  public func accept(_ credential: String, for provider: Provider) {
    stateBox.withLock { $0.valid[provider, default: []].insert(credential) }
  }

  /// Make `provider` fail.
  public func inject(_ fault: Fault, into provider: Provider) {
    stateBox.withLock { $0.faults[provider] = fault }
  }

  public var requests: [String] { stateBox.current.requests }

  public func stop() { server.stop() }
}
