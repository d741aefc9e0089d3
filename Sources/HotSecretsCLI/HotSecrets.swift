import ArgumentParser
import Foundation
import HotSecretsCompliance
import HotSecretsPolicy
import RemoteAPIs

/// The `hotsecrets` command: parses arguments, runs one subcommand, and maps every failure to the
/// documented exit codes.
public struct HotSecrets: AsyncParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "hotsecrets",
    abstract: "An offline-first secrets vault: encrypted store, recipients, audit trail.",
    discussion: """
      The vault is one SQLite file (default vault/hotsecrets.db under --root), or a PostgreSQL schema \
      (--vault postgresql://…, docs/team.md). Values are \
      encrypted with XChaCha20-Poly1305 under a data key wrapped for each recipient \
      (a passphrase, or an X25519 identity from `hotsecrets identity new`).

      Unlocking: --identity FILE or $HOTSECRETS_IDENTITY (a file), else --passphrase-file FILE \
      or $HOTSECRETS_PASSPHRASE, else a prompt on the terminal.

      \(ExitStatus.helpText)
      """,
    version: HotSecretsVersion.current,
    subcommands: [
      Init.self, SetValue.self, GetValue.self, List.self, History.self, Remove.self,
      Import.self, Render.self, Status.self, Run.self, Verify.self, Sync.self, Rotate.self, Schedule.self,
      IdentityCommand.self, RecipientsCommand.self, RekeyCommand.self, AuditCommand.self, Export.self,
      Scan.self, Backup.self, Restore.self, Drill.self, VaultCommand.self, MCP.self, CompletionsCommand.self,
    ]
  )

  public init() {}

  /// Entry point: hardens the process, runs the command, exits with 0, 1, 2 or 64.
  @MainActor public static func execute() async {
    ProcessHardening.apply()
    // What an API says about a failure reaches stderr only, scrubbed of everything sent.
    RemoteDiagnostics.setHandler { StandardStreams.error("hotsecrets: \($0)") }
    let command: ParsedCommand
    let arguments = UsageErrors.movingGlobalOptions(Array(CommandLine.arguments.dropFirst()))
    do {
      command = try parse(arguments)
    } catch {
      UsageErrors.exit(error, arguments: arguments)  // usage errors: 64; --help and --version: 0
    }
    do {
      switch command {
      case .sync(var command): try command.run()  // here, on the main thread
      case .async(var command): try await command.run()
      }
    } catch let code as ExitCode {
      Foundation.exit(code.rawValue)
    } catch let error as CleanExit {
      exit(withError: error)
    } catch let error as ValidationError {
      UsageErrors.exit(error, arguments: arguments)
    } catch where String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") {
      UsageErrors.exit(error, arguments: arguments)  // e.g. `hotsecrets help list`
    } catch {
      StandardStreams.error("hotsecrets: error: \(ErrorMessage.describe(error))")
      if let remote = error as? RemoteError { RemoteDiagnostics.report(remote) }
      Foundation.exit(ExitStatus.error)
    }
  }
}

extension HotSecrets {
  /// Leaf commands run on every deploy or CI job, parsed directly when the invocation is plain.
  /// Building argument-parser's whole command tree costs several milliseconds of start-up; a leaf
  /// parsed on its own gives the same command value. Anything unusual (help, a parse error) goes
  /// through the full tree so messages and usage text are the normal ones. (A hand-written parser
  /// for the hottest leaves saved a further 1.0-1.3 ms and was removed: docs/performance.md.)
  private static let directlyParsed: [String: ParsableCommand.Type] = [
    "list": List.self, "get": GetValue.self, "history": History.self, "status": Status.self,
    "render": Render.self, "run": Run.self, "verify": Verify.self,
  ]

  /// The name shown as these leaves' parent when they are parsed directly. Setting it also skips
  /// argument-parser's completion-script probe (another ~2 ms), which only the root needs.
  static let directParent = "hotsecrets"

  static func parse(_ arguments: [String]) throws -> ParsedCommand {
    guard let name = arguments.first else { return ParsedCommand(try parseAsRoot(arguments)) }
    let rest = Array(arguments.dropFirst())
    guard let leaf = directlyParsed[name] else { return ParsedCommand(try parseAsRoot(arguments)) }
    if !rest.contains(where: {
      $0 == "-h" || $0 == "--help" || $0 == "--version" || $0.hasPrefix("--generate-completion")
    }), let command = try? leaf.parseAsRoot(rest) {
      return ParsedCommand(command)
    }
    return ParsedCommand(try parseAsRoot(arguments))
  }
}

/// A parsed command and whether its `run` is async.
enum ParsedCommand {
  case sync(ParsableCommand)
  case async(AsyncParsableCommand)

  init(_ command: ParsableCommand) {
    if let command = command as? AsyncParsableCommand { self = .async(command) } else { self = .sync(command) }
  }
}

extension CommandConfiguration {
  /// This configuration for a leaf that `HotSecrets.parse` may parse on its own (see
  /// `HotSecrets.directParent`). As a subcommand of `hotsecrets` nothing changes.
  func parsedDirectly() -> CommandConfiguration {
    var copy = self
    copy._superCommandName = HotSecrets.directParent
    return copy
  }
}

/// The tool's version string.
public enum HotSecretsVersion {
  public static let current = "0.1.0"
  /// The commit CI recipes (`schedule --github-actions`) fetch and build by default: the last one
  /// reviewed for release, on github.com/hotrodan/hotsecrets. A source tree cannot name its own
  /// commit, so this is bumped at each release; `--hotsecrets-commit` picks another.
  public static let pinnedCommit = "b9537464986c27eb37c975a028a802fa528ccb90"
}
