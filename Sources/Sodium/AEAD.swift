import CSodium

/// XChaCha20-Poly1305-IETF authenticated encryption (`crypto_aead_xchacha20poly1305_ietf_*`).
public enum XChaCha20Poly1305 {
  public static let keyBytes = Int(crypto_aead_xchacha20poly1305_ietf_KEYBYTES)
  public static let nonceBytes = Int(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
  public static let tagBytes = Int(crypto_aead_xchacha20poly1305_ietf_ABYTES)

  /// Encrypts `plaintext` under `key` with a fresh random nonce, authenticating `associatedData`.
  /// Returns the nonce and the ciphertext (with its tag appended).
  public static func seal(
    _ plaintext: some Collection<UInt8>, key: SecureBytes, associatedData: [UInt8]
  ) throws -> (nonce: [UInt8], ciphertext: [UInt8]) {
    try SodiumLibrary.ensureInitialized()
    var nonce = [UInt8](repeating: 0, count: nonceBytes)
    randombytes_buf(&nonce, nonceBytes)
    return (nonce, try seal(plaintext, key: key, associatedData: associatedData, nonce: nonce))
  }

  /// Encrypts with a caller-chosen nonce. Internal: reusing a nonce under one key breaks the
  /// cipher, so production code always goes through the random-nonce `seal`; tests use this for
  /// known-answer vectors.
  static func seal(
    _ plaintext: some Collection<UInt8>, key: SecureBytes, associatedData: [UInt8], nonce: [UInt8]
  ) throws -> [UInt8] {
    try SodiumLibrary.ensureInitialized()
    try SodiumLibrary.check("AEAD key", count: key.count, equals: keyBytes)
    try SodiumLibrary.check("AEAD nonce", nonce, equals: nonceBytes)
    let message = Array(plaintext)
    var ciphertext = [UInt8](repeating: 0, count: message.count + tagBytes)
    var written: UInt64 = 0
    let rc = key.withUnsafeBytes { k in
      crypto_aead_xchacha20poly1305_ietf_encrypt(
        &ciphertext, &written, message, UInt64(message.count),
        associatedData, UInt64(associatedData.count), nil, nonce,
        k.baseAddress!.assumingMemoryBound(to: UInt8.self))
    }
    guard rc == 0 else { throw SodiumError.operationFailed("AEAD encryption") }
    return Array(ciphertext.prefix(Int(written)))
  }

  /// Encrypts bytes held in secure memory (for wrapping keys) without copying them out.
  public static func seal(
    _ plaintext: SecureBytes, key: SecureBytes, associatedData: [UInt8]
  ) throws -> (nonce: [UInt8], ciphertext: [UInt8]) {
    try SodiumLibrary.ensureInitialized()
    try SodiumLibrary.check("AEAD key", count: key.count, equals: keyBytes)
    var nonce = [UInt8](repeating: 0, count: nonceBytes)
    randombytes_buf(&nonce, nonceBytes)
    var ciphertext = [UInt8](repeating: 0, count: plaintext.count + tagBytes)
    var written: UInt64 = 0
    let rc = key.withUnsafeBytes { k in
      plaintext.withUnsafeBytes { m in
        crypto_aead_xchacha20poly1305_ietf_encrypt(
          &ciphertext, &written, m.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(m.count),
          associatedData, UInt64(associatedData.count), nil, nonce,
          k.baseAddress!.assumingMemoryBound(to: UInt8.self))
      }
    }
    guard rc == 0 else { throw SodiumError.operationFailed("AEAD encryption") }
    return (nonce, Array(ciphertext.prefix(Int(written))))
  }

  /// Decrypts and authenticates; throws `authenticationFailed` on any mismatch, never returning
  /// partial plaintext. The plaintext is returned in secure memory.
  public static func open(
    _ ciphertext: [UInt8], nonce: [UInt8], key: SecureBytes, associatedData: [UInt8]
  ) throws -> SecureBytes {
    try SodiumLibrary.ensureInitialized()
    try SodiumLibrary.check("AEAD key", count: key.count, equals: keyBytes)
    try SodiumLibrary.check("AEAD nonce", nonce, equals: nonceBytes)
    guard ciphertext.count >= tagBytes else { throw SodiumError.authenticationFailed }
    let plaintext = try SecureBytes(count: ciphertext.count - tagBytes)
    var written: UInt64 = 0
    let rc = key.withUnsafeBytes { k in
      plaintext.withUnsafeMutableBytes { out in
        crypto_aead_xchacha20poly1305_ietf_decrypt(
          out.baseAddress!.assumingMemoryBound(to: UInt8.self), &written, nil,
          ciphertext, UInt64(ciphertext.count),
          associatedData, UInt64(associatedData.count), nonce,
          k.baseAddress!.assumingMemoryBound(to: UInt8.self))
      }
    }
    guard rc == 0, Int(written) == plaintext.count else { throw SodiumError.authenticationFailed }
    return plaintext
  }

  /// Like `open`, but returns the plaintext in ordinary memory. For bulk reads (thousands of values
  /// rendered to files or an environment) where a guarded allocation per value would cost several
  /// system calls each; the caller should `secureZero` the result when done.
  public static func openPlain(
    _ ciphertext: [UInt8], nonce: [UInt8], key: SecureBytes, associatedData: [UInt8]
  ) throws -> [UInt8] {
    try SodiumLibrary.ensureInitialized()
    try SodiumLibrary.check("AEAD key", count: key.count, equals: keyBytes)
    try SodiumLibrary.check("AEAD nonce", nonce, equals: nonceBytes)
    guard ciphertext.count >= tagBytes else { throw SodiumError.authenticationFailed }
    var plaintext = [UInt8](repeating: 0, count: ciphertext.count - tagBytes)
    var written: UInt64 = 0
    let rc = key.withUnsafeBytes { k in
      plaintext.withUnsafeMutableBufferPointer { out in
        crypto_aead_xchacha20poly1305_ietf_decrypt(
          out.baseAddress, &written, nil, ciphertext, UInt64(ciphertext.count),
          associatedData, UInt64(associatedData.count), nonce, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
      }
    }
    guard rc == 0, Int(written) == plaintext.count else {
      secureZero(&plaintext)
      throw SodiumError.authenticationFailed
    }
    return plaintext
  }
}
