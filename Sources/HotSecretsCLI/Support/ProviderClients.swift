import Foundation
import HotSecretsModel
import HotSecretsPolicy
import HotSecretsVault
import Integrations
import RemoteAPIs

/// The credential providers a policy's `rotate: provider` keys need, with their management
/// credentials: `OPENAI_ADMIN_KEY`, `SUPABASE_ACCESS_TOKEN` from the environment, else the vault's
/// `ENV/hotsecrets/NAME`. A provider without credentials is left out (its keys fail at create).
enum ProviderClients {
  static func make(policy: Policy, session: VaultSession, timeout: TimeInterval) throws -> [ProviderKind:
    CredentialProvider]
  {
    let kinds = Set(policy.services.compactMap { $0.provider?.kind })
    var providers: [ProviderKind: CredentialProvider] = [:]
    let retry = TargetClients.retryPolicy
    if kinds.contains(.openai),
      let key = try TargetClients.token("OPENAI_ADMIN_KEY", environment: policy.environment, session: session)
    {
      providers[.openai] = OpenAIProvider(
        baseURL: try openAIBase(checked: true),
        credential: key, timeout: timeout, retry: retry)
    }
    if kinds.contains(.supabase),
      let token = try TargetClients.token("SUPABASE_ACCESS_TOKEN", environment: policy.environment, session: session)
    {
      providers[.supabase] = SupabaseProvider(
        baseURL: try TargetClients.baseURL("HOTSECRETS_SUPABASE_API_URL", default: "https://api.supabase.com"),
        credential: token, timeout: timeout, retry: retry)
    }
    if kinds.contains(.chatwoot) {
      providers[.chatwoot] = ChatwootProvider(timeout: timeout, retry: retry)
    }
    return providers
  }

  /// OpenAI's API base: `HOTSECRETS_OPENAI_API_URL`, checked (https or loopback) when `checked`
  /// (an offline `verify` never sends a request, so a bad value does not fail it).
  static func openAIBase(checked: Bool) throws -> String {
    let fallback = "https://api.openai.com"
    guard checked else { return ProcessEnvironment.value("HOTSECRETS_OPENAI_API_URL") ?? fallback }
    return try TargetClients.baseURL("HOTSECRETS_OPENAI_API_URL", default: fallback)
  }
}
