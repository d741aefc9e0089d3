import Foundation
import Testing

@testable import Sodium

func hex(_ s: String) -> [UInt8] {
  var out = [UInt8]()
  var it = s.makeIterator()
  while let a = it.next(), let b = it.next() { out.append(UInt8(String([a, b]), radix: 16)!) }
  return out
}

func hexString(_ b: [UInt8]) -> String { b.map { String(format: "%02x", $0) }.joined() }

@Suite struct AEADTests {
  let key: SecureBytes

  init() throws { key = try SecureBytes(copying: Array(0x80...0x9f) as [UInt8]) }

  @Test func knownAnswerFromXChaChaDraft() throws {
    // draft-irtf-cfrg-xchacha-03, appendix A.3.1.
    let plaintext = Array(
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it."
        .utf8)
    let ad = hex("50515253c0c1c2c3c4c5c6c7")
    let nonce = Array(0x40...0x57) as [UInt8]
    let sealed = try XChaCha20Poly1305.seal(plaintext, key: key, associatedData: ad, nonce: nonce)
    #expect(
      hexString(sealed)
        == "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff921f9664c97637da9768812f615c68b13b52e"
        + "c0875924c1c7987947deafd8780acf49")
    let opened = try XChaCha20Poly1305.open(sealed, nonce: nonce, key: key, associatedData: ad)
    #expect(opened.copyBytes() == plaintext)
  }

  @Test func roundTripUsesFreshNonces() throws {
    let a = try XChaCha20Poly1305.seal(Array("value".utf8), key: key, associatedData: [1])
    let b = try XChaCha20Poly1305.seal(Array("value".utf8), key: key, associatedData: [1])
    #expect(a.nonce != b.nonce)
    #expect(a.ciphertext != b.ciphertext)
    #expect(
      try XChaCha20Poly1305.open(a.ciphertext, nonce: a.nonce, key: key, associatedData: [1]).copyBytes()
        == Array("value".utf8))
  }

  @Test func everyTamperIsRejected() throws {
    let (nonce, ct) = try XChaCha20Poly1305.seal(Array("secret".utf8), key: key, associatedData: Array("ad".utf8))
    for i in ct.indices {
      var bad = ct
      bad[i] ^= 0x01
      #expect(throws: SodiumError.authenticationFailed) {
        try XChaCha20Poly1305.open(bad, nonce: nonce, key: key, associatedData: Array("ad".utf8))
      }
    }
    var badNonce = nonce
    badNonce[0] ^= 1
    #expect(throws: SodiumError.authenticationFailed) {
      try XChaCha20Poly1305.open(ct, nonce: badNonce, key: key, associatedData: Array("ad".utf8))
    }
    #expect(throws: SodiumError.authenticationFailed) {
      try XChaCha20Poly1305.open(ct, nonce: nonce, key: key, associatedData: Array("other".utf8))
    }
    let otherKey = try SecureBytes.random(count: 32)
    #expect(throws: SodiumError.authenticationFailed) {
      try XChaCha20Poly1305.open(ct, nonce: nonce, key: otherKey, associatedData: Array("ad".utf8))
    }
    #expect(throws: SodiumError.authenticationFailed) {
      try XChaCha20Poly1305.open(Array(ct.prefix(10)), nonce: nonce, key: key, associatedData: Array("ad".utf8))
    }
  }

  @Test func wrongLengthsAreCheckedBeforeCallingC() throws {
    let shortKey = try SecureBytes(count: 16)
    #expect(throws: SodiumError.invalidLength(what: "AEAD key", expected: 32, actual: 16)) {
      try XChaCha20Poly1305.seal([1], key: shortKey, associatedData: [])
    }
    #expect(throws: SodiumError.invalidLength(what: "AEAD nonce", expected: 24, actual: 12)) {
      try XChaCha20Poly1305.open(
        [UInt8](repeating: 0, count: 32), nonce: [UInt8](repeating: 0, count: 12), key: key, associatedData: [])
    }
  }
}

@Suite struct HashTests {
  @Test func blake2bKnownAnswers() throws {
    // RFC 7693 appendix A: BLAKE2b-512("abc").
    #expect(
      hexString(try GenericHash.hash(Array("abc".utf8), length: 64))
        == "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923"
    )
    #expect(
      hexString(try GenericHash.hash([], length: 32))
        == "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8")
    // Keyed, cross-checked with Python's hashlib.blake2b(b"abc", key=bytes(range(32)), digest_size=32).
    let key = try SecureBytes(copying: Array(0..<32) as [UInt8])
    #expect(
      hexString(try GenericHash.hash(Array("abc".utf8), key: key, length: 32))
        == "d63a32d3e44738d7907f964316c241adaba0abfeabc32349677578a15a203f7f")
  }

  @Test func rejectsBadLengths() throws {
    #expect(throws: SodiumError.self) { try GenericHash.hash([1], length: 8) }
    #expect(throws: SodiumError.self) { try GenericHash.hash([1], key: try SecureBytes(count: 4), length: 32) }
  }

  @Test func kdfSubkeysDifferByIdAndContext() throws {
    let master = try SecureBytes.random(count: KeyDerivation.masterKeyBytes)
    let a = try KeyDerivation.deriveSubkey(from: master, id: 1, context: "hsvault1")
    let b = try KeyDerivation.deriveSubkey(from: master, id: 2, context: "hsvault1")
    let c = try KeyDerivation.deriveSubkey(from: master, id: 1, context: "other123")
    let a2 = try KeyDerivation.deriveSubkey(from: master, id: 1, context: "hsvault1")
    #expect(a.constantTimeEquals(a2))
    #expect(!a.constantTimeEquals(b))
    #expect(!a.constantTimeEquals(c))
    #expect(throws: SodiumError.self) { try KeyDerivation.deriveSubkey(from: master, id: 1, context: "short") }
  }
}

@Suite struct PublicKeyTests {
  @Test func x25519KnownAnswer() throws {
    // RFC 7748 section 6.1: Alice's key pair.
    let sk = try SecureBytes(copying: hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"))
    #expect(
      hexString(try BoxKeyPair(secretKey: sk).publicKey)
        == "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
  }

  @Test func sealedBoxRoundTripAndTamper() throws {
    let pair = try BoxKeyPair.generate()
    let box = try SealedBox.seal(Array("data key".utf8), to: pair.publicKey)
    #expect(box.count == 8 + SealedBox.overheadBytes)
    #expect(try SealedBox.open(box, with: pair).copyBytes() == Array("data key".utf8))
    var bad = box
    bad[bad.count - 1] ^= 1
    #expect(throws: SodiumError.authenticationFailed) { try SealedBox.open(bad, with: pair) }
    let other = try BoxKeyPair.generate()
    #expect(throws: SodiumError.authenticationFailed) { try SealedBox.open(box, with: other) }
    #expect(throws: SodiumError.self) { try SealedBox.seal([1], to: [1, 2, 3]) }
  }

  @Test func ed25519KnownAnswer() throws {
    // RFC 8032 section 7.1, test 1 (empty message).
    let pair = try Ed25519.keyPair(
      seed: try SecureBytes(copying: hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")))
    #expect(hexString(pair.publicKey) == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    let sig = try Ed25519.sign([], secretKey: pair.secretKey)
    #expect(
      hexString(sig)
        == "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    )
    #expect(Ed25519.verify(signature: sig, message: [], publicKey: pair.publicKey))
    var bad = sig
    bad[0] ^= 1
    #expect(!Ed25519.verify(signature: bad, message: [], publicKey: pair.publicKey))
    #expect(!Ed25519.verify(signature: sig, message: [0], publicKey: pair.publicKey))
    #expect(!Ed25519.verify(signature: Array(sig.prefix(10)), message: [], publicKey: pair.publicKey))
  }
}

@Suite struct PasswordHashTests {
  let salt = [UInt8](repeating: 7, count: PasswordHash.saltBytes)

  @Test func deterministicPerSaltAndPassphrase() throws {
    let pw = try SecureBytes(copying: Array("correct horse".utf8))
    let a = try PasswordHash.deriveKey(length: 32, passphrase: pw, salt: salt, opsLimit: 3, memLimit: 8 << 20)
    let b = try PasswordHash.deriveKey(length: 32, passphrase: pw, salt: salt, opsLimit: 3, memLimit: 8 << 20)
    #expect(a.constantTimeEquals(b))
    var otherSalt = salt
    otherSalt[0] = 8
    let c = try PasswordHash.deriveKey(length: 32, passphrase: pw, salt: otherSalt, opsLimit: 3, memLimit: 8 << 20)
    #expect(!a.constantTimeEquals(c))
    let d = try PasswordHash.deriveKey(
      length: 32, passphrase: try SecureBytes(copying: Array("correct horsf".utf8)), salt: salt, opsLimit: 3,
      memLimit: 8 << 20)
    #expect(!a.constantTimeEquals(d))
  }

  @Test func rejectsBadSalt() throws {
    #expect(throws: SodiumError.invalidLength(what: "argon2id salt", expected: 16, actual: 3)) {
      try PasswordHash.deriveKey(
        length: 32, passphrase: try SecureBytes(count: 1), salt: [1, 2, 3], opsLimit: 3, memLimit: 8 << 20)
    }
  }
}

@Suite struct SecureBytesTests {
  @Test func copyingAndConcatenation() throws {
    let s = try SecureBytes(copying: [1, 2, 3] as [UInt8])
    #expect(s.count == 3)
    #expect(s.copyBytes() == [1, 2, 3])
    let joined = try SecureBytes.concatenating([9], s)
    #expect(joined.copyBytes() == [9, 1, 2, 3])
    #expect(try SecureBytes.random(count: 32).copyBytes() != [UInt8](repeating: 0, count: 32))
    var plain: [UInt8] = [5, 6]
    secureZero(&plain)
    #expect(plain == [0, 0])
  }
}

@Suite struct Base64Tests {
  @Test func agreesWithFoundationOnEveryLength() {
    for length in 0...70 {
      let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
      let standard = Data(bytes).base64EncodedString()
      let urlSafe = standard.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        .replacingOccurrences(of: "=", with: "")
      #expect(Base64.encode(bytes, variant: .standard) == standard)
      #expect(Base64.encode(bytes, variant: .urlSafeNoPadding) == urlSafe)
      #expect(Base64.decode(standard, variant: .standard) == bytes)
      #expect(Base64.decode(urlSafe, variant: .urlSafeNoPadding) == bytes)
    }
  }

  @Test func refusesAnythingButExactText() {
    // RFC 4648 test vectors: "fo" is Zm8 (url-safe) / Zm8= (padded).
    #expect(Base64.decode("Zm8", variant: .urlSafeNoPadding) == Array("fo".utf8))
    #expect(Base64.decode("Zm8=", variant: .urlSafeNoPadding) == nil)  // padding in the unpadded form
    #expect(Base64.decode("Zm8", variant: .standard) == nil)  // missing padding
    #expect(Base64.decode("Zm9", variant: .urlSafeNoPadding) == nil)  // non-zero trailing bits
    #expect(Base64.decode("Zm8 ", variant: .urlSafeNoPadding) == nil)  // trailing garbage
    #expect(Base64.decode("Z+8", variant: .urlSafeNoPadding) == nil)  // other alphabet
    #expect(Base64.decode("Z_8=", variant: .standard) == nil)
    #expect(Base64.decode("Z", variant: .urlSafeNoPadding) == nil)  // impossible length
    #expect(Base64.decode("", variant: .urlSafeNoPadding) == [])
    // Non-ASCII bytes, which libsodium 1.0.18 on x86-64 decodes as '/' or '_' (signed char).
    #expect(Base64.decode("AAé", variant: .urlSafeNoPadding) == nil)
    #expect(Base64.decode("AA\u{e9}=", variant: .standard) == nil)
    #expect(Base64.decode([0x41, 0x41, 0x41, 0xff], variant: .standard) == nil)
    #expect(Base64.decode([0x41, 0x41, 0x41, 0xff], variant: .urlSafeNoPadding) == nil)
  }
}
