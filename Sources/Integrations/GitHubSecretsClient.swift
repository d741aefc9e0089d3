import Foundation
import RemoteAPIs

/// GitHub Actions environment secrets (`https://api.github.com`, or `HOTSECRETS_GITHUB_API_URL`),
/// REST API version 2022-11-28.
public struct GitHubSecretsClient: GitHubSecretsAPI {
  let client: APIClient

  public init(baseURL: String, token: String, timeout: TimeInterval = 30, retry: RetryPolicy = RetryPolicy()) {
    client = APIClient(
      service: "github", baseURL: baseURL,
      headers: [
        "Authorization": "Bearer \(token)", "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
      ],
      transport: HTTPTransport(timeout: timeout), retry: retry)
  }

  private func secretsPath(_ environment: GitHubEnvironment) -> String {
    let repository = environment.repository.split(separator: "/").map { APIClient.pathComponent(String($0)) }
      .joined(separator: "/")
    return "/repos/\(repository)/environments/\(APIClient.pathComponent(environment.environment))/secrets"
  }

  public func publicKey(_ environment: GitHubEnvironment) async throws -> GitHubPublicKey {
    let response = try await client.send("GET", secretsPath(environment) + "/public-key")
    guard let object = try client.decode(response, what: "a public key") as? [String: Any],
      let keyID = object["key_id"] as? String, let text = object["key"] as? String,
      let key = Data(base64Encoded: text), key.count == 32
    else {
      throw RemoteError(status: response.status, reason: "github: the environment's public key is not a 32-byte key")
    }
    return GitHubPublicKey(keyID: keyID, key: Array(key))
  }

  public func listSecrets(_ environment: GitHubEnvironment) async throws -> [GitHubSecret] {
    var result: [GitHubSecret] = []
    var page = 1
    while true {
      let response = try await client.send("GET", secretsPath(environment) + "?per_page=100&page=\(page)")
      guard let object = try client.decode(response, what: "a secrets list") as? [String: Any],
        let list = object["secrets"] as? [[String: Any]]
      else { throw RemoteError(status: response.status, reason: "github: unexpected secrets list") }
      for item in list {
        guard let name = item["name"] as? String else { continue }
        result.append(GitHubSecret(name: name, updatedAt: item["updated_at"] as? String ?? ""))
      }
      let total = (object["total_count"] as? NSNumber)?.intValue ?? 0
      let more = response.header("Link")?.contains("rel=\"next\"") ?? false
      if list.isEmpty || (!more && result.count >= total) || page >= 100 { break }
      if !more && result.count < total && list.count < 100 { break }
      page += 1
    }
    return result
  }

  public func putSecret(
    _ environment: GitHubEnvironment, name: String, encryptedValue: String, keyID: String
  ) async throws {
    _ = try await client.send(
      "PUT", secretsPath(environment) + "/\(APIClient.pathComponent(name))",
      json: ["encrypted_value": encryptedValue, "key_id": keyID])
  }
}
