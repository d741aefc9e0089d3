import ArgumentParser
import Foundation
import HotSecretsModel
import HotSecretsVault

extension HotSecrets {
  /// `hotsecrets mcp`: the gate, drift, lists and plans as Model Context Protocol tools.
  struct MCP: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "mcp",
      abstract: "Serve verify, status, list, history and plans to AI agents over MCP (stdio); never a value.",
      discussion: """
        Speaks the Model Context Protocol (JSON-RPC 2.0, one message per line) on stdin and \
        stdout, for an agent's MCP client to start as a server (docs/mcp.md has the client \
        configurations). Tools: verify (the pre-deploy gate), status, list, history, \
        audit_verify, rotation_plan and sync_plan; each answers with the document the matching \
        command prints with --format json. No tool returns or accepts a secret value.

        Tools that change things (sync, rotate, rotate_finish) exist only when named in --allow.

        The vault is unlocked once, at start, with --identity / $HOTSECRETS_IDENTITY or \
        --passphrase-file / $HOTSECRETS_PASSPHRASE; never with a prompt (stdin belongs to the \
        protocol). Without either, only audit_verify (hashes only) works, and the other tools \
        answer with an error saying how to configure the server. Every call of an unlocked \
        server is audited as mcp-TOOL, with the client's name and version. Logs go to stderr; \
        stdout carries protocol messages only.

        Exit codes: 0 the client closed the session; 2 the server could not start (no vault, \
        cannot unlock); 64 usage error.
        """
    )

    @OptionGroup var vault: VaultOptions
    @Option(
      help: ArgumentHelp(
        "Also offer these tools that change things: sync, rotate, rotate_finish (comma-separated or repeated).",
        valueName: "tool"))
    var allow: [String] = []

    /// The write tools named by --allow.
    func allowedTools() throws -> Set<Tool> {
      var tools: Set<Tool> = []
      for name in allow.flatMap({ $0.split(separator: ",") }).map({ $0.trimmingCharacters(in: .whitespaces) }) {
        guard let tool = Tool(rawValue: name), tool.changesThings else {
          let names = Tool.writeTools.map(\.rawValue).joined(separator: ", ")
          throw ValidationError(
            Tool(rawValue: name) == nil
              ? "--allow: no tool '\(name)' (tools that change things: \(names))"
              : "--allow: \(name) is read-only and always offered; --allow names tools that change things: \(names)")
        }
        tools.insert(tool)
      }
      return tools
    }

    func run() async throws {
      let allowed = try allowedTools()
      let log: @Sendable (String) -> Void = { StandardStreams.error("hotsecrets mcp: \($0)") }
      // The vault must open now, so a wrong address fails the start, not every call.
      _ = try vault.openDatabase()
      let session = vault.unlocksWithoutPrompt ? try vault.unlock() : nil
      if session == nil {
        log(
          "no identity or passphrase given: serving without the vault's key (only audit_verify works, hashes only; calls are not audited)"
        )
      }
      // A client gone away makes a write fail (EPIPE), not end the process mid-call.
      signal(SIGPIPE, SIG_IGN)
      let streams = try ProtocolStreams.take()
      log(
        "serving \(vault.vaultDescription) over stdio; tools that change things: "
          + (allowed.isEmpty ? "none" : allowed.map(\.rawValue).sorted().joined(separator: ", ")))
      let server = MCPServer(
        channel: MessageChannel(input: streams.input, output: streams.output),
        runner: ToolRunner(vault: vault, session: session), root: vault.root, allowed: allowed, log: log)
      await server.serve()
      log("the client closed the session")
    }
  }
}

/// stdin and stdout, taken for the protocol: the server reads and writes copies of them, stdin is
/// replaced by /dev/null and stdout by stderr, so nothing else in the process can read a message
/// or write a stray line into the protocol stream.
enum ProtocolStreams {
  static func take() throws -> (input: Int32, output: Int32) {
    let input = fcntl(0, F_DUPFD_CLOEXEC, 3)
    let output = fcntl(1, F_DUPFD_CLOEXEC, 3)
    let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
    guard input >= 0, output >= 0, null >= 0, dup2(null, 0) >= 0, dup2(2, 1) >= 0 else {
      throw CLIError.io(path: "standard input/output", reason: String(cString: strerror(errno)))
    }
    close(null)
    return (input, output)
  }
}
