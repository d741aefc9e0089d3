import Foundation
import Sodium
import SystemLibraries

/// A loopback fake of the Fly.io Machines API: app secrets (list, bulk update with a secrets version) and
/// machines (list, get, update with `min_secrets_version`, wait). Errors are `{"error": "..."}`.
///
/// Control endpoints without auth or latency: `GET /_stats` and `POST /_reset` (see `hotsecrets-fakes`).
public final class FakeFly: Sendable {
  /// A machine as the tests see it.
  public struct Machine: Sendable, Equatable {
    public let id: String
    /// "started", or "starting" for a machine told `neverStarts` after an update.
    public let state: String
    public let instanceID: String
    /// nil until an update set it.
    public let minSecretsVersion: Int?
    /// Updates (restarts) counted since the last reset.
    public let restarts: Int
  }

  struct SecretRecord: Sendable {
    var value: String
    var createdAt: String
    var updatedAt: String
  }

  struct MachineRecord: Sendable {
    let id: String
    let name: String
    var state = "started"
    var instanceID: String
    /// The machine config as JSON (an object).
    var config: Data
    var updatedAt: String
    var minSecretsVersion: Int?
    var restarts = 0
    var neverStarts = false
    /// nil: the machine has no checks; otherwise the status of its "http" check.
    var checkStatus: String?
  }

  struct AppRecord: Sendable {
    var secrets: [String: SecretRecord] = [:]
    var version = 0
    var bulkUpdates = 0
    var machines: [MachineRecord] = []
    var opaqueDigests = false

    func machineIndex(_ id: String) -> Int? { machines.firstIndex { $0.id == id } }
  }

  struct State: Sendable {
    var apps: [String: AppRecord] = [:]
    var clock = MonotonicClock()
    var instanceCounter = 0

    mutating func newInstanceID() -> String {
      instanceCounter += 1
      let digits = String(instanceCounter)
      return "01HFAKE" + String(repeating: "0", count: max(0, 19 - digits.count)) + digits
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

  /// Starts the fake. Requests must carry `Authorization: Bearer <token>` (a token starting with "FlyV1 " may also
  /// be sent as it is). `latency` seconds are added to every API request.
  public static func start(token: String = "fly-test-token", latency: Double = 0) async throws -> FakeFly {
    let state = Locked(State())
    let gate = RequestGate(latency: latency) { status, message in
      .json(["error": message], status: status)
    }
    let router = FakeRouter()
    routes(router, state: state, gate: gate, token: token)
    let server = try await FakeServer.start(router)
    return FakeFly(server: server, state: state, gate: gate)
  }

  /// Shuts the server down (only once every request to it has completed).
  public func stop() { server.stop() }

  // MARK: - Controls

  /// Adds an app with `machines` machines, ids "\(app)-m1" … "\(app)-mN", all started, no `min_secrets_version`.
  /// With `withChecks`, each machine has a passing "http" check.
  public func addApp(_ app: String, machines: Int = 0, withChecks: Bool = false) {
    state.withLock { state in
      var record = state.apps[app] ?? AppRecord()
      for offset in 0..<max(0, machines) {
        let index = offset + 1
        let id = "\(app)-m\(index)"
        guard record.machineIndex(id) == nil else { continue }
        var machine = MachineRecord(
          id: id, name: "\(app)-machine-\(index)", instanceID: state.newInstanceID(),
          config: Self.defaultConfig(app: app), updatedAt: state.clock.next())
        if withChecks { machine.checkStatus = "passing" }
        record.machines.append(machine)
      }
      state.apps[app] = record
    }
  }

  /// The machine ids of `app`, in creation order.
  public func machineIDs(app: String) -> [String] {
    state.withLock { $0.apps[app]?.machines.map(\.id) ?? [] }
  }

  /// Presets a remote secret (as if set by someone else); bumps the app's secrets version.
  public func setSecret(app: String, name: String, value: String) {
    state.withLock { state in
      guard var record = state.apps[app] else { return }
      let now = state.clock.next()
      record.secrets[name] = SecretRecord(
        value: value, createdAt: record.secrets[name]?.createdAt ?? now, updatedAt: now)
      record.version += 1
      state.apps[app] = record
    }
  }

  /// Current secret values of `app` by name.
  public func secretValues(app: String) -> [String: String] {
    state.withLock { $0.apps[app]?.secrets.mapValues(\.value) ?? [:] }
  }

  /// The digests the API reports for `app`'s secrets, by name.
  public func digests(app: String) -> [String: String] {
    state.withLock { state in
      guard let record = state.apps[app] else { return [:] }
      return record.secrets.mapValues { Self.digest($0.value, opaque: record.opaqueDigests) }
    }
  }

  /// The app's secrets version (0 until the first change).
  public func secretsVersion(app: String) -> Int {
    state.withLock { $0.apps[app]?.version ?? 0 }
  }

  /// Successful bulk secret updates (`POST /v1/apps/{app}/secrets`) since the last reset.
  public func bulkUpdates(app: String) -> Int {
    state.withLock { $0.apps[app]?.bulkUpdates ?? 0 }
  }

  /// Machine updates (restarts) of one machine since the last reset.
  public func restarts(app: String, machine: String) -> Int {
    self.machine(app: app, id: machine)?.restarts ?? 0
  }

  public func machine(app: String, id: String) -> Machine? {
    state.withLock { state in
      guard let record = state.apps[app], let index = record.machineIndex(id) else { return nil }
      let machine = record.machines[index]
      return Machine(
        id: machine.id, state: machine.state, instanceID: machine.instanceID,
        minSecretsVersion: machine.minSecretsVersion, restarts: machine.restarts)
    }
  }

  /// The config last stored for a machine (the default one until an update).
  public func machineConfig(app: String, id: String) -> [String: Any]? {
    let data = state.withLock { state -> Data? in
      guard let record = state.apps[app], let index = record.machineIndex(id) else { return nil }
      return record.machines[index].config
    }
    return data.flatMap { (try? JSONSerialization.jsonObject(with: $0)) as? [String: Any] }
  }

  /// After its next update the machine stays "starting", so waiting for "started" times out (408).
  public func neverStarts(app: String, machine: String) {
    updateMachine(app: app, id: machine) { $0.neverStarts = true }
  }

  /// Gives the machine an "http" check with `status` ("passing", "warning", "critical").
  public func setChecks(app: String, machine: String, status: String) {
    updateMachine(app: app, id: machine) { $0.checkStatus = status }
  }

  /// Makes the API report digests that are not hex MD5 ("v1:" + hex SHA-256) for `app`.
  public func useOpaqueDigests(app: String) {
    state.withLock { $0.apps[app]?.opaqueDigests = true }
  }

  public func inject(_ fault: InjectedFault) { gate.inject(fault) }

  /// "METHOD /path" of every API request received (control endpoints excluded).
  public var requests: [String] { gate.requests }

  /// Clears all secrets and counters (the secrets version keeps counting); keeps apps and machines, which are reset to "started" with their
  /// default config, no `min_secrets_version` and no `neverStarts`.
  public func resetSecrets() { Self.resetSecrets(state) }

  /// `resetSecrets()`, plus clears the request log and the injected faults (what `POST /_reset` does).
  public func resetAll() {
    Self.resetSecrets(state)
    gate.reset()
  }

  static func resetSecrets(_ state: Locked<State>) {
    state.withLock { state in
      for app in Array(state.apps.keys) {
        guard var record = state.apps[app] else { continue }
        record.secrets = [:]
        // The secrets version stays monotonic, as Fly's does: a vault restored by the benchmark
        // remembers versions it saw, and a reused number would look already deployed.
        record.bulkUpdates = 0
        for index in record.machines.indices {
          record.machines[index].state = "started"
          record.machines[index].minSecretsVersion = nil
          record.machines[index].restarts = 0
          record.machines[index].neverStarts = false
          record.machines[index].config = Self.defaultConfig(app: app)
        }
        state.apps[app] = record
      }
    }
  }

  /// What `GET /_stats` answers: {"requests", "by_route", "bulk_updates": {app: n}, "restarts": {machine: n}}.
  public func stats() -> [String: Any] { Self.stats(state, gate) }

  static func stats(_ state: Locked<State>, _ gate: RequestGate) -> [String: Any] {
    let (bulk, restarts) = state.withLock { state -> ([String: Int], [String: Int]) in
      var bulk: [String: Int] = [:]
      var restarts: [String: Int] = [:]
      for (name, app) in state.apps {
        bulk[name] = app.bulkUpdates
        for machine in app.machines { restarts[machine.id] = machine.restarts }
      }
      return (bulk, restarts)
    }
    return [
      "requests": gate.requests.count, "by_route": gate.countsByRoute(), "bulk_updates": bulk, "restarts": restarts,
    ]
  }

  private func updateMachine(app: String, id: String, _ change: (inout MachineRecord) -> Void) {
    state.withLock { state in
      guard let index = state.apps[app]?.machineIndex(id) else { return }
      change(&state.apps[app]!.machines[index])
    }
  }

  // MARK: - JSON shapes

  static func defaultConfig(app: String) -> Data {
    let config: [String: Any] = [
      "image": "registry.fly.io/\(app):deployment-1", "env": ["PORT": "8080"], "guest": ["cpus": 1, "memory_mb": 256],
    ]
    return (try? JSONSerialization.data(withJSONObject: config, options: [.sortedKeys])) ?? Data("{}".utf8)
  }

  static func digest(_ value: String, opaque: Bool) -> String {
    if opaque {
      return "v1:" + SHA256.hash(Array(value.utf8)).map { String(format: "%02x", $0) }.joined()
    }
    return (try? LibCrypto.md5Hex(value.utf8)) ?? "libcrypto-missing"
  }

  static func secretsJSON(_ app: AppRecord) -> [[String: Any]] {
    app.secrets.keys.sorted().map { name in
      let secret = app.secrets[name]!
      return [
        "name": name, "digest": digest(secret.value, opaque: app.opaqueDigests), "created_at": secret.createdAt,
        "updated_at": secret.updatedAt,
      ]
    }
  }

  static func machineJSON(_ machine: MachineRecord) -> [String: Any] {
    var json: [String: Any] = [
      "id": machine.id, "name": machine.name, "state": machine.state, "region": "iad",
      "instance_id": machine.instanceID,
      "config": (try? JSONSerialization.jsonObject(with: machine.config)) ?? [String: Any](),
      "updated_at": machine.updatedAt,
    ]
    if let status = machine.checkStatus { json["checks"] = [["name": "http", "status": status]] }
    if let version = machine.minSecretsVersion { json["min_secrets_version"] = version }
    return json
  }

  // MARK: - Routes

  private static func routes(_ router: FakeRouter, state: Locked<State>, gate: RequestGate, token: String) {
    let authorized: @Sendable (FakeRequest) -> Bool = { request in
      let header = request.header("Authorization")
      return header == "Bearer \(token)" || (token.hasPrefix("FlyV1 ") && header == token)
    }
    /// Runs `body` for an authorized request to an existing app.
    func api(
      _ body: @escaping @Sendable (FakeRequest, String) async throws -> FakeResponse
    ) -> FakeRouter.Handler {
      { request in
        if let injected = try await gate.admit(request) { return injected }
        guard authorized(request) else { return .json(["error": "unauthorized"], status: 401) }
        let app = request.parameter("app")
        guard state.withLock({ $0.apps[app] != nil }) else {
          return .json(["error": "app not found"], status: 404)
        }
        return try await body(request, app)
      }
    }

    router.get(
      "/v1/apps/{app}/secrets",
      use: api { _, app in
        let secrets = state.withLock { secretsJSON($0.apps[app]!) }
        return .json(["secrets": secrets])
      })

    router.post(
      "/v1/apps/{app}/secrets",
      use: api { request, app in
        guard let body = try request.jsonObject(), let values = body["values"] as? [String: Any] else {
          return .json(["error": "invalid request body: expected {\"values\": {...}}"], status: 400)
        }
        var changes: [String: String?] = [:]
        for (name, value) in values {
          if let string = value as? String {
            changes[name] = .some(string)
          } else if value is NSNull {
            changes[name] = .some(nil)
          } else {
            return .json(["error": "invalid value for secret \(name): expected a string or null"], status: 400)
          }
        }
        let (secrets, version) = state.withLock { state -> ([[String: Any]], Int) in
          var record = state.apps[app]!
          let now = state.clock.next()
          for (name, value) in changes {
            if let value {
              record.secrets[name] = SecretRecord(
                value: value, createdAt: record.secrets[name]?.createdAt ?? now, updatedAt: now)
            } else {
              record.secrets[name] = nil
            }
          }
          record.version += 1
          record.bulkUpdates += 1
          state.apps[app] = record
          return (secretsJSON(record), record.version)
        }
        return .json(["secrets": secrets, "version": version])
      })

    router.get(
      "/v1/apps/{app}/machines",
      use: api { _, app in
        let machines = state.withLock { $0.apps[app]!.machines.map(machineJSON) }
        return .json(machines)
      })

    router.get(
      "/v1/apps/{app}/machines/{id}",
      use: api { request, app in
        let id = request.parameter("id")
        let machine = state.withLock { state in state.apps[app]!.machineIndex(id).map { state.apps[app]!.machines[$0] }
        }
        guard let machine else { return .json(["error": "machine not found"], status: 404) }
        return .json(machineJSON(machine))
      })

    router.post(
      "/v1/apps/{app}/machines/{id}",
      use: api { request, app in
        let id = request.parameter("id")
        guard state.withLock({ $0.apps[app]!.machineIndex(id) != nil }) else {
          return .json(["error": "machine not found"], status: 404)
        }
        guard let body = try request.jsonObject(), let config = body["config"] as? [String: Any],
          !config.isEmpty, config["image"] != nil,
          let configData = try? JSONSerialization.data(withJSONObject: config, options: [.sortedKeys])
        else {
          return .json(["error": "invalid request body: \"config\" must be an object"], status: 400)
        }
        var minVersion: Int?
        if let raw = body["min_secrets_version"], !(raw is NSNull) {
          guard let number = raw as? NSNumber, let exact = Int(exactly: number.doubleValue) else {
            return .json(["error": "invalid min_secrets_version"], status: 400)
          }
          minVersion = exact
        }
        let machine = state.withLock { state -> MachineRecord? in
          guard let index = state.apps[app]!.machineIndex(id) else { return nil }
          var machine = state.apps[app]!.machines[index]
          machine.config = configData
          if let minVersion { machine.minSecretsVersion = minVersion }
          machine.instanceID = state.newInstanceID()
          machine.restarts += 1
          machine.state = machine.neverStarts ? "starting" : "started"
          machine.updatedAt = state.clock.next()
          state.apps[app]!.machines[index] = machine
          return machine
        }
        guard let machine else { return .json(["error": "machine not found"], status: 404) }
        return .json(machineJSON(machine))
      })

    router.get(
      "/v1/apps/{app}/machines/{id}/wait",
      use: api { request, app in
        let id = request.parameter("id")
        let query = request.query
        let wanted = query["state"] ?? "started"
        let instanceID = query["instance_id"]
        var timeoutText = query["timeout"] ?? "60"
        if timeoutText.hasSuffix("s") { timeoutText.removeLast() }
        let timeout = min(max(Double(timeoutText) ?? 60, 0), 10)
        let deadline = ContinuousClock.now + .seconds(timeout)
        while true {
          let status = state.withLock { state -> (found: Bool, reached: Bool) in
            guard let index = state.apps[app]?.machineIndex(id) else { return (false, false) }
            let machine = state.apps[app]!.machines[index]
            return (true, machine.state == wanted && (instanceID == nil || machine.instanceID == instanceID))
          }
          guard status.found else { return .json(["error": "machine not found"], status: 404) }
          if status.reached { return .json(["ok": true]) }
          if ContinuousClock.now >= deadline { return .json(["error": "deadline_exceeded"], status: 408) }
          try await Task.sleep(for: .milliseconds(50))
        }
      })

    router.get("/_stats") { _ in .json(stats(state, gate)) }
    router.post("/_reset") { _ in
      resetSecrets(state)
      gate.reset()
      return .json(["ok": true])
    }
  }
}
