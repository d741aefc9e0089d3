import CSodium

/// BLAKE2b (`crypto_generichash`), optionally keyed.
public enum GenericHash {
  public static let minOutputBytes = Int(crypto_generichash_BYTES_MIN)
  public static let maxOutputBytes = Int(crypto_generichash_BYTES_MAX)
  public static let minKeyBytes = Int(crypto_generichash_KEYBYTES_MIN)
  public static let maxKeyBytes = Int(crypto_generichash_KEYBYTES_MAX)

  /// Unkeyed BLAKE2b of `message`, `length` bytes (16…64).
  public static func hash(_ message: some Collection<UInt8>, length: Int = 32) throws -> [UInt8] {
    try SodiumLibrary.ensureInitialized()
    try checkLength(length)
    let m = Array(message)
    var out = [UInt8](repeating: 0, count: length)
    guard crypto_generichash(&out, length, m, UInt64(m.count), nil, 0) == 0 else {
      throw SodiumError.operationFailed("BLAKE2b")
    }
    return out
  }

  /// Keyed BLAKE2b (a MAC) of `message` under `key` (16…64 bytes).
  public static func hash(_ message: some Collection<UInt8>, key: SecureBytes, length: Int = 32) throws -> [UInt8] {
    try SodiumLibrary.ensureInitialized()
    try checkLength(length)
    guard key.count >= minKeyBytes, key.count <= maxKeyBytes else {
      throw SodiumError.invalidLength(what: "BLAKE2b key", expected: maxKeyBytes / 2, actual: key.count)
    }
    let m = Array(message)
    var out = [UInt8](repeating: 0, count: length)
    let rc = key.withUnsafeBytes {
      crypto_generichash(
        &out, length, m, UInt64(m.count), $0.baseAddress!.assumingMemoryBound(to: UInt8.self), key.count)
    }
    guard rc == 0 else { throw SodiumError.operationFailed("BLAKE2b") }
    return out
  }

  private static func checkLength(_ length: Int) throws {
    guard length >= minOutputBytes, length <= maxOutputBytes else {
      throw SodiumError.invalidLength(what: "BLAKE2b output", expected: 32, actual: length)
    }
  }
}
