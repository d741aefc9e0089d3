import Foundation
import HotSecretsModel
import HotSecretsOperations
import HotSecretsVault

/// The Model Context Protocol server behind `hotsecrets mcp`: the lifecycle (`initialize` with
/// version negotiation), `ping`, tools, resources and cancellation, over a `MessageChannel`.
/// Messages are handled as they arrive; tool calls run one at a time, in order, off the reading
/// loop, so a `ping` or a cancellation is answered while a call runs.
actor MCPServer {
  /// The protocol versions this server speaks, newest first. A client asking for another gets
  /// the newest, and decides whether it can go on (MCP's lifecycle).
  /// (2025-03-26 is left out: it requires JSON-RPC batches, which 2025-06-18 dropped and this
  /// server refuses.)
  static let protocolVersions = ["2025-11-25", "2025-06-18", "2024-11-05"]

  /// Tool calls queued or running at once; more are refused until some end.
  static let maximumCallsInFlight = 32

  private let channel: MessageChannel
  private let runner: ToolRunner
  private var resources: ResourceCatalogue
  /// The tools offered: the read-only ones, and the write tools named in `--allow`.
  private let tools: [Tool]
  private let log: @Sendable (String) -> Void

  private var initialized = false
  private var client = AgentClient(name: "unknown", version: "unknown")
  /// The last tool call queued: the next one starts when it ends.
  private var lastCall: Task<Void, Never>?
  /// Calls not yet answered, by request id, for `notifications/cancelled`.
  private var running: [JSONValue: Task<Void, Never>] = [:]
  /// Set when the client closed its input or its output went away: calls not started yet are
  /// not started.
  private var closing = false

  init(channel: MessageChannel, runner: ToolRunner, root: String, allowed: Set<Tool>, log: @escaping @Sendable (String) -> Void) {
    self.channel = channel
    self.runner = runner
    self.resources = ResourceCatalogue(root: root)
    self.tools = Tool.allCases.filter { !$0.changesThings || allowed.contains($0) }
    self.log = log
  }

  /// Serves until the client closes its end, then waits for the call that is running.
  func serve() async {
    for await incoming in channel.lines() {
      switch incoming {
      case .oversized:
        channel.send(
          JSONRPC.error(.invalidRequest("the message is longer than \(MessageChannel.maximumLineBytes) bytes")))
      case .line(let line):
        guard line.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }) else { continue }
        do {
          try handle(try JSONRPC.parse(line))
        } catch {
          channel.send(JSONRPC.error(error))
        }
      }
    }
    // The client closed the session: what has not started never will (the running call ends).
    closing = true
    await lastCall?.value
  }

  private func handle(_ message: JSONRPC.Message) throws(JSONRPC.Failure) {
    switch message {
    case .response: return
    case .notification(let method, let params):
      if method == "notifications/cancelled", let id = params["requestId"] {
        running[id]?.cancel()
      }
    // Unknown notifications are ignored, as JSON-RPC requires (no response to a notification).
    case .request(let id, let method, let params):
      if !initialized, method != "initialize", method != "ping" {
        throw .invalidRequest("the session is not initialized: send initialize first", id: id)
      }
      switch method {
      case "initialize": respond(id, try initialize(params, id: id))
      case "ping": respond(id, .object([:]))
      case "tools/list": respond(id, .object(["tools": .array(tools.map(\.listing))]))
      case "tools/call": try call(id: id, params)
      case "resources/list": respond(id, .object(["resources": .array(resources.list())]))
      case "resources/templates/list": respond(id, .object(["resourceTemplates": .array(ResourceCatalogue.templates)]))
      case "resources/read":
        guard let uri = params["uri"]?.stringValue else { throw .invalidParams("resources/read needs a \"uri\"", id: id) }
        respond(id, .object(["contents": .array([try resources.read(uri, id: id)])]))
      default:
        throw JSONRPC.Failure(code: JSONRPC.Failure.methodNotFoundCode, message: "method not found: \(method)", id: id)
      }
    }
  }

  private func respond(_ id: JSONValue, _ result: JSONValue) {
    if !channel.send(JSONRPC.response(id: id, result: result)) {
      // The client's end is gone: nothing more can be answered.
      closing = true
    }
  }

  /// Whether a queued call may start: not once the session is closing.
  private func mayStart() -> Bool { !closing }

  private func initialize(_ params: [String: JSONValue], id: JSONValue) throws(JSONRPC.Failure) -> JSONValue {
    guard !initialized else { throw .invalidRequest("already initialized", id: id) }
    guard let requested = params["protocolVersion"]?.stringValue else {
      throw .invalidParams("initialize needs a \"protocolVersion\"", id: id)
    }
    if case .object(let info)? = params["clientInfo"] {
      client = AgentClient(
        name: Self.printable(info["name"]?.stringValue ?? "unknown"),
        version: Self.printable(info["version"]?.stringValue ?? "unknown"))
    }
    initialized = true
    let version = Self.protocolVersions.contains(requested) ? requested : Self.protocolVersions[0]
    log("client \(client.name) \(client.version) connected (protocol \(version))")
    return .object([
      "protocolVersion": .string(version),
      "capabilities": .object([
        "tools": .object(["listChanged": .bool(false)]),
        "resources": .object(["listChanged": .bool(false), "subscribe": .bool(false)]),
      ]),
      "serverInfo": .object([
        "name": .string("hotsecrets"), "title": .string("hotsecrets"), "version": .string(HotSecretsVersion.current),
      ]),
      "instructions": .string(
        "hotsecrets answers about this project's secrets without ever returning a value. Call verify with the environment (e.g. prod) before a deploy: passed=false means do not deploy. status shows mirror drift, list and history show versions and ages, rotation_plan and sync_plan show what rotate and sync would do."
      ),
    ])
  }

  /// Queues the call behind the one running; its response is sent when it ends, unless the client
  /// cancelled it.
  private func call(id: JSONValue, _ params: [String: JSONValue]) throws(JSONRPC.Failure) {
    guard let name = params["name"]?.stringValue else { throw .invalidParams("tools/call needs a \"name\"", id: id) }
    var given: [String: JSONValue] = [:]
    switch params["arguments"] {
    case nil, .null?: break
    case .object(let arguments)?: given = arguments
    default: throw .invalidParams("\"arguments\" must be an object", id: id)
    }
    guard let tool = Tool(rawValue: name), tools.contains(tool) else {
      if let tool = Tool(rawValue: name) {
        // A write tool the server was not started to offer: refused, and the attempt is evidence.
        audit(tool, given, .denied)
        throw .invalidParams(
          "unknown tool '\(name)' (\(name) changes things and exists only when the server is started with --allow \(name))",
          id: id)
      }
      throw .invalidParams("unknown tool '\(name)' (tools: \(tools.map(\.rawValue).joined(separator: ", ")))", id: id)
    }
    guard running[id] == nil else { throw .invalidRequest("id \(Self.describe(id)) belongs to a call that has not ended", id: id) }
    guard running.count < Self.maximumCallsInFlight else {
      throw JSONRPC.Failure(
        code: JSONRPC.Failure.serverBusyCode,
        message: "\(Self.maximumCallsInFlight) tool calls are already queued or running: wait for their answers", id: id)
    }
    let previous = lastCall
    let task = Task {
      await previous?.value
      let (result, outcome) =
        self.mayStart() ? await self.execute(tool, given) : (.null, ToolCallOutcome.cancelled)
      self.finish(id: id, tool: tool, given: given, result: result, outcome: outcome)
    }
    running[id] = task
    lastCall = task
  }

  /// Runs the tool off the actor. A write tool runs to its end even when cancelled: its steps are
  /// journaled and audited, and stopping one half-way would leave work for `--resume`.
  private nonisolated func execute(_ tool: Tool, _ given: [String: JSONValue]) async -> (JSONValue, ToolCallOutcome) {
    if Task.isCancelled { return (.null, .cancelled) }
    let started = ContinuousClock.now
    let runner = runner
    let work = { () async -> (JSONValue, ToolCallOutcome) in
      do {
        let report = try await runner.run(tool, try tool.check(given))
        return try (Self.result(report), Self.outcome(report.exitStatus))
      } catch {
        let message = (error as? ToolCallError)?.message ?? ErrorMessage.describe(error)
        return (Self.errorResult(message), .error)
      }
    }
    let (result, outcome) = tool.changesThings ? await Task.detached(operation: work).value : await work()
    let elapsed = started.duration(to: .now)
    let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
    log(String(format: "%@: %@ (%.1f ms)", tool.rawValue, outcome.rawValue, milliseconds))
    return (result, Task.isCancelled && !tool.changesThings ? .cancelled : outcome)
  }

  private func finish(
    id: JSONValue, tool: Tool, given: [String: JSONValue], result: JSONValue, outcome: ToolCallOutcome
  ) {
    running[id] = nil
    audit(tool, given, outcome)
    if outcome == .cancelled { return }  // MCP: no response to a cancelled request
    if tool == .verify, case .object(let fields) = result, let document = fields["structuredContent"],
      let environment = given["environment"]?.stringValue
    {
      resources.rememberVerify(document, environment: environment)
    }
    respond(id, result)
  }

  /// The call's audit entry, when the server holds the vault's key (an entry needs its MAC).
  ///
  /// The arguments' values are recorded only for a call its command accepted (outcome `ok` or
  /// `failed`): then each is a checked name, flag, date or choice. Of any other call only the names
  /// of the tool's declared arguments it gave are kept, and no subject: what an agent sends is
  /// its own text, and a value pasted into a call must not become a permanent part of the chain.
  private func audit(_ tool: Tool, _ given: [String: JSONValue], _ outcome: ToolCallOutcome) {
    guard let session = runner.session else { return }
    let accepted = outcome == .ok || outcome == .failed
    let declared = Set(tool.arguments.map(\.name))
    let arguments: [String: CanonicalJSON] =
      accepted
      ? given.compactMapValues(Self.canonical)
      : [
        "given": .array(given.keys.filter(declared.contains).sorted().map(CanonicalJSON.string)),
        "undeclared": .int(given.keys.filter { !declared.contains($0) }.count),
      ]
    do {
      try session.recordToolCall(
        tool: tool.rawValue, environment: accepted ? given["environment"]?.stringValue : nil, client: client,
        arguments: arguments, outcome: outcome)
    } catch {
      log("warning: the audit entry of \(tool.rawValue) was not written: \(ErrorMessage.describe(error))")
    }
  }

  /// `text` with every byte outside printable ASCII as `?`, at most 100 bytes: a client's name
  /// goes into logs and the audit trail, where control characters have no business.
  static func printable(_ text: String) -> String {
    String(decoding: text.utf8.prefix(100).map { (0x20...0x7E).contains($0) ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
  }

  /// A request id in words.
  static func describe(_ id: JSONValue) -> String {
    switch id {
    case .int(let number): String(number)
    case .string(let text): "\"" + printable(text) + "\""
    default: "null"
    }
  }

  /// A checked argument as an audit entry holds it (strings, booleans, arrays of strings).
  private static func canonical(_ value: JSONValue) -> CanonicalJSON? {
    switch value {
    case .string(let text): .string(String(text.prefix(200)))
    case .bool(let flag): .bool(flag)
    case .array(let items): .array(items.compactMap(canonical))
    default: nil
    }
  }

  static func outcome(_ exitStatus: Int32) -> ToolCallOutcome {
    switch exitStatus {
    case ExitStatus.success: .ok
    case ExitStatus.checkFailed: .failed
    default: .error
    }
  }

  /// A tool result: the summary and the document as text, the document as structured content.
  /// A report the command would end with exit 2 (e.g. no target reachable) is an error result.
  static func result(_ report: CommandReport) throws -> JSONValue {
    let document = try JSONValue(encoding: report.document)
    return .object([
      "content": .array([
        .object(["type": .string("text"), "text": .string(report.summary)]),
        .object(["type": .string("text"), "text": .string(String(decoding: JSONRPC.encode(document), as: UTF8.self))]),
      ]),
      "structuredContent": document,
      "isError": .bool(report.exitStatus == ExitStatus.error),
    ])
  }

  /// A failed call's result: one line, no value.
  static func errorResult(_ message: String) -> JSONValue {
    .object([
      "content": .array([.object(["type": .string("text"), "text": .string(message)])]),
      "isError": .bool(true),
    ])
  }
}
