import Foundation
import HotSecretsModel
import HotSecretsVault
import Sodium

/// `manifest.json` of a compliance bundle: the SHA-256 of every other file and what the bundle is
/// about. `manifest.sig` is the base64 Ed25519 detached signature of its exact bytes, by the key in
/// `signer.pub` (the vault's audit-checkpoint signing key). `SHA256SUMS` lists every file but itself,
/// manifest and signature included, in `sha256sum`'s format; being written after the manifest, it
/// is not in it: the manifest names it (`checksums_file`) and the verifier checks that it agrees.
/// Fields are documented in docs/compliance.md.
public struct ComplianceManifest: Codable, Sendable, Equatable {
  public static let formatName = "hotsecrets-compliance-v1"
  public static let manifestFile = "manifest.json"
  public static let signatureFile = "manifest.sig"
  public static let signerFile = "signer.pub"
  public static let checksumsFile = "SHA256SUMS"

  public let format: String
  /// File name → lowercase hex SHA-256 of its bytes.
  public let files: [String: String]
  public let vaultID: String
  public let environment: String
  public let period: CompliancePeriod
  public let generatedAt: String
  public let toolVersion: String
  public let auditHead: AuditHead
  /// The report's control results, so a script can read them without the HTML.
  public let controls: [ComplianceControl]
  /// The signing public key, standard base64 (the content of `signer.pub`).
  public let signer: String
  /// The bundle's `sha256sum` file (`SHA256SUMS`); nil in a bundle written before it existed.
  public var checksumsFile: String? = nil

  enum CodingKeys: String, CodingKey {
    case format, files, environment, period, controls, signer
    case vaultID = "vault_id"
    case generatedAt = "generated_at"
    case toolVersion = "tool_version"
    case auditHead = "audit_head"
    case checksumsFile = "checksums_file"
  }

  /// Lowercase hex SHA-256, what `sha256sum` prints.
  public static func sha256(_ bytes: some DataProtocol) -> String {
    ByteEncoding.hex(SHA256.hash(bytes))
  }

  /// The text of a `SHA256SUMS` file, as `sha256sum` writes it and `sha256sum -c` reads it: one
  /// `<hex>  <name>` line per file (text mode: two spaces), sorted by name (bytewise, as `LC_ALL=C
  /// sort` does). The names are plain (no slash, space, backslash or newline), so none is escaped.
  static func sha256sums(_ files: [(name: String, sha256: String)]) -> String {
    files.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }.map { "\($0.sha256)  \($0.name)\n" }
      .joined()
  }

  /// The lines of a `SHA256SUMS` file, in order: (digest, name) or nil for a line that is not
  /// `<64 lowercase hex> <space or *><name>`. A final newline ends the last line; no line is empty.
  static func parseSHA256Sums(_ bytes: [UInt8]) -> [(sha256: String, name: String)?] {
    var lines = bytes.split(separator: 10, omittingEmptySubsequences: false)
    if bytes.last == 10 { lines.removeLast() }
    return lines.map { line in
      let hex = line.prefix(64)
      guard line.count > 66, hex.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }),
        line[line.startIndex + 64] == 32, [32, 42].contains(line[line.startIndex + 65]),
        let name = String(validating: line.dropFirst(66), as: UTF8.self)
      else { return nil }
      return (String(decoding: hex, as: UTF8.self), name)
    }
  }
}

/// What `export verify` found.
public struct BundleVerification: Sendable, Encodable {
  public struct FileCheck: Sendable, Encodable, Equatable {
    public enum Status: String, Sendable, Encodable {
      case ok, altered, missing, extra
      /// A symbolic link, folder or device where the manifest lists a file.
      case notRegular = "not-a-regular-file"
    }
    public let name: String
    public let status: Status
  }

  /// True when the signature verifies, every listed file is present with its hash, no file is
  /// extra, and (when an anchor was given) the signer is the expected key.
  public var valid: Bool { problems.isEmpty && signatureValid }
  public var directory: String
  public var signatureValid = false
  /// `signer.pub` as written (standard base64), when readable.
  public var signer: String?
  /// Set when `--signer-key` or `--checkpoints` was given: whether the signer is that key (and,
  /// with checkpoints, whether the bundle's audit head was checkpointed).
  public var anchored: Bool?
  public var files: [FileCheck] = []
  /// One line per problem, naming the file.
  public var problems: [String] = []
  public var manifest: ComplianceManifest?

  enum CodingKeys: String, CodingKey {
    case valid, directory, signer, anchored, files, problems, manifest
    case signatureValid = "signature_valid"
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(valid, forKey: .valid)
    try c.encode(directory, forKey: .directory)
    try c.encode(signatureValid, forKey: .signatureValid)
    try c.encode(signer, forKey: .signer)
    try c.encode(anchored, forKey: .anchored)
    try c.encode(files, forKey: .files)
    try c.encode(problems, forKey: .problems)
    try c.encode(manifest, forKey: .manifest)
  }
}
