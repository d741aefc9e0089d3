import Foundation

/// Loopback fakes of the providers, all on one port.
///
/// Validation endpoints: OpenAI `GET /v1/models`, Supabase `GET /rest/v1/`, Shopify
/// `GET /admin/api/{version}/shop.json`, Chatwoot `GET /api/v1/profile`. Each accepts the credentials in
/// its valid set (401 otherwise) and can be told to fail (`inject(_:into:)`).
///
/// Management endpoints, stateful, for rotation:
/// - OpenAI (`Authorization: Bearer <admin key>`, see `setAdminKey`): service accounts under
///   `/v1/organization/projects/{project}/service_accounts` (list, create — whose key becomes valid for
///   `/v1/models` —, delete — which invalidates it), and the project's keys under `.../api_keys` (list, with
///   `redacted_value` = first 13 characters + "..." + last 4, an `owner`, and `limit`/`after` pagination).
///   Errors are `{"error": {"message", "type", "code"}}`.
/// - Supabase (`Authorization: Bearer <token>`, see `setSupabaseToken`): `/v1/projects/{ref}/api-keys` (list,
///   create — 201, name checked against `^[a-z_][a-z0-9_]+$` and 4–64 characters —, delete); created keys are
///   valid for `/rest/v1/` as `apikey`, deleted ones no longer. Errors are `{"message": ...}`.
/// - Chatwoot `POST /api/v1/profile/reset_access_token`: needs a valid `api_access_token`, which it replaces
///   (the old one is invalid at once). Errors are `{"error": ...}`.
///
/// Every management call can be made to fail once (or more) with `failNext(_:status:message:times:performed:)`,
/// or to answer late with `delayNext(_:seconds:)`.
public final class FakeProviders: Sendable {
  public enum Provider: String, Sendable, CaseIterable { case openai, supabase, shopify, chatwoot }

  /// A management call, for fault injection and counting.
  public enum Operation: String, Sendable, CaseIterable {
    /// `POST /v1/organization/projects/{project}/service_accounts`
    case openaiCreate
    /// `DELETE /v1/organization/projects/{project}/service_accounts/{id}`
    case openaiDelete
    /// `GET /v1/organization/projects/{project}/service_accounts`
    case openaiListServiceAccounts
    /// `GET /v1/organization/projects/{project}/api_keys`
    case openaiListKeys
    /// `POST /v1/projects/{ref}/api-keys`
    case supabaseCreate
    /// `DELETE /v1/projects/{ref}/api-keys/{id}`
    case supabaseDelete
    /// `GET /v1/projects/{ref}/api-keys`
    case supabaseList
    /// `POST /api/v1/profile/reset_access_token`
    case chatwootReset

    public var provider: Provider {
      switch self {
      case .openaiCreate, .openaiDelete, .openaiListServiceAccounts, .openaiListKeys: .openai
      case .supabaseCreate, .supabaseDelete, .supabaseList: .supabase
      case .chatwootReset: .chatwoot
      }
    }
  }

  /// An OpenAI service account as the tests see it.
  public struct ServiceAccount: Sendable, Equatable {
    public let id: String
    public let name: String
    public let project: String
    /// The values of the keys it owns (one when minted through the API).
    public let keys: [String]
  }

  /// A Supabase API key as the tests see it.
  public struct SupabaseKey: Sendable, Equatable {
    public let id: String
    public let name: String
    public let type: String
    public let project: String
    public let value: String
  }

  struct OpenAIAccountRecord: Sendable {
    let id: String
    let name: String
    let project: String
    let createdAt: Int
  }

  struct OpenAIKeyRecord: Sendable {
    let id: String
    let name: String
    let value: String
    let project: String
    /// nil: owned by a user.
    let serviceAccount: String?
    let createdAt: Int
  }

  struct SupabaseKeyRecord: Sendable {
    let id: String
    let name: String
    let type: String
    let value: String
    let project: String
    let insertedAt: String
  }

  enum OperationFault: Sendable {
    case fail(status: Int, message: String?, performed: Bool)
    case delay(Double)
  }

  public struct State: Sendable {
    public var valid: [Provider: Set<String>] = [:]
    public var faults: [Provider: Fault] = [:]
    /// Requests seen, as "provider METHOD path".
    public var requests: [String] = []

    var adminKey: String?
    var supabaseToken: String?
    var openAIAccounts: [OpenAIAccountRecord] = []
    var openAIKeys: [OpenAIKeyRecord] = []
    var supabaseKeys: [SupabaseKeyRecord] = []
    var chatwootToken: String?
    var operationFaults: [Operation: [OperationFault]] = [:]
    var operationCounts: [Operation: Int] = [:]
    var counter = 0
    var clock = MonotonicClock()

    mutating func nextID(_ prefix: String) -> String {
      counter += 1
      return prefix + String(format: "%06d", counter) + FakeProviders.random(8, lowercase: true)
    }

    mutating func takeFault(_ operation: Operation) -> OperationFault? {
      guard var pending = operationFaults[operation], !pending.isEmpty else { return nil }
      let fault = pending.removeFirst()
      operationFaults[operation] = pending
      return fault
    }

    mutating func deleteAccount(_ id: String) {
      openAIAccounts.removeAll { $0.id == id }
      let gone = openAIKeys.filter { $0.serviceAccount == id }.map(\.value)
      openAIKeys.removeAll { $0.serviceAccount == id }
      for value in gone where !openAIKeys.contains(where: { $0.value == value }) {
        valid[.openai]?.remove(value)
      }
    }
  }

  /// The project and the project ref the tests use unless they name another.
  public static let openAIProject = "proj_fake"
  public static let supabaseProjectRef = "fakeprojectrefabcdef"

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
    let router = FakeRouter()
    func handle(_ provider: Provider, credential: @escaping @Sendable (FakeRequest) -> String?) -> FakeRouter.Handler {
      { request in
        let (fault, valid) = state.withLock { s -> (Fault, Set<String>) in
          s.requests.append("\(provider.rawValue) \(request.method) \(request.path)")
          return (s.faults[provider] ?? .none, s.valid[provider] ?? [])
        }
        switch fault {
        case .status(let code):
          return .json(["error": "injected failure"], status: code)
        case .delay(let seconds):
          try await Task.sleep(for: .seconds(seconds))
        case .none: break
        }
        guard let given = credential(request), valid.contains(given) else {
          return .json(["error": "Invalid credentials"], status: 401)
        }
        return .json(["ok": true])
      }
    }
    router.get("/v1/models", use: handle(.openai) { bearer($0) })
    router.get("/rest/v1/", use: handle(.supabase) { $0.header("apikey") })
    router.get("/admin/api/{version}/shop.json", use: handle(.shopify) { $0.header("X-Shopify-Access-Token") })
    router.get("/api/v1/profile", use: handle(.chatwoot) { $0.header("api_access_token") })
    openAIRoutes(router, state: state)
    supabaseRoutes(router, state: state)
    chatwootRoutes(router, state: state)
    let server = try await FakeServer.start(router)
    let fakes = FakeProviders(server: server, state: state)
    return fakes
  }

  /// Accept `credential` for `provider`.
  public func accept(_ credential: String, for provider: Provider) {
    stateBox.withLock {
      $0.valid[provider, default: []].insert(credential)
      if provider == .chatwoot { $0.chatwootToken = credential }
    }
  }

  /// Make `provider` fail.
  public func inject(_ fault: Fault, into provider: Provider) {
    stateBox.withLock { $0.faults[provider] = fault }
  }

  public var requests: [String] { stateBox.current.requests }

  /// Shuts the server down (only once every request to it has completed).
  public func stop() { server.stop() }

  // MARK: - Management controls

  /// The admin key the OpenAI organisation endpoints require (none until set: every call answers 401).
  public func setAdminKey(_ key: String) {
    stateBox.withLock { $0.adminKey = key }
  }

  /// The personal access token the Supabase management endpoints require (none until set: 401).
  public func setSupabaseToken(_ token: String) {
    stateBox.withLock { $0.supabaseToken = token }
  }

  /// Whether the validation endpoint of `provider` accepts `credential` now.
  public func isValid(_ credential: String, for provider: Provider) -> Bool {
    stateBox.withLock { $0.valid[provider]?.contains(credential) ?? false }
  }

  /// Registers an existing OpenAI key in `project` (valid for `/v1/models` from now on), owned by the service
  /// account `ownerServiceAccount` (created when it does not exist yet; deleting it revokes the key) or, when nil,
  /// by a user. Returns the key's id.
  @discardableResult
  public func registerOpenAIKey(
    _ value: String, ownerServiceAccount: String?, project: String = FakeProviders.openAIProject
  ) -> String {
    stateBox.withLock { state in
      let now = Int(Date().timeIntervalSince1970)
      if let owner = ownerServiceAccount, !state.openAIAccounts.contains(where: { $0.id == owner }) {
        state.openAIAccounts.append(
          OpenAIAccountRecord(id: owner, name: "imported-\(owner)", project: project, createdAt: now))
      }
      let id = state.nextID("key_")
      state.openAIKeys.append(
        OpenAIKeyRecord(
          id: id, name: ownerServiceAccount == nil ? "user key" : "Secret Key", value: value, project: project,
          serviceAccount: ownerServiceAccount, createdAt: now))
      state.valid[.openai, default: []].insert(value)
      return id
    }
  }

  /// The service accounts of `project` (every project when nil), in creation order.
  public func openAIServiceAccounts(project: String? = nil) -> [ServiceAccount] {
    stateBox.withLock { state in
      state.openAIAccounts.filter { project == nil || $0.project == project }.map { account in
        ServiceAccount(
          id: account.id, name: account.name, project: account.project,
          keys: state.openAIKeys.filter { $0.serviceAccount == account.id }.map(\.value))
      }
    }
  }

  /// Registers an existing Supabase API key in `project` (valid for `/rest/v1/` from now on). Returns its id.
  @discardableResult
  public func registerSupabaseKey(
    _ value: String, project: String = FakeProviders.supabaseProjectRef, name: String = "default",
    type: String = "secret"
  ) -> String {
    stateBox.withLock { state in
      let id = Self.uuid()
      state.supabaseKeys.append(
        SupabaseKeyRecord(
          id: id, name: name, type: type, value: value, project: project, insertedAt: state.clock.next()))
      state.valid[.supabase, default: []].insert(value)
      return id
    }
  }

  /// The API keys of `project` (every project when nil), in creation order.
  public func supabaseKeys(project: String? = nil) -> [SupabaseKey] {
    stateBox.withLock { state in
      state.supabaseKeys.filter { project == nil || $0.project == project }.map {
        SupabaseKey(id: $0.id, name: $0.name, type: $0.type, project: $0.project, value: $0.value)
      }
    }
  }

  /// The Chatwoot token last accepted or issued by a reset, while it is still valid.
  public var chatwootToken: String? {
    stateBox.withLock { state in
      state.chatwootToken.flatMap { state.valid[.chatwoot]?.contains($0) == true ? $0 : nil }
    }
  }

  /// The next `times` calls of `operation` answer `status` with the provider's error body (`message`, or
  /// "injected failure (HTTP status)"). With `performed`, the call is carried out first (e.g. the service account
  /// is created) and only its answer is the error — like a provider failing after acting.
  public func failNext(
    _ operation: Operation, status: Int, message: String? = nil, times: Int = 1, performed: Bool = false
  ) {
    stateBox.withLock { state in
      for _ in 0..<max(times, 0) {
        state.operationFaults[operation, default: []]
          .append(.fail(status: status, message: message, performed: performed))
      }
    }
  }

  /// The next call of `operation` is carried out at once but answered only after `seconds` (a client with a
  /// shorter timeout sees no answer). Wait for it before stopping the fake.
  public func delayNext(_ operation: Operation, seconds: Double) {
    stateBox.withLock { $0.operationFaults[operation, default: []].append(.delay(seconds)) }
  }

  /// Calls of `operation` that were carried out (answered 2xx, or failed with `performed`).
  public func count(_ operation: Operation) -> Int {
    stateBox.withLock { $0.operationCounts[operation] ?? 0 }
  }

  // MARK: - Routes

  typealias Handler = FakeRouter.Handler

  static func bearer(_ request: FakeRequest) -> String? {
    request.header("Authorization").flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
  }

  static func errorBody(_ provider: Provider, _ message: String, _ status: Int) -> FakeResponse {
    switch provider {
    case .openai:
      let type = status >= 500 ? "server_error" : "invalid_request_error"
      return .json(["error": ["message": message, "type": type, "code": NSNull()] as [String: Any]], status: status)
    case .supabase: return .json(["message": message], status: status)
    case .shopify, .chatwoot: return .json(["error": message], status: status)
    }
  }

  /// Wraps a management handler: logs the request, applies an injected fault, checks `authorized` (which
  /// returns the error response to send, or nil), runs `body`, and counts the operation when carried out.
  static func operation(
    _ operation: Operation, state: Locked<State>, authorized: @escaping @Sendable (FakeRequest, State) -> FakeResponse?,
    _ body: @escaping Handler
  ) -> Handler {
    { request in
      let (fault, snapshot) = state.withLock { s -> (OperationFault?, State) in
        s.requests.append("\(operation.provider.rawValue) \(request.method) \(request.path)")
        return (s.takeFault(operation), s)
      }
      func injected(_ status: Int, _ message: String?) -> FakeResponse {
        errorBody(operation.provider, message ?? "injected failure (HTTP \(status))", status)
      }
      if case .fail(let status, let message, false) = fault { return injected(status, message) }
      if let denied = authorized(request, snapshot) { return denied }
      let response = try await body(request)
      let carriedOut = (200..<300).contains(response.status)
      if carriedOut { state.withLock { $0.operationCounts[operation, default: 0] += 1 } }
      switch fault {
      case .fail(let status, let message, _):
        return carriedOut ? injected(status, message) : response
      case .delay(let seconds):
        try await Task.sleep(for: .seconds(seconds))
        return response
      case nil:
        return response
      }
    }
  }

  static func random(_ count: Int, lowercase: Bool = false) -> String {
    let alphabet = Array(
      lowercase
        ? "abcdefghijklmnopqrstuvwxyz0123456789" : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
    return String((0..<count).map { _ in alphabet.randomElement()! })
  }

  static func uuid() -> String { UUID().uuidString.lowercased() }

  /// "sk-svcacct-ab...wxyz": the first 13 characters and the last 4.
  static func redacted(_ value: String) -> String {
    let tail = min(4, value.count / 2)
    return String(value.prefix(min(13, value.count - tail))) + "..." + String(value.suffix(tail))
  }

  private static func openAIRoutes(_ router: FakeRouter, state: Locked<State>) {
    let admin: @Sendable (FakeRequest, State) -> FakeResponse? = { request, state in
      guard let key = state.adminKey, bearer(request) == key else {
        return .json(
          [
            "error": [
              "message": "Incorrect API key provided. You can find your API key at https://platform.openai.com.",
              "type": "invalid_request_error", "code": "invalid_api_key",
            ]
          ], status: 401)
      }
      return nil
    }
    @Sendable func notFound(_ what: String) -> FakeResponse { errorBody(.openai, "No such \(what)", 404) }

    /// One page of `items` (ids in order) after the id `after`, at most `limit`.
    @Sendable func page(_ request: FakeRequest, _ items: [[String: Any]]) -> FakeResponse {
      let query = request.query
      let limit = min(max(query["limit"].flatMap { Int($0) } ?? 20, 1), 100)
      var start = 0
      if let after = query["after"] {
        guard let index = items.firstIndex(where: { $0["id"] as? String == after }) else {
          return errorBody(.openai, "Invalid 'after': no such object", 400)
        }
        start = index + 1
      }
      let slice = Array(items[start..<min(start + limit, items.count)])
      return .json([
        "object": "list", "data": slice, "first_id": slice.first?["id"] ?? NSNull(),
        "last_id": slice.last?["id"] ?? NSNull(), "has_more": start + slice.count < items.count,
      ])
    }

    @Sendable func accountJSON(_ account: OpenAIAccountRecord) -> [String: Any] {
      [
        "object": "organization.project.service_account", "id": account.id, "name": account.name, "role": "member",
        "created_at": account.createdAt,
      ]
    }

    let base = "/v1/organization/projects/{project}"

    router.get(
      "\(base)/service_accounts",
      use: operation(.openaiListServiceAccounts, state: state, authorized: admin) { request in
        let project = request.parameter("project")
        let accounts = state.withLock { $0.openAIAccounts.filter { $0.project == project }.map(accountJSON) }
        return page(request, accounts)
      })

    router.post(
      "\(base)/service_accounts",
      use: operation(.openaiCreate, state: state, authorized: admin) { request in
        let project = request.parameter("project")
        guard let body = try request.jsonObject(), let name = body["name"] as? String, !name.isEmpty else {
          return errorBody(.openai, "Missing required parameter: 'name'.", 400)
        }
        let (account, key) = state.withLock { state -> (OpenAIAccountRecord, OpenAIKeyRecord) in
          let now = Int(Date().timeIntervalSince1970)
          let account = OpenAIAccountRecord(id: state.nextID("svc_acct_"), name: name, project: project, createdAt: now)
          let key = OpenAIKeyRecord(
            id: state.nextID("key_"), name: "Secret Key", value: "sk-svcacct-" + random(48), project: project,
            serviceAccount: account.id, createdAt: now)
          state.openAIAccounts.append(account)
          state.openAIKeys.append(key)
          state.valid[.openai, default: []].insert(key.value)
          return (account, key)
        }
        var json = accountJSON(account)
        json["api_key"] = [
          "object": "organization.project.service_account.api_key", "id": key.id, "name": key.name,
          "value": key.value, "created_at": key.createdAt,
        ]
        return .json(json)
      })

    router.delete(
      "\(base)/service_accounts/{id}",
      use: operation(.openaiDelete, state: state, authorized: admin) { request in
        let project = request.parameter("project")
        let id = request.parameter("id")
        let found = state.withLock { state -> Bool in
          guard state.openAIAccounts.contains(where: { $0.id == id && $0.project == project }) else { return false }
          state.deleteAccount(id)
          return true
        }
        guard found else { return notFound("service account") }
        return .json(["object": "organization.project.service_account.deleted", "id": id, "deleted": true])
      })

    router.get(
      "\(base)/api_keys",
      use: operation(.openaiListKeys, state: state, authorized: admin) { request in
        let project = request.parameter("project")
        let keys = state.withLock { state in
          state.openAIKeys.filter { $0.project == project }.map { key -> [String: Any] in
            var owner: [String: Any] = ["type": key.serviceAccount == nil ? "user" : "service_account"]
            if let id = key.serviceAccount, let account = state.openAIAccounts.first(where: { $0.id == id }) {
              owner["service_account"] = accountJSON(account)
            } else {
              owner["user"] = [
                "object": "organization.user", "id": "user_fake", "name": "Ops", "email": "ops@example.com",
                "role": "owner",
              ]
            }
            return [
              "object": "organization.project.api_key", "id": key.id, "name": key.name,
              "redacted_value": redacted(key.value), "created_at": key.createdAt, "last_used_at": NSNull(),
              "owner": owner,
            ]
          }
        }
        return page(request, keys)
      })
  }

  private static func supabaseRoutes(_ router: FakeRouter, state: Locked<State>) {
    let token: @Sendable (FakeRequest, State) -> FakeResponse? = { request, state in
      guard let token = state.supabaseToken, bearer(request) == token else {
        return errorBody(.supabase, "Unauthorized", 401)
      }
      return nil
    }
    @Sendable func keyJSON(_ key: SupabaseKeyRecord, reveal: Bool) -> [String: Any] {
      let prefix = String(key.value.prefix(key.value.hasPrefix("sb_secret_") ? 14 : 8))
      return [
        "id": key.id, "type": key.type, "name": key.name, "prefix": prefix,
        "api_key": reveal ? key.value : prefix + "••••••••", "hash": String(key.value.hashValue, radix: 16),
        "description": NSNull(), "inserted_at": key.insertedAt, "updated_at": key.insertedAt,
      ]
    }
    @Sendable func reveal(_ request: FakeRequest) -> Bool { request.query["reveal"] == "true" }
    let base = "/v1/projects/{ref}/api-keys"

    router.get(
      base,
      use: operation(.supabaseList, state: state, authorized: token) { request in
        let ref = request.parameter("ref")
        let keys = state.withLock { $0.supabaseKeys.filter { $0.project == ref } }
        return .json(keys.map { keyJSON($0, reveal: reveal(request)) })
      })

    router.post(
      base,
      use: operation(.supabaseCreate, state: state, authorized: token) { request in
        let ref = request.parameter("ref")
        guard let body = try request.jsonObject(), let type = body["type"] as? String,
          let name = body["name"] as? String
        else { return errorBody(.supabase, "type and name are required", 400) }
        guard type == "secret" || type == "publishable" else {
          return errorBody(.supabase, "type must be one of: secret, publishable", 400)
        }
        guard (4...64).contains(name.count), name.range(of: "^[a-z_][a-z0-9_]+$", options: .regularExpression) != nil
        else { return errorBody(.supabase, "name must match ^[a-z_][a-z0-9_]+$ and be 4 to 64 characters", 400) }
        let key = state.withLock { state -> SupabaseKeyRecord in
          let key = SupabaseKeyRecord(
            id: uuid(), name: name, type: type, value: "sb_\(type)_" + random(32), project: ref,
            insertedAt: state.clock.next())
          state.supabaseKeys.append(key)
          state.valid[.supabase, default: []].insert(key.value)
          return key
        }
        return .json(keyJSON(key, reveal: reveal(request)), status: 201)
      })

    router.delete(
      "\(base)/{id}",
      use: operation(.supabaseDelete, state: state, authorized: token) { request in
        let ref = request.parameter("ref")
        let id = request.parameter("id")
        let key = state.withLock { state -> SupabaseKeyRecord? in
          guard let index = state.supabaseKeys.firstIndex(where: { $0.id == id && $0.project == ref }) else {
            return nil
          }
          let key = state.supabaseKeys.remove(at: index)
          if !state.supabaseKeys.contains(where: { $0.value == key.value }) {
            state.valid[.supabase]?.remove(key.value)
          }
          return key
        }
        guard let key else { return errorBody(.supabase, "API key not found", 404) }
        return .json(keyJSON(key, reveal: false))
      })
  }

  private static func chatwootRoutes(_ router: FakeRouter, state: Locked<State>) {
    let current: @Sendable (FakeRequest, State) -> FakeResponse? = { request, state in
      guard let token = request.header("api_access_token"), state.valid[.chatwoot]?.contains(token) == true
      else { return errorBody(.chatwoot, "Invalid Access Token", 401) }
      return nil
    }
    router.post(
      "/api/v1/profile/reset_access_token",
      use: operation(.chatwootReset, state: state, authorized: current) { request in
        let old = request.header("api_access_token") ?? ""
        let token = state.withLock { state -> String? in
          // Checked again under the lock: two resets with the same token cannot both succeed.
          guard state.valid[.chatwoot]?.remove(old) != nil else { return nil }
          let token = random(24)
          state.valid[.chatwoot, default: []].insert(token)
          state.chatwootToken = token
          return token
        }
        guard let token else { return errorBody(.chatwoot, "Invalid Access Token", 401) }
        return .json([
          "id": 1, "name": "Ops", "email": "ops@example.com", "access_token": token, "confirmed": true,
        ])
      })
  }
}
