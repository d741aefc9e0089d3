import CSodium

/// Base64 through libsodium's constant-time codec (`sodium_bin2base64` / `sodium_base642bin`), so
/// that key material never passes through a table-driven decoder or a temporary `String` rewrite.
public enum Base64 {
  /// The four alphabets libsodium knows.
  public enum Variant {
    /// `+/` with `=` padding (RFC 4648 §4).
    case standard
    /// `-_` without padding (RFC 4648 §5), the form used in key strings.
    case urlSafeNoPadding
    /// `+/` without padding.
    case standardNoPadding

    var rawValue: Int32 {
      switch self {
      case .standard: sodium_base64_VARIANT_ORIGINAL
      case .urlSafeNoPadding: sodium_base64_VARIANT_URLSAFE_NO_PADDING
      case .standardNoPadding: sodium_base64_VARIANT_ORIGINAL_NO_PADDING
      }
    }
  }

  /// `secret` as base64 text, written straight into secure memory (no temporary copy).
  public static func encode(_ secret: SecureBytes, variant: Variant) throws -> SecureBytes {
    let size = sodium_base64_encoded_len(secret.count, variant.rawValue)  // includes the NUL
    let scratch = try SecureBytes(count: size)
    scratch.withUnsafeMutableBytes { out in
      secret.withUnsafeBytes { input in
        _ = sodium_bin2base64(
          out.baseAddress!.assumingMemoryBound(to: CChar.self), size,
          input.baseAddress?.assumingMemoryBound(to: UInt8.self), input.count, variant.rawValue)
      }
    }
    return try scratch.withUnsafeBytes { try SecureBytes(copying: UnsafeRawBufferPointer(rebasing: $0[..<(size - 1)])) }
  }

  /// `bytes` as base64 text.
  public static func encode(_ bytes: some Collection<UInt8>, variant: Variant = .standard) -> String {
    let input = Array(bytes)
    let size = sodium_base64_encoded_len(input.count, variant.rawValue)  // includes the NUL
    var out = [CChar](repeating: 0, count: size)
    _ = sodium_bin2base64(&out, size, input, input.count, variant.rawValue)
    return String(decoding: out.prefix(size - 1).map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// The bytes `text` encodes; nil unless it is canonical base64 of `variant`: a character outside
  /// the alphabet, wrong or missing padding, non-zero unused bits or trailing garbage are refused,
  /// so each byte string has exactly one accepted text.
  public static func decode(_ text: some StringProtocol, variant: Variant = .standard) -> [UInt8]? {
    decode(text.utf8, variant: variant)
  }

  /// `decode` of text given as its UTF-8 bytes.
  public static func decode(_ text: some Collection<UInt8>, variant: Variant = .standard) -> [UInt8]? {
    let input = Array(text)
    // libsodium 1.0.18 (Debian 12) reads each character as a signed `char`, so bytes ≥ 0x80 slip
    // through its alphabet checks (as '/' or '_'); only ASCII can be base64 anyway.
    guard input.allSatisfy({ $0 < 0x80 }) else { return nil }
    var out = [UInt8](repeating: 0, count: input.count * 3 / 4 + 3)
    var length = 0
    // A nil `b64_end` makes libsodium refuse any input it cannot consume entirely.
    let rc = input.withUnsafeBufferPointer { buffer in
      buffer.withMemoryRebound(to: CChar.self) { chars in
        sodium_base642bin(
          &out, out.count, chars.baseAddress, chars.count, nil, &length, nil, variant.rawValue)
      }
    }
    guard rc == 0 else { return nil }
    out.removeSubrange(length...)
    return out
  }
}
