/// One entry of the append-only audit trail. It names what happened to which secret and by whom,
/// with the value's fingerprint — never the value.
///
/// `hash` = BLAKE2b-256(`prev_hash` bytes ‖ UTF-8 of `canonicalText`), chaining every entry to
/// the one before; the first entry's `prev_hash` is 32 zero bytes.
public struct AuditEntry: Equatable, Sendable {
  public var seq: Int64
  /// UTC ISO 8601.
  public var time: String
  public var actorUser: String
  public var actorRecipient: String?
  /// What happened: `init`, `set`, `get`, `remove`, `recipient-add`, `recipient-remove`, …
  public var action: String
  /// `env/service/KEY`, a recipient id, or nil for vault-wide actions.
  public var subject: String?
  public var version: Int?
  public var fingerprint: String?
  /// Extra facts as canonical JSON text, or nil.
  public var detail: String?
  public var prevHash: String
  public var hash: String
  /// Keyed BLAKE2b of `hash` under a subkey of the data key: proves a recipient wrote the entry.
  public var mac: String

  public init(
    seq: Int64, time: String, actorUser: String, actorRecipient: String?, action: String, subject: String?,
    version: Int?, fingerprint: String?, detail: String?, prevHash: String, hash: String, mac: String
  ) {
    self.seq = seq
    self.time = time
    self.actorUser = actorUser
    self.actorRecipient = actorRecipient
    self.action = action
    self.subject = subject
    self.version = version
    self.fingerprint = fingerprint
    self.detail = detail
    self.prevHash = prevHash
    self.hash = hash
    self.mac = mac
  }

  /// The canonical encoding hashed into the chain: every field but the two hashes, as the JSON
  /// text of `CanonicalJSON` (keys sorted: action, actor{recipient,user}, detail, fingerprint, seq,
  /// subject, time, version). Written directly rather than through a dictionary: imports hash
  /// thousands of entries.
  public var canonicalText: String {
    var out = ""
    appendCanonical(to: &out, withHashes: false)
    return out
  }

  /// `canonicalText`, or with `withHashes` the same object plus `hash`, `mac` and `prev_hash` in
  /// their sorted places: a line of a compliance bundle's `audit.jsonl`.
  package func appendCanonical(to out: inout String, withHashes: Bool) {
    out += "{\"action\":"
    CanonicalJSON.appendString(action, to: &out)
    out += ",\"actor\":{\"recipient\":"
    Self.appendOptional(actorRecipient, to: &out)
    out += ",\"user\":"
    CanonicalJSON.appendString(actorUser, to: &out)
    out += "},\"detail\":"
    Self.appendOptional(detail, to: &out)
    out += ",\"fingerprint\":"
    Self.appendOptional(fingerprint, to: &out)
    if withHashes {
      out += ",\"hash\":"
      CanonicalJSON.appendString(hash, to: &out)
      out += ",\"mac\":"
      CanonicalJSON.appendString(mac, to: &out)
      out += ",\"prev_hash\":"
      CanonicalJSON.appendString(prevHash, to: &out)
    }
    out += ",\"seq\":"
    out += String(seq)
    out += ",\"subject\":"
    Self.appendOptional(subject, to: &out)
    out += ",\"time\":"
    CanonicalJSON.appendString(time, to: &out)
    out += ",\"version\":"
    out += version.map { String($0) } ?? "null"
    out += "}"
  }

  private static func appendOptional(_ value: String?, to out: inout String) {
    if let value { CanonicalJSON.appendString(value, to: &out) } else { out += "null" }
  }
}

/// What a caller asks the chain to record; the chain adds seq, time and hashes.
public struct AuditEvent: Sendable {
  public var action: AuditAction
  public var subject: String?
  public var version: Int?
  public var fingerprint: String?
  public var detail: CanonicalJSON?

  public init(
    action: AuditAction, subject: String? = nil, version: Int? = nil, fingerprint: String? = nil,
    detail: CanonicalJSON? = nil
  ) {
    self.action = action
    self.subject = subject
    self.version = version
    self.fingerprint = fingerprint
    self.detail = detail
  }
}
