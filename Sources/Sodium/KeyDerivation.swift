import CSodium

/// Subkey derivation from a master key (`crypto_kdf_derive_from_key`, BLAKE2b based).
public enum KeyDerivation {
  public static let masterKeyBytes = Int(crypto_kdf_KEYBYTES)
  public static let contextBytes = Int(crypto_kdf_CONTEXTBYTES)

  /// Derives subkey number `id` of `length` bytes (16…64) for `context` (exactly 8 ASCII bytes).
  public static func deriveSubkey(
    from masterKey: SecureBytes, id: UInt64, context: String, length: Int = 32
  ) throws -> SecureBytes {
    try SodiumLibrary.ensureInitialized()
    try SodiumLibrary.check("KDF master key", count: masterKey.count, equals: masterKeyBytes)
    let ctx = Array(context.utf8)
    try SodiumLibrary.check("KDF context", ctx, equals: contextBytes)
    guard length >= Int(crypto_kdf_BYTES_MIN), length <= Int(crypto_kdf_BYTES_MAX) else {
      throw SodiumError.invalidLength(what: "KDF subkey", expected: 32, actual: length)
    }
    let out = try SecureBytes(count: length)
    let rc = masterKey.withUnsafeBytes { mk in
      out.withUnsafeMutableBytes { o in
        ctx.withUnsafeBufferPointer { c in
          c.withMemoryRebound(to: CChar.self) { cc in
            crypto_kdf_derive_from_key(
              o.baseAddress!.assumingMemoryBound(to: UInt8.self), length, id, cc.baseAddress!,
              mk.baseAddress!.assumingMemoryBound(to: UInt8.self))
          }
        }
      }
    }
    guard rc == 0 else { throw SodiumError.operationFailed("key derivation") }
    return out
  }
}
