import Foundation

/// Process-wide protections applied before anything else runs.
enum ProcessHardening {
  nonisolated(unsafe) private static var originalUmask: mode_t = 0o022

  /// Disables core dumps (so a crash never writes decrypted values to disk) and makes every file
  /// this process creates private to its user.
  static func apply() {
    var limit = rlimit()
    if getrlimit(Int32(RLIMIT_CORE.rawValue), &limit) == 0 {
      limit.rlim_cur = 0  // the hard limit is left alone so a child may raise it again
      _ = setrlimit(Int32(RLIMIT_CORE.rawValue), &limit)
    }
    originalUmask = umask(0o077)
  }

  /// Before exec'ing a user's command: give it back the caller's umask. Core dumps stay off by
  /// default (the child's environment holds secrets); the child may raise the soft limit.
  static func restoreForChild() {
    umask(originalUmask)
    // The child gets the secrets it asked for, never the means to unlock the vault.
    for name in ProcessInfo.processInfo.environment.keys where name.hasPrefix("HOTSECRETS_") {
      unsetenv(name)
    }
  }
}
