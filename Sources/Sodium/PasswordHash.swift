import CSodium

/// Argon2id key derivation from a passphrase (`crypto_pwhash`, ALG_ARGON2ID13).
public enum PasswordHash {
  public static let saltBytes = Int(crypto_pwhash_SALTBYTES)
  /// libsodium's "moderate" limits: 3 passes, 256 MiB.
  public static let moderateOpsLimit = UInt64(crypto_pwhash_OPSLIMIT_MODERATE)
  public static let moderateMemLimit = Int(crypto_pwhash_MEMLIMIT_MODERATE)
  /// The lowest limits hotsecrets accepts for a stored wrap: 3 passes, 64 MiB.
  public static let minimumOpsLimit: UInt64 = 3
  public static let minimumMemLimit = 64 * 1024 * 1024

  /// Derives `length` bytes from `passphrase` and `salt`. Throws `passwordHashFailed` when the
  /// limits cannot be honoured (out of memory) and `invalidLength` for a bad salt.
  public static func deriveKey(
    length: Int, passphrase: SecureBytes, salt: [UInt8], opsLimit: UInt64, memLimit: Int
  ) throws -> SecureBytes {
    try SodiumLibrary.ensureInitialized()
    try SodiumLibrary.check("argon2id salt", salt, equals: saltBytes)
    let out = try SecureBytes(count: length)
    let rc = passphrase.withUnsafeBytes { pw in
      out.withUnsafeMutableBytes { o in
        crypto_pwhash(
          o.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(length),
          pw.baseAddress!.assumingMemoryBound(to: CChar.self), UInt64(pw.count),
          salt, opsLimit, memLimit, crypto_pwhash_ALG_ARGON2ID13)
      }
    }
    guard rc == 0 else { throw SodiumError.passwordHashFailed }
    return out
  }
}
