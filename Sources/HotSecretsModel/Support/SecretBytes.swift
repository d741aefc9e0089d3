import Sodium

/// Bytes held in guarded, zero-on-free memory (libsodium's `sodium_malloc`): passphrases,
/// decrypted values and keys. Re-exported so callers of the core need not import `Sodium`.
public typealias SecretBytes = Sodium.SecureBytes

/// Overwrites a plain byte array that held secret material with zeros.
public func wipe(_ bytes: inout [UInt8]) {
  Sodium.secureZero(&bytes)
}
