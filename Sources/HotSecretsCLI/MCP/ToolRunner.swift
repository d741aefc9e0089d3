import ArgumentParser
import HotSecretsModel
import HotSecretsOperations
import HotSecretsVault

/// Runs a tool exactly as its command runs: the command's own value is built from the call's
/// arguments (after `--`, so no argument can pass for an option) with the server's vault options,
/// and asked for its report with the session the server unlocked at start.
struct ToolRunner: Sendable {
  let vault: VaultOptions
  /// The vault unlocked at start; nil when the server runs without its key.
  let session: VaultSession?

  /// The tool's report. A vault re-keyed since the server unlocked it (the core refuses to read or
  /// write with a replaced key) is `ToolCallError.rekeyed`, which says to restart the server.
  func run(_ tool: Tool, _ arguments: ToolArguments) async throws -> CommandReport {
    do {
      return try await report(tool, arguments)
    } catch VaultError.rekeyedMeanwhile {
      throw ToolCallError.rekeyed
    }
  }

  private func report(_ tool: Tool, _ arguments: ToolArguments) async throws -> CommandReport {
    if tool.needsUnlock, session == nil { throw ToolCallError.locked(tool) }
    switch tool {
    case .verify:
      var command = try parse(HotSecrets.Verify.self, environment(arguments))
      command.vault = vault
      command.live = arguments.bool("live")
      command.targets = arguments.bool("targets")
      command.strict = arguments.bool("strict")
      command.asOf = arguments.string("as_of")
      return try await command.report(session: session)
    case .status:
      var command = try parse(HotSecrets.Status.self, environment(arguments))
      command.vault = vault
      return try command.report(session: session)
    case .list:
      if let name = arguments.string("environment") { try SecretAddress.validateEnvironment(name) }
      var command = try parse(HotSecrets.List.self, arguments.string("environment").map { [$0] } ?? [])
      command.vault = vault
      return try command.report(session: session)
    case .history:
      let address = try SecretAddress(
        environment: arguments.string("environment") ?? "", service: arguments.string("service") ?? "",
        key: arguments.string("key") ?? "")
      var command = try parse(HotSecrets.History.self, [address.environment, address.service, address.key])
      command.vault = vault
      return try command.report(session: session)
    case .auditVerify:
      var command = try parse(HotSecrets.AuditCommand.Verify.self, [])
      command.vault = vault
      return try command.report(session: session)
    case .syncPlan, .sync:
      var command = try parse(HotSecrets.Sync.self, environment(arguments))
      command.vault = vault
      command.dryRun = tool == .syncPlan
      command.target = arguments.string("target").flatMap(TargetSelection.init(rawValue:)) ?? .all
      command.deploy = arguments.string("deploy").flatMap(FlyDeployMode.init(rawValue:))
      return try await command.report(session: session)
    case .rotationPlan, .rotate, .rotateFinish:
      var command = try parse(HotSecrets.Rotate.self, environment(arguments))
      command.vault = vault
      command.keys = arguments.strings("keys")
      command.due = arguments.bool("due")
      command.exposed = arguments.bool("exposed")
      command.asOf = arguments.string("as_of")
      command.dryRun = tool == .rotationPlan
      command.finish = tool == .rotateFinish
      command.deploy = arguments.string("deploy").flatMap(FlyDeployMode.init(rawValue:))
      return try await command.report(session: session)
    }
  }

  /// The call's environment, checked as every command checks it.
  private func environment(_ arguments: ToolArguments) throws -> [String] {
    let name = arguments.string("environment") ?? ""
    try SecretAddress.validateEnvironment(name)
    return [name]
  }

  /// The command `type` with these positional arguments (after `--`); the caller gives it the
  /// server's vault options.
  private func parse<Command: ParsableCommand>(_ type: Command.Type, _ positional: [String]) throws -> Command {
    do {
      return try type.parse(positional.isEmpty ? [] : ["--"] + positional)
    } catch {
      throw ToolCallError.invalidArguments(type.message(for: error))
    }
  }
}
