import Foundation
import HotSecretsModel
import Sodium

/// An X25519 identity: the secret key that unlocks a vault without a passphrase (for CI and
/// teammates). Its file holds comment lines and one `HOTSECRETS-IDENTITY-1…` line.
public struct Identity: Sendable {
  public static let linePrefix = "HOTSECRETS-IDENTITY-1"
  public let keyPair: BoxKeyPair

  /// The `hsr1…` string others add with `hotsecrets recipients add`.
  public var recipient: RecipientKey {
    // A BoxKeyPair always has a 32-byte public key, so this cannot fail.
    (try? RecipientKey(publicKey: keyPair.publicKey))!
  }

  /// A new random identity.
  public static func generate() throws -> Identity {
    Identity(keyPair: try BoxKeyPair.generate())
  }

  init(keyPair: BoxKeyPair) { self.keyPair = keyPair }

  /// Parses identity file text; `source` names the file in errors.
  public init(parsing text: String, source: String) throws {
    let lines = text.split(whereSeparator: \.isNewline).map { String($0).trimmingWhitespace() }
      .filter { !$0.isEmpty && !$0.hasPrefix("#") }
    guard lines.count == 1, let line = lines.first, line.hasPrefix(Self.linePrefix) else {
      throw VaultError.invalidIdentity(source: source, reason: "expected one line starting with \(Self.linePrefix)")
    }
    guard var raw = ByteEncoding.bytes(base64URL: String(line.dropFirst(Self.linePrefix.count))),
      raw.count == SealedBox.secretKeyBytes + 4
    else { throw VaultError.invalidIdentity(source: source, reason: "malformed key") }
    defer { secureZero(&raw) }
    let secret = try SecureBytes(copying: raw.prefix(SealedBox.secretKeyBytes))
    guard try Self.checksum(secret) == Array(raw.suffix(4)) else {
      throw VaultError.invalidIdentity(source: source, reason: "checksum mismatch (was the file truncated or edited?)")
    }
    keyPair = try BoxKeyPair(secretKey: secret)
  }

  /// Reads and parses an identity file.
  public static func load(path: String) throws -> Identity {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw VaultError.invalidIdentity(source: path, reason: "cannot read the file")
    }
    var bytes = Array(data)
    defer { secureZero(&bytes) }
    return try Identity(parsing: String(decoding: bytes, as: UTF8.self), source: path)
  }

  /// The identity file's text. It contains the secret key: write it with mode 0600.
  public func fileText(created: Date) throws -> String {
    var raw = keyPair.secretKey.copyBytes()
    defer { secureZero(&raw) }
    let line = Self.linePrefix + ByteEncoding.base64URL(raw + (try Self.checksum(keyPair.secretKey)))
    return """
      # hotsecrets identity (X25519). Secret: it unlocks every vault that lists its recipient.
      # created: \(Timestamp.string(from: created))
      # recipient: \(recipient)
      \(line)

      """
  }

  private static func checksum(_ secret: SecureBytes) throws -> [UInt8] {
    var message = Array("hotsecrets.identity.v1".utf8) + secret.copyBytes()
    defer { secureZero(&message) }
    return Array(try GenericHash.hash(message, length: 16).prefix(4))
  }
}
