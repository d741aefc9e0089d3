/// Who did something, as recorded in the audit trail: the OS user, and the recipient that unlocked
/// the vault when there was one.
public struct AuditActor: Sendable, Equatable {
  public let user: String
  public var recipient: String?

  public init(user: String, recipient: String? = nil) {
    self.user = user
    self.recipient = recipient
  }
}
