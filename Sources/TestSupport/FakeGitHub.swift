import Foundation
import Hummingbird
import Sodium

/// A loopback fake of GitHub's Actions environment-secrets API
/// (`/repos/{owner}/{repo}/environments/{env}/secrets…`). Each environment holds a real Curve25519 key pair, so
/// values sealed by the client are decrypted and stored as plaintext. Errors are `{"message": "..."}`.
///
/// Control endpoints without auth or latency: `GET /_stats` and `POST /_reset` (see `hotsecrets-fakes`).
public final class FakeGitHub: Sendable {
  struct SecretRecord: Sendable {
    var value: String
    var createdAt: String
    var updatedAt: String
  }

  struct EnvironmentRecord: Sendable {
    var keyPair: BoxKeyPair
    var keyID: String
    var secrets: [String: SecretRecord] = [:]
    var publicKeyFetches = 0
    var puts = 0
    /// Rotate the key once `puts` reaches this.
    var rotateAtPuts: Int?
  }

  struct EnvironmentID: Hashable, Sendable {
    let repository: String
    let environment: String
  }

  struct State: Sendable {
    var environments: [EnvironmentID: EnvironmentRecord] = [:]
    var clock = MonotonicClock()
    var keyCounter = 0
    var baseURL = ""

    mutating func rotate(_ id: EnvironmentID) {
      guard environments[id] != nil else { return }
      environments[id]!.keyPair = try! BoxKeyPair.generate()
      environments[id]!.keyID = newKeyID()
    }

    mutating func newKeyID() -> String {
      keyCounter += 1
      return String(568_250_167_242_549_743 + keyCounter)
    }
  }

  public let server: FakeServer
  /// `http://127.0.0.1:PORT`
  public var baseURL: String { server.baseURL }
  let state: Locked<State>
  let gate: RequestGate

  private init(server: FakeServer, state: Locked<State>, gate: RequestGate) {
    self.server = server
    self.state = state
    self.gate = gate
  }

  /// Starts the fake. Requests must carry `Authorization: Bearer <token>` (or `token <token>`),
  /// `Accept: application/vnd.github+json` and `X-GitHub-Api-Version: 2022-11-28`. `latency` seconds are added to
  /// every API request.
  public static func start(token: String = "gh-test-token", latency: Double = 0) async throws -> FakeGitHub {
    let state = Locked(State())
    let gate = RequestGate(latency: latency) { status, message in
      .json(["message": message], status: .init(code: status))
    }
    let router = Router()
    routes(router, state: state, gate: gate, token: token)
    let server = try await FakeServer.start(router)
    state.withLock { $0.baseURL = server.baseURL }
    return FakeGitHub(server: server, state: state, gate: gate)
  }

  /// Shuts the server down (only once every request to it has completed).
  public func stop() { server.stop() }

  // MARK: - Controls

  /// Adds an environment ("owner/repo" + environment name) with a fresh key pair and no secrets.
  public func addEnvironment(repository: String, environment: String) {
    let keyPair = try! BoxKeyPair.generate()
    state.withLock { state in
      let id = EnvironmentID(repository: repository, environment: environment)
      guard state.environments[id] == nil else { return }
      state.environments[id] = EnvironmentRecord(keyPair: keyPair, keyID: state.newKeyID())
    }
  }

  /// Decrypted secret values by (upper-case) name.
  public func secrets(repository: String, environment: String) -> [String: String] {
    read(repository, environment) { $0.secrets.mapValues(\.value) } ?? [:]
  }

  /// `updated_at` of each secret by name.
  public func updatedAt(repository: String, environment: String) -> [String: String] {
    read(repository, environment) { $0.secrets.mapValues(\.updatedAt) } ?? [:]
  }

  /// Someone else sets the secret: new plaintext and an `updated_at` later than every earlier write.
  public func changeElsewhere(repository: String, environment: String, name: String, value: String) {
    state.withLock { state in
      let id = EnvironmentID(repository: repository, environment: environment)
      guard state.environments[id] != nil else { return }
      let now = state.clock.next()
      let key = name.uppercased()
      let created = state.environments[id]!.secrets[key]?.createdAt ?? now
      state.environments[id]!.secrets[key] = SecretRecord(value: value, createdAt: created, updatedAt: now)
    }
  }

  /// Replaces the environment's key pair and key id now.
  public func rotateKey(repository: String, environment: String) {
    state.withLock { $0.rotate(EnvironmentID(repository: repository, environment: environment)) }
  }

  /// Replaces the key pair and key id right after the `n`-th successful PUT to the environment from now on.
  public func rotateKey(repository: String, environment: String, afterPuts n: Int) {
    state.withLock { state in
      let id = EnvironmentID(repository: repository, environment: environment)
      guard let record = state.environments[id] else { return }
      state.environments[id]!.rotateAtPuts = record.puts + n
    }
  }

  /// `GET …/public-key` requests answered since the last reset.
  public func publicKeyFetches(repository: String, environment: String) -> Int {
    read(repository, environment) { $0.publicKeyFetches } ?? 0
  }

  /// Successful PUTs since the last reset.
  public func puts(repository: String, environment: String) -> Int {
    read(repository, environment) { $0.puts } ?? 0
  }

  public func inject(_ fault: InjectedFault) { gate.inject(fault) }

  /// "METHOD /path" of every API request received, the path as sent (environment still URL-encoded), control
  /// endpoints excluded.
  public var requests: [String] { gate.requests }

  /// Clears every environment's secrets and counters (environments and keys stay).
  public func resetSecrets() { Self.resetSecrets(state) }

  /// `resetSecrets()`, plus clears the request log and the injected faults (what `POST /_reset` does).
  public func resetAll() {
    Self.resetSecrets(state)
    gate.reset()
  }

  /// What `GET /_stats` answers: {"requests", "by_route", "public_key_fetches", "puts"} (totals).
  public func stats() -> [String: Any] { Self.stats(state, gate) }

  private func read<T>(_ repository: String, _ environment: String, _ body: (EnvironmentRecord) -> T) -> T? {
    state.withLock { state in
      state.environments[EnvironmentID(repository: repository, environment: environment)].map(body)
    }
  }

  static func resetSecrets(_ state: Locked<State>) {
    state.withLock { state in
      for id in Array(state.environments.keys) {
        state.environments[id]!.secrets = [:]
        state.environments[id]!.publicKeyFetches = 0
        state.environments[id]!.puts = 0
        state.environments[id]!.rotateAtPuts = nil
      }
    }
  }

  static func stats(_ state: Locked<State>, _ gate: RequestGate) -> [String: Any] {
    let (fetches, puts) = state.withLock { state in
      state.environments.values.reduce((0, 0)) { ($0.0 + $1.publicKeyFetches, $0.1 + $1.puts) }
    }
    return [
      "requests": gate.requests.count, "by_route": gate.countsByRoute(), "public_key_fetches": fetches, "puts": puts,
    ]
  }

  /// Letters, digits and underscores; not starting with a digit or "GITHUB_" (case-insensitive).
  static func isValidName(_ name: String) -> Bool {
    guard let first = name.unicodeScalars.first, !name.uppercased().hasPrefix("GITHUB_") else { return false }
    guard !("0"..."9").contains(first) else { return false }
    return name.unicodeScalars.allSatisfy {
      ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_"
    }
  }

  static func message(_ text: String, _ status: HTTPResponse.Status) -> Response {
    .json(["message": text, "documentation_url": "https://docs.github.com/rest"], status: status)
  }

  static func metadata(_ name: String, _ secret: SecretRecord) -> [String: Any] {
    ["name": name, "created_at": secret.createdAt, "updated_at": secret.updatedAt]
  }

  // MARK: - Routes

  private static func routes(
    _ router: Router<BasicRequestContext>, state: Locked<State>, gate: RequestGate, token: String
  ) {
    /// Runs `body` for an authorized request with the API headers to an existing environment.
    func api(
      _ body: @escaping @Sendable (Request, BasicRequestContext, EnvironmentID) async throws -> Response
    ) -> @Sendable (Request, BasicRequestContext) async throws -> Response {
      { request, context in
        if let injected = try await gate.admit(request) { return injected }
        let authorization = request.headers[.authorization]
        guard authorization == "Bearer \(token)" || authorization == "token \(token)" else {
          return message("Bad credentials", .unauthorized)
        }
        guard let accept = request.headers[.accept], accept.contains("application/vnd.github+json") else {
          return message("Missing header: Accept: application/vnd.github+json", .badRequest)
        }
        guard request.headers[.init("X-GitHub-Api-Version")!] == "2022-11-28" else {
          return message("Missing header: X-GitHub-Api-Version: 2022-11-28", .badRequest)
        }
        let id = EnvironmentID(
          repository: decodedParameter(context, "owner") + "/" + decodedParameter(context, "repo"),
          environment: decodedParameter(context, "env"))
        guard state.withLock({ $0.environments[id] != nil }) else { return message("Not Found", .notFound) }
        return try await body(request, context, id)
      }
    }
    let base = "/repos/{owner}/{repo}/environments/{env}/secrets"

    router.get(
      RouterPath("\(base)/public-key"),
      use: api { _, _, id in
        let (keyID, key) = state.withLock { state in
          state.environments[id]!.publicKeyFetches += 1
          let record = state.environments[id]!
          return (record.keyID, Data(record.keyPair.publicKey).base64EncodedString())
        }
        return .json(["key_id": keyID, "key": key])
      })

    router.get(
      RouterPath(base),
      use: api { request, _, id in
        let query = request.uri.queryParameters
        let perPage = min(max(query["per_page"].flatMap { Int($0) } ?? 30, 1), 100)
        let page = max(query["page"].flatMap { Int($0) } ?? 1, 1)
        let (all, baseURL) = state.withLock { state in
          let secrets = state.environments[id]!.secrets
          return (secrets.keys.sorted().map { metadata($0, secrets[$0]!) }, state.baseURL)
        }
        let start = min((page - 1) * perPage, all.count)
        let slice = Array(all[start..<min(start + perPage, all.count)])
        var response = Response.json(["total_count": all.count, "secrets": slice])
        let lastPage = max(1, (all.count + perPage - 1) / perPage)
        if page < lastPage {
          let link = { (page: Int) in "<\(baseURL)\(request.uri.path)?per_page=\(perPage)&page=\(page)>" }
          response.headers[.init("Link")!] = "\(link(page + 1)); rel=\"next\", \(link(lastPage)); rel=\"last\""
        }
        return response
      })

    router.get(
      RouterPath("\(base)/{name}"),
      use: api { _, context, id in
        let name = decodedParameter(context, "name").uppercased()
        let secret = state.withLock { $0.environments[id]!.secrets[name] }
        guard let secret else { return message("Not Found", .notFound) }
        return .json(metadata(name, secret))
      })

    router.put(
      RouterPath("\(base)/{name}"),
      use: api { request, context, id in
        let rawName = decodedParameter(context, "name")
        guard isValidName(rawName) else {
          return message(
            "Secret names can only contain alphanumeric characters ([a-z], [A-Z], [0-9]) or underscores (_), "
              + "and must not start with a number or GITHUB_", .unprocessableContent)
        }
        guard let body = try await request.jsonObject(), let encrypted = body["encrypted_value"] as? String,
          let keyID = body["key_id"] as? String
        else {
          return message("Invalid request: encrypted_value and key_id are required strings", .unprocessableContent)
        }
        let (currentKeyID, keyPair) = state.withLock { ($0.environments[id]!.keyID, $0.environments[id]!.keyPair) }
        guard keyID == currentKeyID else { return message("Bad key_id: not the current key", .unprocessableContent) }
        guard let sealed = Data(base64Encoded: encrypted),
          let opened = try? SealedBox.open(Array(sealed), with: keyPair)
        else {
          return message("encrypted_value could not be decrypted with the key", .unprocessableContent)
        }
        guard opened.count <= 48 * 1024 else { return message("Secret value is too large", .unprocessableContent) }
        let value = String(decoding: opened.copyBytes(), as: UTF8.self)
        let name = rawName.uppercased()
        let created = state.withLock { state -> Bool? in
          // The key may have rotated while the value was being decrypted: the PUT then fails like a stale key_id.
          guard state.environments[id]!.keyID == keyID else { return nil }
          let now = state.clock.next()
          let existing = state.environments[id]!.secrets[name]
          state.environments[id]!.secrets[name] = SecretRecord(
            value: value, createdAt: existing?.createdAt ?? now, updatedAt: now)
          state.environments[id]!.puts += 1
          if let rotateAt = state.environments[id]!.rotateAtPuts, state.environments[id]!.puts >= rotateAt {
            state.environments[id]!.rotateAtPuts = nil
            state.rotate(id)
          }
          return existing == nil
        }
        guard let created else { return message("Bad key_id: not the current key", .unprocessableContent) }
        return Response(status: created ? .created : .noContent)
      })

    router.delete(
      RouterPath("\(base)/{name}"),
      use: api { _, context, id in
        let name = decodedParameter(context, "name").uppercased()
        let removed = state.withLock { $0.environments[id]!.secrets.removeValue(forKey: name) != nil }
        return removed ? Response(status: .noContent) : message("Not Found", .notFound)
      })

    router.get("/_stats") { _, _ -> Response in .json(stats(state, gate)) }
    router.post("/_reset") { _, _ -> Response in
      resetSecrets(state)
      gate.reset()
      return .json(["ok": true])
    }
  }
}
