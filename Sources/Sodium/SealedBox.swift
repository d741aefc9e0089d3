import CSodium

/// An X25519 key pair for `crypto_box`; the secret half stays in secure memory.
public struct BoxKeyPair: Sendable {
  public let publicKey: [UInt8]
  public let secretKey: SecureBytes

  /// A fresh random key pair.
  public static func generate() throws -> BoxKeyPair {
    try SodiumLibrary.ensureInitialized()
    var pk = [UInt8](repeating: 0, count: SealedBox.publicKeyBytes)
    let sk = try SecureBytes(count: SealedBox.secretKeyBytes)
    let rc = sk.withUnsafeMutableBytes { crypto_box_keypair(&pk, $0.baseAddress!.assumingMemoryBound(to: UInt8.self)) }
    guard rc == 0 else { throw SodiumError.operationFailed("key pair generation") }
    return BoxKeyPair(publicKey: pk, secretKey: sk)
  }

  /// The key pair for an existing secret key (public key = X25519 base-point multiplication).
  public init(secretKey: SecureBytes) throws {
    try SodiumLibrary.ensureInitialized()
    try SodiumLibrary.check("X25519 secret key", count: secretKey.count, equals: SealedBox.secretKeyBytes)
    var pk = [UInt8](repeating: 0, count: SealedBox.publicKeyBytes)
    let rc = secretKey.withUnsafeBytes {
      crypto_scalarmult_base(&pk, $0.baseAddress!.assumingMemoryBound(to: UInt8.self))
    }
    guard rc == 0 else { throw SodiumError.operationFailed("public key derivation") }
    self.publicKey = pk
    self.secretKey = secretKey
  }

  private init(publicKey: [UInt8], secretKey: SecureBytes) {
    self.publicKey = publicKey
    self.secretKey = secretKey
  }
}

/// Anonymous public-key encryption (`crypto_box_seal`): X25519 + XSalsa20-Poly1305 with an ephemeral sender key.
public enum SealedBox {
  public static let publicKeyBytes = Int(crypto_box_PUBLICKEYBYTES)
  public static let secretKeyBytes = Int(crypto_box_SECRETKEYBYTES)
  public static let overheadBytes = crypto_box_sealbytes()

  /// Encrypts `message` so that only the holder of `publicKey`'s secret key can read it.
  public static func seal(_ message: some Collection<UInt8>, to publicKey: [UInt8]) throws -> [UInt8] {
    try SodiumLibrary.ensureInitialized()
    try SodiumLibrary.check("X25519 public key", publicKey, equals: publicKeyBytes)
    let m = Array(message)
    var out = [UInt8](repeating: 0, count: m.count + overheadBytes)
    guard crypto_box_seal(&out, m, UInt64(m.count), publicKey) == 0 else {
      throw SodiumError.operationFailed("sealed box encryption")
    }
    return out
  }

  /// Encrypts bytes held in secure memory (for wrapping keys).
  public static func seal(_ message: SecureBytes, to publicKey: [UInt8]) throws -> [UInt8] {
    try SodiumLibrary.ensureInitialized()
    try SodiumLibrary.check("X25519 public key", publicKey, equals: publicKeyBytes)
    var out = [UInt8](repeating: 0, count: message.count + overheadBytes)
    let rc = message.withUnsafeBytes {
      crypto_box_seal(&out, $0.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(message.count), publicKey)
    }
    guard rc == 0 else { throw SodiumError.operationFailed("sealed box encryption") }
    return out
  }

  /// Decrypts a sealed box with `keyPair`; throws `authenticationFailed` when it was not sealed to it
  /// or was altered.
  public static func open(_ ciphertext: [UInt8], with keyPair: BoxKeyPair) throws -> SecureBytes {
    try SodiumLibrary.ensureInitialized()
    guard ciphertext.count >= overheadBytes else { throw SodiumError.authenticationFailed }
    let out = try SecureBytes(count: ciphertext.count - overheadBytes)
    let rc = keyPair.secretKey.withUnsafeBytes { sk in
      out.withUnsafeMutableBytes { o in
        crypto_box_seal_open(
          o.baseAddress!.assumingMemoryBound(to: UInt8.self), ciphertext, UInt64(ciphertext.count),
          keyPair.publicKey, sk.baseAddress!.assumingMemoryBound(to: UInt8.self))
      }
    }
    guard rc == 0 else { throw SodiumError.authenticationFailed }
    return out
  }
}
