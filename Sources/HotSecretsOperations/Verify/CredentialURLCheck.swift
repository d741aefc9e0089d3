import HotSecretsPolicy
import HotSecretsVault
import RemoteAPIs

extension VaultSession {
  /// `CredentialURL.check(policy)`, reading the Supabase project URLs from `versions`.
  func checkCredentialURLs(_ policy: Policy, in versions: CurrentVersions) throws {
    try CredentialURL.check(policy) { try openText($0, in: versions) }
  }
}
