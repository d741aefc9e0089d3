import Foundation
import HotSecretsCore
import Integrations

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
    if kinds.contains(.fly), !policy.flyTargets.isEmpty,
      let token = try token("FLY_API_TOKEN", environment: policy.environment, session: session)
    {
      fly = FlyMachinesClient(
        baseURL: ProcessEnvironment.value("HOTSECRETS_FLY_API_URL") ?? "https://api.machines.dev", token: token,
        timeout: timeout, retry: retryPolicy)
    }
    if kinds.contains(.github), !policy.githubTargets.isEmpty,
      let token = try token("GITHUB_TOKEN", environment: policy.environment, session: session)
    {
      github = GitHubSecretsClient(
        baseURL: ProcessEnvironment.value("HOTSECRETS_GITHUB_API_URL") ?? "https://api.github.com", token: token,
        timeout: timeout, retry: retryPolicy)
    }
    return TargetClients(fly: fly, github: github)
  }

  /// The shared retry policy; `HOTSECRETS_RETRY_BASE_DELAY` (seconds, default 0.5) scales its backoff.
  static var retryPolicy: RetryPolicy {
    var policy = RetryPolicy()
    if let text = ProcessEnvironment.value("HOTSECRETS_RETRY_BASE_DELAY"), let seconds = Double(text), seconds >= 0 {
      policy.baseDelay = seconds
    }
    return policy
  }

  /// `variable` from the environment, else the vault's `environment/hotsecrets/variable`.
  static func token(_ variable: String, environment: String, session: VaultSession) throws -> String? {
    if let value = ProcessEnvironment.value(variable), !value.isEmpty { return value }
    let address = try SecretAddress(
      environment: environment, service: PolicyCheck.managementService, key: variable)
    do {
      let secret = try session.get(address)
      return secret.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
    } catch VaultError.secretNotFound {
      return nil
    }
  }
}
