import DotEnv
import Foundation
import HotSecretsModel

/// Problems reading or writing the plaintext mirror (`vault/occ/<service>/<env>.env`). Messages
/// name files, lines and keys, never values.
public enum MirrorError: LocalizedError, Equatable, Sendable {
  /// A file is not valid dotenv; the description is `FILE:LINE:COL: problem`.
  case parse(DotEnvError)
  case noFolder(path: String)
  case invalidServiceFolder(path: String)
  case unreadable(path: String, reason: String)
  case notIgnoredByGit(paths: [String])
  case gitUnavailable(path: String)
  case writeFailed(path: String, reason: String)
  /// `render` found a symbolic link where it writes (the folder, a service folder or a file).
  case symbolicLink(path: String)
  /// Two secrets (`service/KEY`) would set one environment variable `key`.
  case keyCollision(key: String, secrets: [String])
  case noFiles(directory: String, fileName: String)
  /// The mirror base file is not one hotsecrets wrote.
  case badBase(path: String, line: Int, reason: String)
  /// `import` (toward the vault) or `render` (toward the files) would undo a change made on the
  /// other side since the base: nothing was written. The conflicts are sorted by name.
  case conflict(direction: MirrorDirection, keys: [MirrorDifference])

  public var errorDescription: String? {
    switch self {
    case .parse(let error): error.description
    case .noFolder(let path): "\(path): no such folder"
    case .invalidServiceFolder(let path):
      "\(path): a service folder name must match \(SecretAddress.serviceRule)"
    case .unreadable(let path, let reason): "\(path): \(reason)"
    case .notIgnoredByGit(let paths):
      "refusing to write plaintext secrets into a git work tree: \(paths.joined(separator: ", ")) "
        + (paths.count == 1 ? "is" : "are")
        + " not ignored by git; add `*.env` to the folder's .gitignore (as vault/.gitignore does)"
    case .gitUnavailable(let path):
      "\(path) is inside a git work tree but git could not be run to check .gitignore; refusing to write plaintext secrets"
    case .writeFailed(let path, let reason): "\(path): cannot write (\(reason))"
    case .symbolicLink(let path):
      "\(path) is a symbolic link; refusing to write plaintext secrets through it (replace it with a real folder or file)"
    case .noFiles(let directory, let fileName):
      "no \(directory)/<service>/\(fileName) files found; nothing to import"
    case .badBase(let path, let line, let reason):
      "\(path):\(line): \(reason); delete the file to start over (the next import or render records a new base)"
    case .conflict(let direction, let keys):
      (direction == .toVault
        ? "refusing to import: it would undo a change made in the vault since the files were last imported or rendered"
        : "refusing to render: it would overwrite a change made in the files since they were last imported or rendered")
        + " (\(keys.map { "\($0.name) \($0.side.rawValue)" }.joined(separator: ", "))); nothing was written"
    case .keyCollision(let key, let secrets):
      "\(key) would be set by more than one secret (\(secrets.joined(separator: ", ")))"
    }
  }
}
