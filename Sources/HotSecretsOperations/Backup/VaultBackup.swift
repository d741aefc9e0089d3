import Foundation
import HotSecretsModel
import HotSecretsVault
import Sodium

/// What a backup is, signed: written beside the copy as `FILE.manifest`. It holds no secret (the
/// copy itself is the vault, as encrypted as the vault).
public struct BackupManifest: Codable, Equatable, Sendable {
  public static let currentFormat = "hotsecrets-backup-v1"

  public struct Table: Codable, Equatable, Sendable {
    public let name: String
    public let rows: Int
    /// BLAKE2b-256 over the table's rows in order (`VaultCopy.TableSummary`), hex.
    public let digest: String
  }

  public var format = BackupManifest.currentFormat
  public let vault_id: String
  public let created_at: String
  /// `file` or `postgresql`: the store the copy was taken from.
  public let source: String
  /// The copy's file name (the manifest sits beside it).
  public let file: String
  /// SHA-256 of the copy's bytes, hex (`sha256sum FILE`).
  public let sha256: String
  public let bytes: Int
  public let audit_head_seq: Int64?
  public let audit_head_hash: String?
  public let tables: [Table]
  /// The vault's signing public key, base64.
  public var public_key = ""
  /// Ed25519 over this document with `signature` empty (domain `backup`), base64.
  public var signature = ""

  /// The bytes the signature covers: the manifest as StableJSON with `signature` empty.
  func signedBytes() throws -> [UInt8] {
    var unsigned = self
    unsigned.signature = ""
    return Array(try StableJSON.encode(unsigned))
  }
}

/// What a copy of a vault holds, as a manifest describes it.
public struct BackupContents: Sendable, Equatable {
  public let vaultID: String
  public let headSeq: Int64?
  public let headHash: String?
  public let tables: [BackupManifest.Table]
}

/// One check of a backup, a restore or a drill.
public struct BackupCheck: Encodable, Equatable, Sendable {
  public let name: String
  public let passed: Bool
  public let detail: String

  public init(_ name: String, _ passed: Bool, _ detail: String) {
    self.name = name
    self.passed = passed
    self.detail = detail
  }
}

/// Backups of a vault: a consistent copy in one file and a manifest signed with the vault's key,
/// and the checks a restore and a drill make of them.
public enum VaultBackup {
  static let signatureDomain = "backup"

  /// The manifest beside a backup file.
  public static func manifestPath(of file: String) -> String { file + ".manifest" }

  /// What `store` (the copy, just written) holds: its vault id, audit head and every table's rows
  /// and digest.
  public static func contents(of store: any VaultStore) throws -> BackupContents {
    let (vaultID, head) = try store.read { tx in (try tx.header.read()?.vaultID ?? "", try tx.audit.head()) }
    let tables = try VaultCopy.summarize(store).map { BackupManifest.Table(name: $0.table, rows: $0.rows, digest: $0.digest) }
    return BackupContents(vaultID: vaultID, headSeq: head?.seq, headHash: head?.hash, tables: tables)
  }

  /// Signs the manifest of the copy at `file` (closed: its bytes are final) whose `contents` were
  /// read from it, with `session`'s vault key, and writes it beside the file (0644: it holds no
  /// secret). Returns it.
  public static func seal(
    file: String, contents: BackupContents, source: String,
    session: VaultSession, at date: Date = Date()
  ) throws -> BackupManifest {
    guard let bytes = FileManager.default.contents(atPath: file) else {
      throw VaultError.io(path: file, reason: "cannot read the backup back")
    }
    var manifest = BackupManifest(
      vault_id: contents.vaultID, created_at: Timestamp.string(from: date), source: source,
      file: PathName.base(of: file), sha256: ByteEncoding.hex(SHA256.hash(bytes)), bytes: bytes.count,
      audit_head_seq: contents.headSeq, audit_head_hash: contents.headHash, tables: contents.tables)
    guard manifest.vault_id == session.vaultID else {
      throw VaultError.corruptVault("the copy holds vault \(manifest.vault_id), not \(session.vaultID)")
    }
    // The key is named inside what it signs.
    manifest.public_key = Base64.encode(try session.signingPublicKey())
    manifest.signature = Base64.encode(try session.sign(document: try manifest.signedBytes(), domain: signatureDomain))
    let path = manifestPath(of: file)
    try Data(try StableJSON.encode(manifest)).write(to: URL(fileURLWithPath: path), options: .withoutOverwriting)
    chmod(path, 0o644)
    return manifest
  }

  /// The manifest beside `file`. Throws naming the file when it is missing or not a manifest.
  public static func manifest(of file: String) throws -> BackupManifest {
    let path = manifestPath(of: file)
    guard let data = FileManager.default.contents(atPath: path) else {
      throw VaultError.io(path: path, reason: "no manifest beside the backup (a backup is FILE and FILE.manifest)")
    }
    do {
      return try JSONDecoder().decode(BackupManifest.self, from: data)
    } catch {
      throw VaultError.io(path: path, reason: "not a backup manifest")
    }
  }

  /// The checks of `file` against `manifest` that need no copy opened: the signature (with the
  /// key `anchor` when given — the checkpoints file's or the live vault's — else only the key the
  /// manifest names), the size and the SHA-256 of the bytes.
  public static func checkFile(_ file: String, manifest: BackupManifest, anchor: (key: [UInt8], source: String)?) -> [BackupCheck] {
    var checks: [BackupCheck] = []
    let key = Base64.decode(manifest.public_key) ?? []
    let signed = (try? manifest.signedBytes()).map {
      VaultSignature.verify(
        signature: Base64.decode(manifest.signature) ?? [], document: $0, domain: signatureDomain, publicKey: key)
    } ?? false
    checks.append(
      BackupCheck(
        "manifest signature", signed,
        signed ? "signed by the key \(manifest.public_key)" : "the manifest's signature does not verify: it was altered"))
    if let anchor {
      let same = anchor.key == key
      checks.append(
        BackupCheck(
          "signing key", same,
          same
            ? "the key of \(anchor.source)"
            : "signed by \(manifest.public_key), not by the key of \(anchor.source) (\(Base64.encode(anchor.key))): a foreign or forged backup"))
    }
    guard let bytes = FileManager.default.contents(atPath: file) else {
      checks.append(BackupCheck("copy", false, "\(file) cannot be read"))
      return checks
    }
    checks.append(
      BackupCheck(
        "size", bytes.count == manifest.bytes,
        bytes.count == manifest.bytes
          ? "\(manifest.bytes) bytes" : "\(bytes.count) bytes, the manifest says \(manifest.bytes): truncated or altered"))
    let digest = ByteEncoding.hex(SHA256.hash(bytes))
    checks.append(
      BackupCheck(
        "sha256", digest == manifest.sha256,
        digest == manifest.sha256 ? digest : "\(digest), the manifest says \(manifest.sha256): the copy was altered"))
    return checks
  }

  /// The checks of a restored copy's `contents` against `manifest`: the vault id, the audit head
  /// and every table's row count and digest.
  public static func checkContents(
    _ contents: BackupContents, manifest: BackupManifest
  ) -> [BackupCheck] {
    var checks: [BackupCheck] = []
    checks.append(
      BackupCheck(
        "vault id", contents.vaultID == manifest.vault_id,
        contents.vaultID == manifest.vault_id ? manifest.vault_id : "\(contents.vaultID), the manifest says \(manifest.vault_id)"))
    let headMatches = contents.headSeq == manifest.audit_head_seq && contents.headHash == manifest.audit_head_hash
    checks.append(
      BackupCheck(
        "audit head", headMatches,
        headMatches
          ? "seq \(manifest.audit_head_seq.map(String.init) ?? "-")"
          : "seq \(contents.headSeq.map(String.init) ?? "-"), the manifest says \(manifest.audit_head_seq.map(String.init) ?? "-")"))
    let differing = zip(contents.tables, manifest.tables).filter { $0 != $1 }.map(\.0.name)
      + (contents.tables.count == manifest.tables.count ? [] : ["(the list of tables)"])
    let rows = contents.tables.reduce(0) { $0 + $1.rows }
    checks.append(
      BackupCheck(
        "counts", differing.isEmpty,
        differing.isEmpty
          ? "\(contents.tables.count) tables, \(rows) rows, each table's digest as signed"
          : "differ from the manifest in: " + differing.joined(separator: ", ")))
    return checks
  }
}

extension VaultSession {
  /// Appends the `backup` audit entry: the copy's file name, SHA-256, and audit head.
  public func recordBackup(_ manifest: BackupManifest) throws {
    var detail: [String: CanonicalJSON] = [
      "file": .string(manifest.file), "sha256": .string(manifest.sha256), "source": .string(manifest.source),
      "bytes": .int(manifest.bytes),
    ]
    if let seq = manifest.audit_head_seq { detail["audit_head_seq"] = .int(Int(seq)) }
    try recordAudit(AuditEvent(action: .backup, detail: .object(detail)))
  }
}
