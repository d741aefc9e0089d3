import SystemLibraries

/// Fly's secret digest: the lowercase hex MD5 of the value (what Fly lists next to each name).
/// MD5 here only compares a value with what Fly holds; it protects nothing.
enum FlyDigest {
  /// The digest of `value`; nil when the system's libcrypto cannot be loaded (the comparison then
  /// falls back to the push ledger, as for a digest that is not MD5).
  static func of(_ value: [UInt8]) -> String? {
    try? LibCrypto.md5Hex(value)
  }

  /// Whether `digest` looks like an MD5 (32 hex characters); otherwise it cannot be compared.
  static func isMD5(_ digest: String) -> Bool {
    digest.utf8.count == 32
      && digest.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) || ($0 >= 65 && $0 <= 70) }
  }
}
