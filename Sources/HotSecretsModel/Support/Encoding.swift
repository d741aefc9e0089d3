import Foundation
import Sodium

/// Hex and base64url helpers for fingerprints, hashes and key strings.
public enum ByteEncoding {
  private static let hexDigits = Array("0123456789abcdef".utf8)

  /// Lower-case hex.
  public static func hex(_ bytes: some Collection<UInt8>) -> String {
    var out = [UInt8]()
    out.reserveCapacity(bytes.count * 2)
    for b in bytes {
      out.append(hexDigits[Int(b >> 4)])
      out.append(hexDigits[Int(b & 0x0f)])
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// Bytes from hex (either case); nil when not valid hex of even length.
  public static func bytes(hex: String) -> [UInt8]? {
    let u = Array(hex.utf8)
    guard u.count % 2 == 0 else { return nil }
    func nibble(_ c: UInt8) -> UInt8? {
      switch c {
      case 48...57: c - 48
      case 97...102: c - 87
      case 65...70: c - 55
      default: nil
      }
    }
    var out = [UInt8]()
    out.reserveCapacity(u.count / 2)
    var i = 0
    while i < u.count {
      guard let hi = nibble(u[i]), let lo = nibble(u[i + 1]) else { return nil }
      out.append(hi << 4 | lo)
      i += 2
    }
    return out
  }

  /// Base64 with the URL-safe alphabet and no padding.
  public static func base64URL(_ bytes: [UInt8]) -> String {
    Base64.encode(bytes, variant: .urlSafeNoPadding)
  }

  /// Decodes URL-safe base64 without padding; nil when invalid (libsodium's constant-time decoder:
  /// identity files hold private keys in this form).
  public static func bytes(base64URL text: some StringProtocol) -> [UInt8]? {
    Base64.decode(text, variant: .urlSafeNoPadding)
  }
}
