/// The providers hotsecrets knows, and the settings each takes.
public enum ProviderKind: String, Sendable, CaseIterable {
  case openai, supabase, shopify, chatwoot

  /// Settings this kind requires.
  package var requiredSettings: [String] {
    switch self {
    case .openai: ["project_id"]
    case .supabase: ["project_ref"]
    case .shopify: ["shop"]
    case .chatwoot: ["base_url"]
    }
  }

  /// Settings this kind accepts besides the required ones.
  package var optionalSettings: [String] {
    switch self {
    case .openai: []
    case .supabase: ["url_key"]
    case .shopify: ["api_version"]
    case .chatwoot: ["account_id"]
    }
  }
}
