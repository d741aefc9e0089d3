import HotSecretsModel
import Sodium

/// The public half of an X25519 identity, written as `hsr1…` (base64url of the 32-byte key and a
/// 4-byte BLAKE2b checksum, so a mistyped recipient is rejected instead of locking someone out).
public struct RecipientKey: Hashable, Sendable, CustomStringConvertible {
  public static let prefix = "hsr1"
  public let publicKey: [UInt8]

  public init(publicKey: [UInt8]) throws {
    guard publicKey.count == SealedBox.publicKeyBytes else {
      throw VaultError.invalidRecipient(reason: "a public key must be \(SealedBox.publicKeyBytes) bytes")
    }
    self.publicKey = publicKey
  }

  /// Parses `hsr1…`; throws `invalidRecipient` with the reason.
  public init(parsing text: String) throws {
    let trimmed = text.trimmingWhitespace()
    guard trimmed.hasPrefix(Self.prefix) else {
      throw VaultError.invalidRecipient(
        reason: "expected a string starting with \(Self.prefix) (an identity's recipient)")
    }
    guard let raw = ByteEncoding.bytes(base64URL: String(trimmed.dropFirst(Self.prefix.count))),
      raw.count == SealedBox.publicKeyBytes + 4
    else { throw VaultError.invalidRecipient(reason: "malformed recipient string") }
    let key = Array(raw.prefix(SealedBox.publicKeyBytes))
    guard try Self.checksum(key) == Array(raw.suffix(4)) else {
      throw VaultError.invalidRecipient(reason: "checksum mismatch (was the string copied completely?)")
    }
    publicKey = key
  }

  public var description: String {
    Self.prefix + ByteEncoding.base64URL(publicKey + ((try? Self.checksum(publicKey)) ?? []))
  }

  static func checksum(_ key: [UInt8]) throws -> [UInt8] {
    Array(try GenericHash.hash(Array("hotsecrets.recipient.v1".utf8) + key, length: 16).prefix(4))
  }
}

extension String {
  func trimmingWhitespace() -> String {
    var s = Substring(self)
    while let c = s.first, c.isWhitespace { s = s.dropFirst() }
    while let c = s.last, c.isWhitespace { s = s.dropLast() }
    return String(s)
  }
}
