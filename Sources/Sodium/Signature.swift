import CSodium

/// Ed25519 signatures (`crypto_sign_*`, detached mode).
public enum Ed25519 {
  public static let publicKeyBytes = Int(crypto_sign_PUBLICKEYBYTES)
  public static let secretKeyBytes = Int(crypto_sign_SECRETKEYBYTES)
  public static let seedBytes = Int(crypto_sign_SEEDBYTES)
  public static let signatureBytes = Int(crypto_sign_BYTES)

  /// A signing key pair; the 64-byte secret key (seed ‖ public key) stays in secure memory.
  public struct KeyPair: Sendable {
    public let publicKey: [UInt8]
    public let secretKey: SecureBytes
  }

  /// A fresh random key pair.
  public static func generate() throws -> KeyPair {
    try keyPair(seed: SecureBytes.random(count: seedBytes))
  }

  /// The key pair determined by a 32-byte seed (RFC 8032's "secret key").
  public static func keyPair(seed: SecureBytes) throws -> KeyPair {
    try SodiumLibrary.ensureInitialized()
    try SodiumLibrary.check("Ed25519 seed", count: seed.count, equals: seedBytes)
    var pk = [UInt8](repeating: 0, count: publicKeyBytes)
    let sk = try SecureBytes(count: secretKeyBytes)
    let rc = seed.withUnsafeBytes { s in
      sk.withUnsafeMutableBytes { o in
        crypto_sign_seed_keypair(
          &pk, o.baseAddress!.assumingMemoryBound(to: UInt8.self), s.baseAddress!.assumingMemoryBound(to: UInt8.self))
      }
    }
    guard rc == 0 else { throw SodiumError.operationFailed("signing key generation") }
    return KeyPair(publicKey: pk, secretKey: sk)
  }

  /// A detached signature of `message`.
  public static func sign(_ message: some Collection<UInt8>, secretKey: SecureBytes) throws -> [UInt8] {
    try SodiumLibrary.ensureInitialized()
    try SodiumLibrary.check("Ed25519 secret key", count: secretKey.count, equals: secretKeyBytes)
    let m = Array(message)
    var sig = [UInt8](repeating: 0, count: signatureBytes)
    let rc = secretKey.withUnsafeBytes {
      crypto_sign_detached(&sig, nil, m, UInt64(m.count), $0.baseAddress!.assumingMemoryBound(to: UInt8.self))
    }
    guard rc == 0 else { throw SodiumError.operationFailed("signing") }
    return sig
  }

  /// Whether `signature` is a valid signature of `message` by `publicKey`. Wrong lengths are `false`.
  public static func verify(signature: [UInt8], message: some Collection<UInt8>, publicKey: [UInt8]) -> Bool {
    guard (try? SodiumLibrary.ensureInitialized()) != nil,
      signature.count == signatureBytes, publicKey.count == publicKeyBytes
    else { return false }
    let m = Array(message)
    return crypto_sign_verify_detached(signature, m, UInt64(m.count), publicKey) == 0
  }
}
