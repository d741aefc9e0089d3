/// Errors raised by the libsodium wrapper. Messages never contain key material or plaintext.
public enum SodiumError: Error, Equatable, Sendable, CustomStringConvertible {
  /// libsodium could not be initialised.
  case initializationFailed
  /// An input had the wrong length; `what` names the parameter.
  case invalidLength(what: String, expected: Int, actual: Int)
  /// Authentication failed: the ciphertext, nonce, key or associated data does not match.
  case authenticationFailed
  /// Argon2id could not run with the requested limits (usually: not enough memory).
  case passwordHashFailed
  /// A key pair or key derivation could not be computed.
  case operationFailed(String)
  /// A signature did not verify.
  case invalidSignature

  public var description: String {
    switch self {
    case .initializationFailed: "libsodium could not be initialised"
    case .invalidLength(let what, let expected, let actual):
      "\(what) must be \(expected) bytes, got \(actual)"
    case .authenticationFailed: "authentication failed"
    case .passwordHashFailed: "argon2id failed (not enough memory for the requested limits?)"
    case .operationFailed(let what): "\(what) failed"
    case .invalidSignature: "signature does not verify"
    }
  }
}
