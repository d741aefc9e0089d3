import GRDB

/// One entry of the append-only audit trail. It names what happened to which secret and by whom,
/// with the value's fingerprint — never the value.
///
/// `hash` = BLAKE2b-256(`prev_hash` bytes ‖ UTF-8 of `canonicalText`), chaining every entry to
/// the one before; the first entry's `prev_hash` is 32 zero bytes.
public struct AuditEntry: Equatable, Sendable, Codable, FetchableRecord, PersistableRecord {
  public static let databaseTableName = "audit_log"

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

  enum CodingKeys: String, CodingKey {
    case seq, time, action, subject, version, fingerprint, detail, hash
    case actorUser = "actor_user"
    case actorRecipient = "actor_recipient"
    case prevHash = "prev_hash"
  }

  /// The canonical encoding hashed into the chain: every field but the two hashes.
  public var canonicalText: String {
    func opt(_ s: String?) -> CanonicalJSON { s.map { .string($0) } ?? .null }
    return CanonicalJSON.object([
      "seq": .int(Int(seq)),
      "time": .string(time),
      "actor": .object(["user": .string(actorUser), "recipient": opt(actorRecipient)]),
      "action": .string(action),
      "subject": opt(subject),
      "version": version.map { .int($0) } ?? .null,
      "fingerprint": opt(fingerprint),
      "detail": opt(detail),
    ]).text
  }
}

/// What a caller asks the chain to record; the chain adds seq, time and hashes.
public struct AuditEvent: Sendable {
  public var action: String
  public var subject: String?
  public var version: Int?
  public var fingerprint: String?
  public var detail: CanonicalJSON?

  public init(
    action: String, subject: String? = nil, version: Int? = nil, fingerprint: String? = nil,
    detail: CanonicalJSON? = nil
  ) {
    self.action = action
    self.subject = subject
    self.version = version
    self.fingerprint = fingerprint
    self.detail = detail
  }
}
