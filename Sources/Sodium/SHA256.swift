import CSodium

/// SHA-256 (`crypto_hash_sha256`): for file digests an auditor checks with `sha256sum`, never for
/// keys or MACs (those use BLAKE2b).
public enum SHA256 {
  public static let outputBytes = Int(crypto_hash_sha256_BYTES)

  /// The 32-byte SHA-256 digest of `message`.
  public static func hash(_ message: some Collection<UInt8>) -> [UInt8] {
    // crypto_hash_sha256 needs no initialisation; sodium_init only picks faster implementations.
    try? SodiumLibrary.ensureInitialized()
    let bytes = Array(message)
    var out = [UInt8](repeating: 0, count: outputBytes)
    _ = crypto_hash_sha256(&out, bytes, UInt64(bytes.count))
    return out
  }
}
