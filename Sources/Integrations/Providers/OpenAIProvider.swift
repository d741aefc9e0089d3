import Foundation
import RemoteAPIs

/// OpenAI API keys, rotated through project service accounts (`https://api.openai.com`, or
/// `HOTSECRETS_OPENAI_API_URL`). The organisation endpoints take the admin key (`OPENAI_ADMIN_KEY`).
///
/// - mint: a new service account in the policy's `project_id`; its `api_key.value` is the new key,
///   the account's id is what `revoke` deletes.
/// - test: `GET /v1/models` with the key.
/// - findID: for a key hotsecrets did not mint, the project's API keys are listed and matched by
///   their `redacted_value`; the owning service account is returned only when exactly one key matches
///   and a service account owns it (a user-owned key cannot be revoked by deleting an account).
public struct OpenAIProvider: CredentialProvider {
  let client: APIClient
  /// The same client with one attempt per request, for minting (see `ProviderCalls.create`).
  let createClient: APIClient
  let retry: RetryPolicy
  let probe: ProviderProbe
  let adminKey: String

  public var singlePhase: Bool { false }

  public init(baseURL: String, credential: String, timeout: TimeInterval = 30, retry: RetryPolicy = RetryPolicy()) {
    (client, createClient) = ProviderCalls.clients(
      service: "openai", baseURL: baseURL, credential: credential, timeout: timeout, retry: retry)
    self.retry = retry
    probe = ProviderProbe(endpoints: .init(openAI: baseURL), timeout: timeout)
    adminKey = credential
  }

  private func projectPath(_ context: CredentialContext) throws -> String {
    guard let project = context.provider["project_id"], !project.isEmpty else {
      throw RemoteError(status: nil, reason: "openai: the policy gives service \(context.service) no project_id")
    }
    return "/v1/organization/projects/\(APIClient.pathComponent(project))"
  }

  public func mint(_ context: CredentialContext, current: String) async throws -> MintedCredential {
    try await ProviderCalls.guarded(secrets: [adminKey, current]) {
      let accounts = try projectPath(context) + "/service_accounts"
      let name = "hotsecrets-\(context.service)-\(context.key)-\(ProviderCalls.timestamp())"
      let response = try await ProviderCalls.create(
        createClient, "POST", accounts, json: ["name": name], retry: retry,
        note: "a service account may have been created anyway: look for \"\(name)\" in the project")
      let object = try client.decode(response, what: "a service account") as? [String: Any]
      guard let id = object?["id"] as? String, RemoteText.isIdentifier(id) else {
        throw RemoteError(
          status: response.status,
          reason: "openai created service account \"\(name)\" but its answer has no id; delete it in the project")
      }
      guard let key = object?["api_key"] as? [String: Any], let value = key["value"] as? String, !value.isEmpty else {
        // Useless without its key: remove it again rather than leave a live account behind.
        let removed = (try? await revoke(context, id: id)) != nil
        throw RemoteError(
          status: response.status,
          reason: "openai created service account \(id) but its answer has no api_key.value"
            + (removed ? " (the account was deleted again)" : "; delete the account in the project"))
      }
      return MintedCredential(value: value, id: id)
    }
  }

  public func test(_ context: CredentialContext, value: String) async -> LiveResult {
    await probe.check(.openAI(apiKey: value))
  }

  public func findID(_ context: CredentialContext, value: String) async throws -> String? {
    try await ProviderCalls.guarded(secrets: [adminKey, value]) {
      let keysPath = try projectPath(context) + "/api_keys?limit=100"
      var matches: [[String: Any]] = []
      var after: String?
      var cursors: Set<String> = []
      while true {
        let path = keysPath + (after.map { "&after=" + ProviderCalls.queryValue($0) } ?? "")
        let response = try await client.send("GET", path)
        guard let object = try client.decode(response, what: "a key list") as? [String: Any],
          let data = object["data"] as? [[String: Any]]
        else { throw RemoteError(status: response.status, reason: "openai: unexpected project API key list") }
        matches += data.filter { ($0["redacted_value"] as? String).map { Self.consistent($0, with: value) } ?? false }
        guard object["has_more"] as? Bool == true else { break }
        guard let next = (object["last_id"] as? String) ?? (data.last?["id"] as? String), !cursors.contains(next),
          cursors.count < 1000
        else { throw RemoteError(status: response.status, reason: "openai: the project API key list does not end") }
        cursors.insert(next)
        after = next
      }
      guard matches.count == 1, let match = matches.first,
        let redacted = match["redacted_value"] as? String, Self.specific(redacted),
        let owner = match["owner"] as? [String: Any], owner["type"] as? String == "service_account",
        let account = owner["service_account"] as? [String: Any], let id = account["id"] as? String,
        RemoteText.isIdentifier(id)
      else { return nil }
      return id
    }
  }

  /// Deletes the service account `id` (and with it its key). An account that no longer exists (404)
  /// counts as revoked, so a resumed run can repeat the call.
  public func revoke(_ context: CredentialContext, id: String) async throws {
    try await ProviderCalls.guarded(secrets: [adminKey]) {
      let path = try projectPath(context) + "/service_accounts/\(APIClient.pathComponent(id))"
      _ = try await client.send("DELETE", path, accept: [404])
    }
  }

  /// The parts of a `redacted_value` ("sk-abc...wxyz", "sk-proj-****wxyz") around its mask: the
  /// first run of "*", "..." or "…". nil when it has no mask.
  static func visibleParts(_ redacted: String) -> (prefix: Substring, suffix: Substring)? {
    let masks = ["...", "…", "*"].compactMap { redacted.range(of: $0) }
    guard let first = masks.min(by: { $0.lowerBound < $1.lowerBound }) else { return nil }
    var end = first.upperBound
    while end < redacted.endIndex, redacted[end] == "*" || redacted[end] == "." || redacted[end] == "…" {
      end = redacted.index(after: end)
    }
    return (redacted[..<first.lowerBound], redacted[end...])
  }

  /// Whether `value` could be the key shown as `redacted`: it starts with the visible prefix and
  /// ends with the visible suffix (an unmasked value must be equal).
  static func consistent(_ redacted: String, with value: String) -> Bool {
    guard let (prefix, suffix) = visibleParts(redacted) else { return redacted == value }
    return value.count >= prefix.count + suffix.count && value.hasPrefix(prefix) && value.hasSuffix(suffix)
  }

  /// Whether a match on `redacted` says enough to be certain: at least 4 visible trailing characters.
  static func specific(_ redacted: String) -> Bool {
    guard let (_, suffix) = visibleParts(redacted) else { return true }
    return suffix.count >= 4
  }
}
