import Foundation
import HotSecretsModel
import Sodium

/// Appends to and checks the hash-chained audit trail.
public enum AuditChain {
  /// `prev_hash` of the first entry.
  public static let genesisHash = String(repeating: "0", count: 64)

  /// Appends `event` inside the caller's transaction, so the change it records and the entry
  /// commit together or not at all. Every keyed change appends an entry, so this is also where a
  /// session whose keys a re-key replaced meanwhile is stopped (`rekeyedMeanwhile`): nothing it
  /// sealed under the old key commits.
  @discardableResult
  package static func append(
    _ event: AuditEvent, actor: AuditActor, keys: VaultKeys, at date: Date, in tx: any StoreTransaction
  ) throws
    -> AuditEntry
  {
    try KeyEpoch.requireCurrent(keys, tx: tx)
    let last = try tx.audit.head()
    let seq: Int64 = (last?.seq ?? 0) + 1
    // A chain cut back below a re-key would have new entries MACed with a retired audit key (which
    // a removed recipient may know): refuse to write into an earlier epoch's range.
    if let boundary = keys.retiredAuditKeys.last?.lastSeq, seq <= boundary {
      throw VaultError.corruptVault(
        "the audit trail ends at entry \(seq - 1), before the last re-key's entry \(boundary + 1): entries were deleted"
      )
    }
    let prev = last?.hash ?? genesisHash
    var entry = AuditEntry(
      seq: seq, time: Timestamp.string(from: date), actorUser: actor.user, actorRecipient: actor.recipient,
      action: event.action.rawValue, subject: event.subject, version: event.version, fingerprint: event.fingerprint,
      detail: event.detail?.text, prevHash: prev, hash: "", mac: "")
    entry.hash = try hash(of: entry)
    entry.mac = try keys.auditMAC(hash: entry.hash, seq: seq)
    try tx.audit.append(entry)
    return entry
  }

  /// The hash an entry must carry, from its `prevHash` and canonical text.
  public static func hash(of entry: AuditEntry) throws -> String {
    guard let prev = ByteEncoding.bytes(hex: entry.prevHash), prev.count == 32 else {
      return "invalid-prev-hash"
    }
    return ByteEncoding.hex(try GenericHash.hash(prev + Array(entry.canonicalText.utf8), length: 32))
  }

  /// The outcome of checking the whole chain.
  public struct Verification: Sendable, Equatable, Encodable {
    public var intact: Bool
    public var entries: Int
    /// seq of the first entry that does not check, when the chain is broken.
    @NullEncoded public var firstBadSeq: Int64?
    @NullEncoded public var reason: String?
    @NullEncoded public var headSeq: Int64?
    @NullEncoded public var headHash: String?
    /// Whether every entry's MAC was checked too (needs the unlocked vault). Without it, a
    /// writer who recomputes every hash after an edit goes unnoticed.
    public var authenticated: Bool
    /// Checkpoint lines that verified (0 when there is no checkpoints file).
    public var checkpoints: Int
    /// `PATH line N: why` for the first checkpoint that does not verify, else nil.
    @NullEncoded public var checkpointError: String?

    public init(
      intact: Bool, entries: Int, firstBadSeq: Int64?, reason: String?, headSeq: Int64?, headHash: String?,
      authenticated: Bool, checkpoints: Int = 0, checkpointError: String? = nil
    ) {
      self.intact = intact
      self.entries = entries
      self.firstBadSeq = firstBadSeq
      self.reason = reason
      self.headSeq = headSeq
      self.headHash = headHash
      self.authenticated = authenticated
      self.checkpoints = checkpoints
      self.checkpointError = checkpointError
    }

    /// Folds in a checkpoints check: a bad checkpoint makes the trail not intact. When the chain
    /// itself checked, `reason` and `firstBadSeq` become the checkpoint's and the head is cleared,
    /// as for any broken trail.
    mutating func include(_ check: AuditCheckpoints.Check) {
      checkpoints = check.verified
      checkpointError = check.error
      guard let error = check.error, intact else { return }
      intact = false
      reason = error
      firstBadSeq = check.firstBadSeq
      headSeq = nil
      headHash = nil
    }

    enum CodingKeys: String, CodingKey {
      case intact, entries, reason, authenticated, checkpoints
      case firstBadSeq = "first_bad_seq"
      case headSeq = "head_seq"
      case headHash = "head_hash"
      case checkpointError = "checkpoint_error"
    }
  }

  /// Walks every entry in seq order and checks numbering, links and hashes — and, given the vault's
  /// keys, every entry's MAC. An edited entry breaks its own hash; a deleted one leaves a gap in seq
  /// or a broken link; reordered ones break links; a chain rewritten with recomputed hashes by
  /// someone without the data key fails its MACs. `visit` sees every entry read, in seq order,
  /// before it is checked: one pass serves callers that also export the entries.
  static func verify(
    in tx: any StoreTransaction, keys: VaultKeys?, visit: ((AuditEntry) throws -> Void)? = nil
  ) throws -> Verification {
    var expectedSeq: Int64 = 1
    var prev = genesisHash
    var count = 0
    var failure: Verification?
    try tx.audit.scan(after: 0) { entry in
      try visit?(entry)
      count += 1
      func broken(_ reason: String) -> Verification {
        Verification(
          intact: false, entries: count, firstBadSeq: entry.seq, reason: reason, headSeq: nil, headHash: nil,
          authenticated: keys != nil)
      }
      if entry.seq != expectedSeq {
        failure = Verification(
          intact: false, entries: count, firstBadSeq: min(expectedSeq, entry.seq),
          reason: "entry \(expectedSeq) is missing (next present entry is \(entry.seq))", headSeq: nil, headHash: nil,
          authenticated: keys != nil)
      } else if entry.prevHash != prev {
        failure = broken("prev_hash does not match the hash of entry \(entry.seq - 1) (entries deleted or reordered)")
      } else if try hash(of: entry) != entry.hash {
        failure = broken("hash does not match the entry's contents (entry edited)")
      } else if let keys, try keys.auditMAC(hash: entry.hash, seq: entry.seq) != entry.mac {
        failure = broken("MAC does not match: the entry was written or rewritten without the vault's key")
      }
      guard failure == nil else { return false }
      prev = entry.hash
      expectedSeq += 1
      return true
    }
    if let failure { return failure }
    if let keys, let boundary = keys.retiredAuditKeys.last?.lastSeq, expectedSeq - 1 <= boundary {
      return Verification(
        intact: false, entries: count, firstBadSeq: expectedSeq,
        reason:
          "the chain ends at entry \(expectedSeq - 1), before the last re-key's entry \(boundary + 1) (entries deleted)",
        headSeq: nil, headHash: nil, authenticated: true)
    }
    return Verification(
      intact: true, entries: count, firstBadSeq: nil, reason: nil,
      headSeq: count > 0 ? expectedSeq - 1 : nil, headHash: count > 0 ? prev : nil, authenticated: keys != nil)
  }
}

extension VaultSession {
  /// Appends `event` as one audit entry, in a write transaction of its own: for what a command did
  /// outside the store (a live probe, an agent's tool call, a scan, a backup, a drill). Throws
  /// storage errors, and `rekeyedMeanwhile` when this session's key was replaced.
  package func recordAudit(_ event: AuditEvent) throws {
    try database.write { tx in _ = try AuditChain.append(event, actor: actor, keys: keys, at: now(), in: tx) }
  }
}
