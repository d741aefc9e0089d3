import Foundation
import RemoteAPIs

/// The Fly Machines REST API (`https://api.machines.dev`, or `HOTSECRETS_FLY_API_URL`). Tokens
/// starting `FlyV1 ` (macaroons, e.g. deploy tokens) are sent as they are, others as `Bearer`.
public struct FlyMachinesClient: FlyMachinesAPI {
  let client: APIClient

  public init(baseURL: String, token: String, timeout: TimeInterval = 30, retry: RetryPolicy = RetryPolicy()) {
    let authorization = token.hasPrefix("FlyV1 ") ? token : "Bearer \(token)"
    client = APIClient(
      service: "fly", baseURL: baseURL, headers: ["Authorization": authorization, "Accept": "application/json"],
      transport: HTTPTransport(timeout: timeout), retry: retry)
  }

  private func appPath(_ app: String) -> String { "/v1/apps/\(APIClient.pathComponent(app))" }

  public func listSecrets(app: String) async throws -> [FlyAppSecret] {
    let response = try await client.send("GET", appPath(app) + "/secrets")
    guard let object = try client.decode(response, what: "a secrets list") as? [String: Any],
      let list = object["secrets"] as? [[String: Any]]
    else { throw RemoteError(status: response.status, reason: "fly: unexpected secrets list") }
    return list.compactMap(Self.secret)
  }

  public func updateSecrets(app: String, values: [String: String]) async throws -> FlySecretsUpdate {
    let response = try await client.send("POST", appPath(app) + "/secrets", json: ["values": values])
    guard let object = try client.decode(response, what: "a secrets update") as? [String: Any],
      let version = (object["version"] as? NSNumber)?.intValue
    else { throw RemoteError(status: response.status, reason: "fly: the secrets update returned no version") }
    let secrets = (object["secrets"] as? [[String: Any]] ?? []).compactMap(Self.secret)
    return FlySecretsUpdate(version: version, secrets: secrets)
  }

  public func listMachines(app: String) async throws -> [FlyMachine] {
    let response = try await client.send("GET", appPath(app) + "/machines")
    guard let list = try client.decode(response, what: "a machine list") as? [[String: Any]] else {
      throw RemoteError(status: response.status, reason: "fly: unexpected machine list")
    }
    return try list.map(Self.machine)
  }

  public func machine(app: String, id: String) async throws -> FlyMachine {
    let response = try await client.send("GET", appPath(app) + "/machines/\(APIClient.pathComponent(id))")
    guard let object = try client.decode(response, what: "a machine") as? [String: Any] else {
      throw RemoteError(status: response.status, reason: "fly: unexpected machine")
    }
    return try Self.machine(object)
  }

  public func updateMachine(app: String, machine: FlyMachine, minSecretsVersion: Int) async throws -> FlyMachine {
    guard let data = machine.config, let config = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
      !config.isEmpty
    else {
      throw RemoteError(status: nil, reason: "fly returned no config for machine \(machine.id); not updating it")
    }
    let response = try await client.send(
      "POST", appPath(app) + "/machines/\(APIClient.pathComponent(machine.id))",
      json: ["config": config, "min_secrets_version": minSecretsVersion], idempotent: false)
    guard let object = try client.decode(response, what: "a machine") as? [String: Any] else {
      throw RemoteError(status: response.status, reason: "fly: unexpected machine")
    }
    return try Self.machine(object)
  }

  public func waitStarted(app: String, machineID: String, instanceID: String?, timeout: Int) async throws -> Bool {
    var path = appPath(app) + "/machines/\(APIClient.pathComponent(machineID))/wait?state=started&timeout=\(timeout)"
    if let instanceID { path += "&instance_id=\(APIClient.pathComponent(instanceID))" }
    let response = try await client.send("GET", path, timeout: Double(timeout) + 10, accept: [408])
    return response.status != 408
  }

  static func secret(_ object: [String: Any]) -> FlyAppSecret? {
    guard let name = object["name"] as? String else { return nil }
    return FlyAppSecret(
      name: name, digest: object["digest"] as? String ?? "", updatedAt: object["updated_at"] as? String)
  }

  static func machine(_ object: [String: Any]) throws -> FlyMachine {
    // Ids, states and check names end up in reasons and audit entries: identifiers only.
    guard let id = object["id"] as? String, RemoteText.isIdentifier(id) else {
      throw RemoteError(
        status: nil, reason: "fly: a machine has no id, or one that is not an identifier", category: "bad-response")
    }
    let instanceID = object["instance_id"] as? String
    if let instanceID, !RemoteText.isIdentifier(instanceID) {
      throw RemoteError(
        status: nil, reason: "fly: machine \(id) has an instance id that is not an identifier", category: "bad-response"
      )
    }
    let config = try (object["config"] as? [String: Any]).map { try JSONSerialization.data(withJSONObject: $0) }
    let checks = (object["checks"] as? [[String: Any]] ?? []).map {
      FlyMachine.Check(
        name: RemoteText.label($0["name"] as? String ?? "check"),
        status: RemoteText.label($0["status"] as? String ?? "unknown"))
    }
    return FlyMachine(
      id: id, state: RemoteText.label(object["state"] as? String ?? "unknown"), instanceID: instanceID,
      config: config, checks: checks, minSecretsVersion: (object["min_secrets_version"] as? NSNumber)?.intValue)
  }
}
