import Foundation
import HotSecretsModel
import HotSecretsVault
import Sodium

/// `manifest.json` of a compliance bundle: the SHA-256 of every other file and what the bundle is
/// about. `manifest.sig` is the base64 Ed25519 detached signature of its exact bytes, by the key in
/// `signer.pub` (the vault's audit-checkpoint signing key). Fields are documented in docs/compliance.md.
public struct ComplianceManifest: Codable, Sendable, Equatable {
  public static let formatName = "hotsecrets-compliance-v1"
  public static let manifestFile = "manifest.json"
  public static let signatureFile = "manifest.sig"
  public static let signerFile = "signer.pub"

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

  enum CodingKeys: String, CodingKey {
    case format, files, environment, period, controls, signer
    case vaultID = "vault_id"
    case generatedAt = "generated_at"
    case toolVersion = "tool_version"
    case auditHead = "audit_head"
  }

  /// Lowercase hex SHA-256, what `sha256sum` prints.
  public static func sha256(_ bytes: some DataProtocol) -> String {
    ByteEncoding.hex(SHA256.hash(bytes))
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
