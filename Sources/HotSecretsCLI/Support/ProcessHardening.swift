import Foundation

/// Process-wide protections applied before anything else runs.
enum ProcessHardening {
  /// Disables core dumps (so a crash never writes decrypted values to disk) and makes every file
  /// this process creates private to its user.
  static func apply() {
    var none = rlimit(rlim_cur: 0, rlim_max: 0)
    _ = setrlimit(Int32(RLIMIT_CORE.rawValue), &none)
    umask(0o077)
  }
}
