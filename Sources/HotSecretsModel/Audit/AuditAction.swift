/// What an audit entry records as its `action`: one of a closed set, written by the core only.
/// Entries read back carry whatever the file holds (`init(rawValue:)` accepts any text), so a
/// reader compares against these values rather than parsing prefixes.
public struct AuditAction: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
  public let rawValue: String

  public init(rawValue: String) { self.rawValue = rawValue }

  private init(_ rawValue: String) { self.rawValue = rawValue }

  public var description: String { rawValue }

  // The vault.
  public static let initVault = AuditAction("init")
  public static let get = AuditAction("get")
  public static let remove = AuditAction("remove")
  public static let rekey = AuditAction("rekey")
  public static let signingKeyCreate = AuditAction("signing-key-create")
  /// A new current version: `set`, `import` or `rotate` (its `VersionSource`).
  public static func version(_ source: VersionSource) -> AuditAction { AuditAction(source.rawValue) }

  // Recipients.
  public static let recipientAdd = AuditAction("recipient-add")
  public static let recipientRemove = AuditAction("recipient-remove")
  public static let recipientUpgrade = AuditAction("recipient-upgrade")

  // Reading values out.
  public static let render = AuditAction("render")
  public static let run = AuditAction("run")
  public static let verifyLive = AuditAction("verify-live")
  public static let exportCompliance = AuditAction("export-compliance")
  /// A leak scan: every value looked for in files or a repository's history.
  public static let scan = AuditAction("scan")
  /// A backup written (its signed manifest's hash), and a restore drill run (its result).
  public static let backup = AuditAction("backup")
  public static let drill = AuditAction("drill")

  // Targets.
  public static let sync = AuditAction("sync")
  public static let syncRestart = AuditAction("sync-restart")

  // Agents: a call of a `hotsecrets mcp` tool (`mcp-verify`, `mcp-rotation_plan`, …), named by
  // the server's closed set of tools.
  public static func mcp(tool: String) -> AuditAction { AuditAction(mcpPrefix + tool) }

  private static let mcpPrefix = "mcp-"

  /// Whether this is an MCP tool call's entry.
  public var isToolCall: Bool { rawValue.hasPrefix(Self.mcpPrefix) }

  // Rotation: a plan, one entry per key and step (`rotate-create`, `rotate-promote`, …), the
  // run's end, and an operator's confirmation that an old credential was revoked by hand.
  public static let rotatePlan = AuditAction("rotate-plan")
  public static let rotateFinish = AuditAction("rotate-finish")
  public static let rotateConfirmRevoked = AuditAction("rotate-confirm-revoked")
  public static func rotate(_ step: RotationStep) -> AuditAction { AuditAction(rotationPrefix + step.rawValue) }

  private static let rotationPrefix = "rotate-"

  /// Whether this is one of the rotation's entries (plan, step, finish, confirmation).
  public var isRotation: Bool { rawValue.hasPrefix(Self.rotationPrefix) }

  /// For a per-key rotation entry, the step's name (`create`, `promote`, `revoke`, …).
  public var rotationStep: String? {
    guard isRotation, self != .rotatePlan, self != .rotateFinish else { return nil }
    return String(rawValue.dropFirst(Self.rotationPrefix.count))
  }
}
