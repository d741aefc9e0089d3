import Foundation

/// Process-wide protections applied before anything else runs.
enum ProcessHardening {
  nonisolated(unsafe) private static var originalUmask: mode_t = 0o022

  /// Disables core dumps (so a crash never writes decrypted values to disk), makes the process
  /// non-dumpable (see `disableDumping`) and makes every file this process creates private to its
  /// user.
  static func apply() {
    var limit = rlimit()
    if getrlimit(Int32(RLIMIT_CORE.rawValue), &limit) == 0 {
      limit.rlim_cur = 0  // the hard limit is left alone so a child may raise it again
      _ = setrlimit(Int32(RLIMIT_CORE.rawValue), &limit)
    }
    disableDumping()
    originalUmask = umask(0o077)
  }

  /// Linux: `prctl(PR_SET_DUMPABLE, 0)`. No core dump whatever the limits, and no process of the
  /// same user may ptrace-attach to this one or read its memory through /proc (only root can),
  /// so another program running as the user cannot lift the data key or a value out of a
  /// running command. `execve` resets the flag: a child `hotsecrets run` starts is dumpable again.
  /// Returns whether the call succeeded; elsewhere it does nothing and returns false.
  @discardableResult
  static func disableDumping() -> Bool {
    #if os(Linux)
      // prctl(2) is variadic in C, which Swift does not import. Its glibc entry point is called
      // through a fixed five-argument signature: on Linux (x86_64, arm64) integer arguments are
      // passed the same way to variadic and fixed-argument functions. One symbol lookup, no I/O.
      guard let symbol = dlsym(nil, "prctl") else { return false }
      typealias Prctl = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
      let prctl = unsafeBitCast(symbol, to: Prctl.self)
      return prctl(Self.prSetDumpable, 0, 0, 0, 0) == 0
    #else
      return false
    #endif
  }

  /// From <linux/prctl.h>.
  static let prSetDumpable: Int32 = 4
  static let prGetDumpable: Int32 = 3

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
