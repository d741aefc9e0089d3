import Foundation
import HotSecretsModel
import HotSecretsVault

/// The git pre-commit hook that runs `hotsecrets scan --staged`, so a commit holding a copy of a
/// stored value is refused.
public enum PreCommitHook {
  /// The line that marks a hook as hotsecrets' own (which may be replaced).
  static let marker = "# hotsecrets pre-commit hook"

  /// The hook's script: `command` (a shell command line) behind the marker line. git runs a
  /// pre-commit hook from the top of the work tree.
  static func script(running command: String) -> String {
    """
    #!/bin/sh
    \(marker): refuses a commit that adds a copy of a stored secret value.
    # Unlocks with HOTSECRETS_IDENTITY or HOTSECRETS_PASSPHRASE from the environment.
    exec \(command)

    """
  }

  /// Writes the hook running `command` into the hooks folder of the repository at `workTree`
  /// (git's, so a `core.hooksPath` is honoured) and returns its path. Throws `foreignHook` rather
  /// than replace a hook that is not hotsecrets' own.
  public static func install(workTree: String, command: String) throws -> String {
    let (status, output) = try GitCommand.run(["-C", workTree, "rev-parse", "--git-path", "hooks"])
    guard status == 0 else { throw LeakScanError.gitFailed(command: "rev-parse") }
    var hooks = String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    if !hooks.hasPrefix("/") { hooks = VaultLocation.join(workTree, hooks) }
    let path = VaultLocation.join(hooks, "pre-commit")
    if let existing = FileManager.default.contents(atPath: path),
      !String(decoding: existing, as: UTF8.self).contains(marker)
    {
      throw LeakScanError.foreignHook(path: path)
    }
    try FileManager.default.createDirectory(atPath: hooks, withIntermediateDirectories: true)
    try Data(script(running: command).utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    guard chmod(path, 0o755) == 0 else {
      throw LeakScanError.unreadable(path: path, reason: "cannot make the hook executable")
    }
    return path
  }
}
