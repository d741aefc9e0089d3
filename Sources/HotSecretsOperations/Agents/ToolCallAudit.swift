import HotSecretsModel
import HotSecretsVault

/// An MCP client as it named itself in `initialize`: untrusted text, kept short.
public struct AgentClient: Sendable, Equatable {
  public let name: String
  public let version: String

  /// Names longer than this are cut: they are the client's own words, not evidence of anything.
  static let maximumLength = 100

  public init(name: String, version: String) {
    self.name = String(name.prefix(Self.maximumLength))
    self.version = String(version.prefix(Self.maximumLength))
  }
}

/// How a tool call ended, as its audit entry records it.
public enum ToolCallOutcome: String, Sendable {
  /// The command would have exited 0.
  case ok
  /// The command's check found a problem (exit 1): not deployable, drift, a failed push.
  case failed
  /// The call could not run (exit 2): bad arguments, no policy, a store error.
  case error
  /// The client cancelled the call before it ended.
  case cancelled
  /// A tool that changes things, called on a server not started to offer it (`--allow`): refused.
  case denied
}

extension VaultSession {
  /// Appends the audit entry of one MCP tool call (action `mcp-TOOL`): subject the environment it
  /// was about, detail the client's name and version, the call's arguments and its outcome. The
  /// arguments are names, flags and dates (the tools take no values), and no message text is
  /// recorded: an error's words can carry what a provider echoed, and the chain is permanent.
  public func recordToolCall(
    tool: String, environment: String?, client: AgentClient, arguments: [String: CanonicalJSON],
    outcome: ToolCallOutcome
  ) throws {
    try recordAudit(
      AuditEvent(
        action: .mcp(tool: tool), subject: environment,
        detail: .object([
          "client": .object(["name": .string(client.name), "version": .string(client.version)]),
          "arguments": .object(arguments), "outcome": .string(outcome.rawValue),
        ])))
  }
}
