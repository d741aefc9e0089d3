import ArgumentParser
import HotSecretsCore

/// Where the plaintext working copies are: `vault/occ` under --root unless given.
enum MirrorFolder {
  static let defaultRelativePath = "vault/occ"

  static func resolve(_ explicit: String?, root: String) -> String {
    if let explicit, !explicit.isEmpty { return explicit }
    return VaultLocation.join(root, defaultRelativePath)
  }
}
