import Crypto

/// Fly's secret digest: the lowercase hex MD5 of the value (what Fly lists next to each name).
/// MD5 here only compares a value with what Fly holds; it protects nothing.
enum FlyDigest {
  static func of(_ value: [UInt8]) -> String {
    Insecure.MD5.hash(data: value).map { byte in
      let hex = Array("0123456789abcdef".utf8)
      return String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]], as: UTF8.self)
    }.joined()
  }

  /// Whether `digest` looks like an MD5 (32 hex characters); otherwise it cannot be compared.
  static func isMD5(_ digest: String) -> Bool {
    digest.utf8.count == 32
      && digest.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) || ($0 >= 65 && $0 <= 70) }
  }
}
