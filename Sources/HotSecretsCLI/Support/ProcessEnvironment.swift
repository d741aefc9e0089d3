import Foundation

/// The environment variables hotsecrets reads. Only the command layer reads them; the core is
/// given values.
enum ProcessEnvironment {
  static let vault = "HOTSECRETS_VAULT"
  static let identity = "HOTSECRETS_IDENTITY"
  static let passphrase = "HOTSECRETS_PASSPHRASE"
  static let newPassphrase = "HOTSECRETS_NEW_PASSPHRASE"
  static let busyTimeout = "HOTSECRETS_BUSY_TIMEOUT"

  static func value(_ name: String) -> String? {
    guard let v = getenv(name) else { return nil }
    let s = String(cString: v)
    return s.isEmpty ? nil : s
  }

  /// The OS user name for the audit trail.
  static var userName: String {
    if let pw = getpwuid(geteuid()), let name = pw.pointee.pw_name { return String(cString: name) }
    return value("USER") ?? "uid-\(geteuid())"
  }
}
