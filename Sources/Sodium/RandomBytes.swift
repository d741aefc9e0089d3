import CSodium

/// libsodium's CSPRNG (`randombytes_*`).
public enum RandomBytes {
  /// `count` random bytes.
  public static func bytes(_ count: Int) throws -> [UInt8] {
    try SodiumLibrary.ensureInitialized()
    var out = [UInt8](repeating: 0, count: count)
    randombytes_buf(&out, count)
    return out
  }

  /// A uniformly distributed integer in `0..<upperBound` (no modulo bias).
  public static func uniform(_ upperBound: UInt32) throws -> UInt32 {
    try SodiumLibrary.ensureInitialized()
    return randombytes_uniform(upperBound)
  }
}
