import HotSecretsPolicy

/// A credential a provider just minted.
public struct MintedCredential: Sendable {
  /// The new secret value. Shown once by the provider; stored at once as a pending version.
  public let value: String
  /// The provider's id for it (OpenAI service account id, Supabase API key id), needed to revoke
  /// it later; nil when the provider has none (Chatwoot user tokens).
  public let id: String?

  public init(value: String, id: String?) {
    self.value = value
    self.id = id
  }
}

/// What a provider needs to act on one key: the key's name, the service's provider settings from
/// the policy (`project_id`, `project_ref`, `base_url`, …) and the service's other current values
/// (e.g. `SUPABASE_URL` for the Supabase probe). Values are in ordinary memory for the call only.
public struct CredentialContext: Sendable {
  public let service: String
  public let key: String
  public let provider: ProviderConfig
  /// The service's current values by KEY (including this key's current value), for probes.
  public let serviceValues: [String: String]

  public init(service: String, key: String, provider: ProviderConfig, serviceValues: [String: String]) {
    self.service = service
    self.key = key
    self.provider = provider
    self.serviceValues = serviceValues
  }
}

/// A provider that can replace a credential (`rotate: provider` in the policy): OpenAI, Supabase,
/// Chatwoot. Implementations live in the Integrations target; every call has a timeout, and no
/// error or log ever contains a credential.
public protocol CredentialProvider: Sendable {
  /// True when minting kills the old credential at once (Chatwoot): no rollback to the old value
  /// is possible, so the run pushes the new one immediately.
  var singlePhase: Bool { get }
  /// Mints a new credential. `current` is the key's current value (Chatwoot authenticates with it).
  /// Throws `RemoteError`.
  func mint(_ context: CredentialContext, current: String) async throws -> MintedCredential
  /// Asks the provider whether it accepts `value` (never throws; unreachable is not a pass).
  func test(_ context: CredentialContext, value: String) async -> LiveResult
  /// The id of a credential hotsecrets did not mint, found by its value; nil when no match is
  /// certain (then the old credential is kept live and `verify` warns). Throws `RemoteError`.
  func findID(_ context: CredentialContext, value: String) async throws -> String?
  /// Revokes the credential `id`. Throws `RemoteError`.
  func revoke(_ context: CredentialContext, id: String) async throws
}
