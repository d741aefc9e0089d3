import Foundation
import HotSecretsModel
import Sodium

/// The checkpoints file: signed audit heads, one `AuditCheckpoint` line each, appended by
/// `audit checkpoint` and `rotate` and checked by `audit verify`. It holds no secret and is meant
/// to be committed to git, which anchors each head outside the vault file: deleting the newest
/// audit entries (truncation) is detected once a checkpoint covered them.
public enum AuditCheckpoints {
  /// `vault/audit-checkpoints.log` under the project root, wherever the vault file is.
  public static let defaultRelativePath = "vault/audit-checkpoints.log"

  /// `explicit` when given, else the default under `root`.
  public static func path(explicit: String?, root: String) -> String {
    if let explicit, !explicit.isEmpty { return explicit }
    return VaultLocation.join(root, defaultRelativePath)
  }

  /// What `write` did.
  public struct Written: Sendable {
    public let checkpoint: AuditCheckpoint
    /// Whether this checkpoint created the vault's signing key (and its audit entry).
    public let signingKeyCreated: Bool
    public let path: String
  }

  /// Signs the chain's current head and appends the line to `path` (created 0644, with its folder
  /// when missing). The checkpoint is not itself an audit entry: the signed head is the head at
  /// signing time. Throws `VaultError.io` when the file cannot be written.
  @discardableResult
  public static func write(session: VaultSession, path: String) throws -> Written {
    let (checkpoint, created) = try session.signAuditCheckpoint()
    try append(line: checkpoint.line, to: path)
    return Written(checkpoint: checkpoint, signingKeyCreated: created, path: path)
  }

  /// Appends `line` and a newline with one `write(2)` on an `O_APPEND` descriptor, then `fsync`s.
  /// A file that does not end with a newline (edited by hand) gets one first.
  package static func append(line: String, to path: String) throws {
    func failure(_ what: String) -> VaultError {
      .io(path: path, reason: "\(what) (\(String(cString: strerror(errno))))")
    }
    try PathName.createFolder(of: path)
    let folder = PathName.folder(of: path)
    var created = false
    var fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC)
    if fd < 0, errno == ENOENT {
      fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
      if fd >= 0 {
        created = true
        // The process umask (077) would leave it 0600; it holds no secret and goes into git.
        fchmod(fd, 0o644)
      } else if errno == EEXIST {
        fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC)
      }
    }
    guard fd >= 0 else { throw failure("cannot open the checkpoints file") }
    defer { close(fd) }
    var text = Array((line + "\n").utf8)
    var info = stat()
    if fstat(fd, &info) == 0, info.st_size > 0 {
      var last: UInt8 = 0
      if pread(fd, &last, 1, off_t(info.st_size - 1)) == 1, last != UInt8(ascii: "\n") {
        text.insert(UInt8(ascii: "\n"), at: 0)
      }
    }
    guard FileDescriptorIO.writeAll(fd, text) else { throw failure("cannot write the checkpoints file") }
    guard fsync(fd) == 0 else { throw failure("cannot sync the checkpoints file") }
    if created {
      let dir = open(folder.isEmpty ? "." : folder, O_RDONLY | O_CLOEXEC)
      if dir >= 0 {
        fsync(dir)
        close(dir)
      }
    }
  }

  /// The file's lines (as bytes, without their newlines), or nil when it does not exist. Throws
  /// `VaultError.io` when it cannot be read.
  package static func readLines(_ path: String) throws -> [ArraySlice<UInt8>]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 {
      if errno == ENOENT { return nil }
      throw VaultError.io(
        path: path, reason: "cannot read the checkpoints file (\(String(cString: strerror(errno))))")
    }
    defer { close(fd) }
    guard let bytes = FileDescriptorIO.readAll(fd) else {
      throw VaultError.io(path: path, reason: "cannot read the checkpoints file")
    }
    return bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
  }

  /// The outcome of checking a checkpoints file against the chain.
  public struct Check: Sendable, Equatable {
    /// Lines that verified (before the first bad one).
    public var verified: Int
    /// 1-based number of the first bad line.
    public var failedLine: Int?
    public var reason: String?
    /// The chain seq the failure points at: the checkpointed seq whose hash no longer matches, or
    /// the first missing seq after a truncation. Nil when the line itself is bad.
    public var firstBadSeq: Int64?
    public var path: String

    /// `PATH line N: reason`, or nil when every line verified.
    public var error: String? {
      guard let failedLine, let reason else { return nil }
      return "\(path) line \(failedLine): \(reason)"
    }
  }

  /// Checks every line: a well-formed checkpoint of this vault, signed by the vault's signing key
  /// (`signingKey`, nil when it has none; `keyProblem` when the stored key failed its own check), whose
  /// (seq, hash) is still in the chain. Stops at the first bad line. One indexed lookup per line: the
  /// cost does not grow with the chain.
  static func check(
    _ lines: [ArraySlice<UInt8>], path: String, vaultID: String, signingKey: [UInt8]?, keyProblem: String?,
    in tx: any StoreTransaction
  ) throws -> Check {
    var result = Check(verified: 0, failedLine: nil, reason: nil, firstBadSeq: nil, path: path)
    func fail(_ line: Int, _ reason: String, seq: Int64? = nil) -> Check {
      var failed = result
      failed.failedLine = line
      failed.reason = reason
      failed.firstBadSeq = seq
      return failed
    }
    for (index, raw) in lines.enumerated() {
      let number = index + 1
      let text = raw.last == UInt8(ascii: "\r") ? raw.dropLast() : raw
      if text.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) { continue }
      let checkpoint: AuditCheckpoint
      do {
        checkpoint = try AuditCheckpoint.parse(utf8: text)
      } catch {
        return fail(number, error.reason)
      }
      guard checkpoint.signatureIsValid else {
        return fail(number, "the signature does not verify with the line's key (the line was altered)")
      }
      guard checkpoint.vaultID == vaultID else {
        return fail(number, "the checkpoint is for vault \(checkpoint.vaultID), not this vault (\(vaultID))")
      }
      if let keyProblem { return fail(number, keyProblem) }
      guard let signingKey else {
        return fail(number, "this vault has no signing key, so no checkpoint can be its own")
      }
      guard checkpoint.publicKey == signingKey else {
        return fail(
          number,
          "signed by key \(Base64.encode(checkpoint.publicKey)), not this vault's signing key \(Base64.encode(signingKey))"
        )
      }
      guard let hash = try tx.audit.hash(seq: checkpoint.seq) else {
        let head = try tx.audit.head()?.seq ?? 0
        if head < checkpoint.seq {
          return fail(
            number,
            "checkpointed seq \(checkpoint.seq) is not in the audit chain, which ends at seq \(head): the entries after seq \(head) were deleted (truncated)",
            seq: head + 1)
        }
        return fail(number, "checkpointed entry \(checkpoint.seq) is missing from the audit chain", seq: checkpoint.seq)
      }
      guard hash == checkpoint.hash else {
        return fail(
          number,
          "entry \(checkpoint.seq) no longer has the checkpointed hash: the chain was rewritten at or before seq \(checkpoint.seq)",
          seq: checkpoint.seq)
      }
      result.verified += 1
    }
    return result
  }
}

extension VaultSession {
  /// Signs the audit chain's current head with the vault's signing key, creating that key (and its
  /// `signing-key-create` entry, which then is the head) when the vault has none. Throws
  /// `corruptVault` when the stored signing key fails its checks.
  public func signAuditCheckpoint() throws -> (checkpoint: AuditCheckpoint, signingKeyCreated: Bool) {
    let date = now()
    return try database.write { tx in
      let (pair, created) = try SigningKey.loadOrCreate(
        keys: keys, vaultID: vaultID, actor: actor, at: date, in: tx)
      guard let head = try tx.audit.head() else {
        throw VaultError.corruptVault("the audit trail is empty")
      }
      let checkpoint = try AuditCheckpoint(
        seq: head.seq, hash: head.hash, time: Timestamp.string(from: date), vaultID: vaultID, keyPair: pair)
      return (checkpoint, created)
    }
  }

}
