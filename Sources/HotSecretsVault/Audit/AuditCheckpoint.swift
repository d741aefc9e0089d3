import Foundation
import HotSecretsModel
import Sodium

/// A signed statement of the audit chain's head: one line of the checkpoints file.
///
///     hotsecrets-checkpoint v1 seq=<n> hash=<64 hex> time=<UTC ISO 8601> vault=<vault id> key=<base64> sig=<base64>
///
/// `sig` is the Ed25519 detached signature, in standard base64, of the exact UTF-8 bytes of the line
/// before ` sig=`; `key` is the vault's signing public key in standard base64. Fields are separated
/// by one space and appear in this order.
public struct AuditCheckpoint: Sendable, Equatable {
  public static let tag = "hotsecrets-checkpoint"
  public static let version = "v1"

  public let seq: Int64
  public let hash: String
  public let time: String
  public let vaultID: String
  public let publicKey: [UInt8]
  public let signature: [UInt8]
  /// The exact text the signature covers: the line up to ` sig=`.
  public let signedText: String

  /// The whole line, without a newline.
  public var line: String { signedText + " sig=" + signatureBase64 }
  /// `key=` as written: standard base64.
  public var publicKeyBase64: String { Base64.encode(publicKey) }
  /// `sig=` as written: standard base64.
  public var signatureBase64: String { Base64.encode(signature) }

  /// Signs `seq`/`hash` at `time` with the vault's key pair.
  package init(seq: Int64, hash: String, time: String, vaultID: String, keyPair: Ed25519.KeyPair) throws {
    self.seq = seq
    self.hash = hash
    self.time = time
    self.vaultID = vaultID
    publicKey = keyPair.publicKey
    signedText =
      "\(Self.tag) \(Self.version) seq=\(seq) hash=\(hash) time=\(time) vault=\(vaultID) key=\(Base64.encode(keyPair.publicKey))"
    signature = try Ed25519.sign(Array(signedText.utf8), secretKey: keyPair.secretKey)
  }

  private init(
    seq: Int64, hash: String, time: String, vaultID: String, publicKey: [UInt8], signature: [UInt8], signedText: String
  ) {
    self.seq = seq
    self.hash = hash
    self.time = time
    self.vaultID = vaultID
    self.publicKey = publicKey
    self.signature = signature
    self.signedText = signedText
  }

  /// Whether the signature is valid for the signed text under the line's own key. Says nothing
  /// about whether that key is the vault's.
  public var signatureIsValid: Bool {
    Ed25519.verify(signature: signature, message: Array(signedText.utf8), publicKey: publicKey)
  }

  /// Why a line is not a well-formed checkpoint.
  public struct ParseError: Error, Equatable, Sendable {
    public let reason: String
  }

  /// Parses one line (without its newline). Does not check the signature.
  public static func parse(_ text: some StringProtocol) throws(ParseError) -> AuditCheckpoint {
    try parse(utf8: Array(text.utf8)[...])
  }

  /// `parse` on the line's bytes: `audit verify` parses every line of the file, so this works on
  /// bytes rather than characters.
  package static func parse(utf8 line: ArraySlice<UInt8>) throws(ParseError) -> AuditCheckpoint {
    func text(_ bytes: ArraySlice<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }
    let fields = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
    guard fields.first?.elementsEqual(tag.utf8) == true else {
      throw ParseError(reason: "not a hotsecrets checkpoint line")
    }
    guard fields.count > 1, fields[1].elementsEqual(version.utf8) else {
      throw ParseError(reason: "unsupported checkpoint format \(fields.count > 1 ? text(fields[1]) : "(none)")")
    }
    let names = ["seq", "hash", "time", "vault", "key", "sig"]
    guard fields.count == 2 + names.count else {
      throw ParseError(reason: "malformed line: expected the fields \(names.map { $0 + "=" }.joined(separator: " "))")
    }
    var values: [ArraySlice<UInt8>] = []
    for (name, field) in zip(names, fields.dropFirst(2)) {
      let prefix = Array((name + "=").utf8)
      guard field.starts(with: prefix) else {
        throw ParseError(reason: "malformed line: expected \(name)= where it has \(text(field.prefix(12)))")
      }
      values.append(field.dropFirst(prefix.count))
    }
    guard let seq = Int64(text(values[0])), seq > 0, String(seq).utf8.elementsEqual(values[0]) else {
      throw ParseError(reason: "malformed seq")
    }
    guard values[1].count == 64, values[1].allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
      throw ParseError(reason: "malformed hash (expected 64 lower-case hex digits)")
    }
    let time = text(values[2])
    guard Timestamp.date(from: time) != nil else {
      throw ParseError(reason: "malformed time (expected YYYY-MM-DDTHH:MM:SSZ)")
    }
    guard !values[3].isEmpty, values[3].allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
      throw ParseError(reason: "malformed vault id")
    }
    guard let key = Base64.decode(values[4]), key.count == Ed25519.publicKeyBytes else {
      throw ParseError(reason: "malformed key (expected 32 bytes in base64)")
    }
    guard let signature = Base64.decode(values[5]), signature.count == Ed25519.signatureBytes else {
      throw ParseError(reason: "malformed sig (expected 64 bytes in base64)")
    }
    // The signed text ends before the space that precedes the last field, `sig=`.
    let signedEnd = fields[7].startIndex - 1
    return AuditCheckpoint(
      seq: seq, hash: text(values[1]), time: time, vaultID: text(values[3]), publicKey: key, signature: signature,
      signedText: text(line[..<signedEnd]))
  }
}
