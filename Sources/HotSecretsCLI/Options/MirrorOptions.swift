import ArgumentParser
import HotSecretsModel
import HotSecretsOperations
import HotSecretsVault

/// Where the plaintext working copies are: `vault/occ` under --root unless given.
enum MirrorFolder {
  static let defaultRelativePath = "vault/occ"

  static func resolve(_ explicit: String?, root: String) -> String {
    if let explicit, !explicit.isEmpty { return explicit }
    return VaultLocation.join(root, defaultRelativePath)
  }

  /// Validates `environment`, reads its working copies from the resolved folder, and prints each
  /// warning (e.g. a file other users can read) on stderr.
  static func read(
    _ explicit: String?, root: String, environment: String
  ) throws -> (folder: String, snapshot: MirrorSnapshot) {
    try SecretAddress.validateEnvironment(environment)
    let folder = resolve(explicit, root: root)
    let snapshot = try MirrorReader.read(directory: folder, environment: environment)
    for warning in snapshot.warnings { StandardStreams.warning("\(warning)") }
    return (folder, snapshot)
  }
}
