import Foundation
import HotSecretsModel
import HotSecretsOperations
import HotSecretsPolicy
import HotSecretsVault
import Integrations
import RemoteAPIs

/// Clients for the Fly and GitHub APIs, with their management tokens: the environment variable
/// (`FLY_API_TOKEN`, `GITHUB_TOKEN`) wins, else the vault's `ENV/hotsecrets/NAME` (an audited read).
/// A client is nil when the policy has no such target or no token was found.
struct TargetClients {
  let fly: FlyMachinesAPI?
  let github: GitHubSecretsAPI?

  static func make(
    policy: Policy, kinds: Set<SyncTargetKind>, session: VaultSession, timeout: TimeInterval
  ) throws -> TargetClients {
    var fly: FlyMachinesAPI?
    var github: GitHubSecretsAPI?
    let flyBase = try baseURL("HOTSECRETS_FLY_API_URL", default: "https://api.machines.dev")
    let githubBase = try baseURL("HOTSECRETS_GITHUB_API_URL", default: "https://api.github.com")
    if kinds.contains(.fly), !policy.flyTargets.isEmpty,
      let token = try token("FLY_API_TOKEN", environment: policy.environment, session: session)
    {
      fly = FlyMachinesClient(
        baseURL: flyBase, token: token,
        timeout: timeout, retry: retryPolicy)
    }
    if kinds.contains(.github), !policy.githubTargets.isEmpty,
      let token = try token("GITHUB_TOKEN", environment: policy.environment, session: session)
    {
      github = GitHubSecretsClient(
        baseURL: githubBase, token: token,
        timeout: timeout, retry: retryPolicy)
    }
    return TargetClients(fly: fly, github: github)
  }

  /// An API base from `variable`: https, or http on the loopback interface only (tokens must not
  /// travel in clear text); the error names the variable.
  static func baseURL(_ variable: String, default fallback: String) throws -> String {
    guard let text = ProcessEnvironment.value(variable), !text.isEmpty else { return fallback }
    try CredentialURL.check(text, setting: variable)
    return text
  }

  /// The shared retry policy; `HOTSECRETS_RETRY_BASE_DELAY` (seconds, default 0.5) scales its backoff.
  static var retryPolicy: RetryPolicy {
    var policy = RetryPolicy()
    if let text = ProcessEnvironment.value("HOTSECRETS_RETRY_BASE_DELAY"), let seconds = Double(text), seconds >= 0 {
      policy.baseDelay = seconds
    }
    return policy
  }

  /// `variable` from the environment, else the vault's `environment/hotsecrets/variable`. A token
  /// found is registered with `SentSecrets`: no API message printed may echo it.
  static func token(_ variable: String, environment: String, session: VaultSession) throws -> String? {
    if let value = ProcessEnvironment.value(variable), !value.isEmpty {
      SentSecrets.shared.register(value)
      return value
    }
    let address = try SecretAddress(
      environment: environment, service: PolicyCheck.managementService, key: variable)
    do {
      let secret = try session.get(address)
      let token = secret.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
      SentSecrets.shared.register(token)
      return token
    } catch VaultError.secretNotFound {
      return nil
    }
  }
}
