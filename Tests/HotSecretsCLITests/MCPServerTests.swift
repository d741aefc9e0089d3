import Foundation
import MCP
import TestSupport
import Testing

/// `hotsecrets mcp` end to end: the built binary as an MCP server, driven by the official Swift SDK's
/// client (as an agent's client would) and by raw JSON-RPC lines (malformed input, cancellation,
/// every byte checked for values).
@Suite(.endToEnd) struct MCPServerTests {
  static let readOnlyTools: Set<String> = [
    "verify", "status", "list", "history", "audit_verify", "rotation_plan", "sync_plan",
  ]

  /// The sync tests' policy, with a key hotsecrets mints itself (so rotation plans have work).
  static let policy = SyncCommandTests.policy().replacingOccurrences(
    of: "SESSION_SECRET: {}", with: "SESSION_SECRET: { rotate: generate, length: 48 }")

  /// `value` without the `seconds` timings a sync report carries.
  static func withoutTimings(_ value: Value) -> Value {
    switch value {
    case .object(let fields):
      .object(fields.filter { $0.key != "seconds" }.mapValues(withoutTimings))
    case .array(let items): .array(items.map(withoutTimings))
    default: value
    }
  }

  /// The document `hotsecrets ARGS --format json` prints, as the SDK's `Value`.
  static func cliDocument(_ h: CLIHarness, _ arguments: [String]) async throws -> Value {
    let r = try await h.run(arguments + ["--format", "json"])
    #expect(r.status == 0 || r.status == 1, "\(r.allOutput)")
    return try JSONDecoder().decode(Value.self, from: r.stdoutData)
  }

  static func text(_ content: [Tool.Content]) -> [String] {
    content.compactMap { if case .text(let text, _, _) = $0 { text } else { nil } }
  }

  @Test(arguments: Backend.allCases) func anAgentGetsTheCommandsAnswersThroughTheOfficialClient(_ backend: Backend) async throws {
    let f = try await SyncCommandTests.fixture(policy: Self.policy, backend: backend)
    defer { f.stop() }
    let h = f.h
    try #require(try await h.run(["render", "prod"]).status == 0)
    let server = try MCPServerProcess.start(h, ["--allow", "sync"])
    let client = Client(name: "sdk-test-agent", version: "1.2.3")
    let initialized = try await client.connect(transport: server.sdkTransport())
    #expect(initialized.serverInfo.name == "hotsecrets")
    #expect(initialized.protocolVersion == Version.latest)
    #expect(initialized.capabilities.tools != nil)

    // The read-only tools, and of the write tools only the one --allow names.
    let (tools, _) = try await client.listTools()
    #expect(Set(tools.map(\.name)) == Self.readOnlyTools.union(["sync"]))
    for tool in tools {
      #expect(tool.inputSchema.objectValue?["type"] == .string("object"), "\(tool.name)")
      #expect(tool.annotations.readOnlyHint == (tool.name != "sync"), "\(tool.name)")
    }
    let verifyTool = try #require(tools.first { $0.name == "verify" })
    #expect(verifyTool.inputSchema.objectValue?["required"] == .array([.string("environment")]))

    // Each read-only tool's structured result is the document its command prints.
    let cases: [(tool: String, arguments: [String: Value], command: [String])] = [
      ("verify", ["environment": "prod"], ["verify", "prod"]),
      ("status", ["environment": "prod"], ["status", "prod"]),
      ("list", ["environment": "prod"], ["list", "prod"]),
      ("history", ["environment": "prod", "service": "openai", "key": "API_KEY_PROD"], ["history", "prod", "openai", "API_KEY_PROD"]),
      ("rotation_plan", ["environment": "prod", "keys": ["app/SESSION_SECRET"]], ["rotate", "prod", "app/SESSION_SECRET", "--dry-run"]),
      ("sync_plan", ["environment": "prod", "target": "fly"], ["sync", "prod", "--target", "fly", "--dry-run"]),
    ]
    for (name, arguments, command) in cases {
      let result = try await (client.callTool(name: name, arguments: arguments) as RequestContext<CallTool.Result>).value
      #expect(result.isError == false, "\(name): \(Self.text(result.content))")
      let structured = try #require(result.structuredContent, "\(name)")
      let expected = try await Self.cliDocument(h, command)
      #expect(Self.withoutTimings(structured) == Self.withoutTimings(expected), "\(name)")
      // A one-line summary first, then the document as text (for clients that ignore structured content).
      let texts = Self.text(result.content)
      #expect(texts.count == 2 && !texts[0].contains("\n"), "\(name): \(texts)")
      let asText = try JSONDecoder().decode(Value.self, from: Data(texts[1].utf8))
      #expect(asText == structured, "\(name)")
    }
    // The chain moves with every audited call, so audit_verify is compared by its verdict.
    let audit = try await (client.callTool(name: "audit_verify") as RequestContext<CallTool.Result>).value
    #expect(audit.structuredContent?.objectValue?["intact"] == .bool(true))
    #expect(audit.structuredContent?.objectValue?["authenticated"] == .bool(true))

    // A tool error: a one-line message naming the problem, as an isError result.
    let typo = try await client.callTool(name: "verify", arguments: ["environment": "prdo"])
    #expect(typo.isError == true)
    #expect(Self.text(typo.content).first?.hasPrefix("policies/prdo.yaml: no such file") == true, "\(typo.content)")
    let badArgument = try await client.callTool(name: "list", arguments: ["environment": "prod", "value": "x"])
    #expect(badArgument.isError == true)
    #expect(Self.text(badArgument.content) == ["unknown argument 'value'; list takes environment"])
    // An unknown tool, and a write tool the server was not started to offer: protocol errors.
    await #expect(throws: MCPError.self) { _ = try await client.callTool(name: "get_value", arguments: [:]) }
    do {
      _ = try await client.callTool(name: "rotate", arguments: ["environment": "prod"])
      Issue.record("rotate was callable without --allow rotate")
    } catch let error as MCPError {
      #expect(error.code == -32602)
      #expect("\(error)".contains("--allow rotate"), "\(error)")
    }

    // The allowed write tool changes what it says it does.
    let sync = try await (client.callTool(name: "sync", arguments: ["environment": "prod", "target": "fly"]) as RequestContext<CallTool.Result>).value
    #expect(sync.isError == false, "\(Self.text(sync.content))")
    #expect(sync.structuredContent?.objectValue?["succeeded"] == .bool(true))
    #expect(f.flyPlain(SyncCommandTests.app) == SyncCommandTests.expectedApp)

    // Resources: the policy, and the last verify report.
    let (resources, _) = try await client.listResources()
    #expect(resources.map(\.uri).contains("hotsecrets://policy/prod"))
    #expect(resources.map(\.uri).contains("hotsecrets://verify/prod"))
    let policy = try await client.readResource(uri: "hotsecrets://policy/prod")
    #expect(policy.first?.text == Self.policy)
    #expect(policy.first?.mimeType == "application/yaml")

    await client.disconnect()
    let ended = await server.stop()
    #expect(ended.status == 0, "\(String(decoding: ended.stderr, as: UTF8.self))")
    let stderr = String(decoding: ended.stderr, as: UTF8.self)
    #expect(stderr.contains("client sdk-test-agent 1.2.3 connected"))
    for value in SyncCommandTests.values.values { #expect(!stderr.contains(value)) }

    // Every call was audited as mcp-TOOL with the client's name and version, and the sync's own
    // entries are there too, as when the command runs.
    let log = try h.json(try await h.run(["audit", "log", "--format", "json"]))
    let entries = try #require(log["entries"] as? [[String: Any]])
    let calls = entries.filter { ($0["action"] as? String)?.hasPrefix("mcp-") == true }
    #expect(Set(calls.compactMap { $0["action"] as? String }) == Set((Self.readOnlyTools.union(["sync", "rotate"])).map { "mcp-\($0)" }))
    let verifyCall = try #require(calls.first { $0["action"] as? String == "mcp-verify" })
    let detail = try #require(verifyCall["detail"] as? [String: Any])
    #expect((detail["client"] as? [String: String]) == ["name": "sdk-test-agent", "version": "1.2.3"])
    #expect((detail["arguments"] as? [String: String]) == ["environment": "prod"])
    #expect(detail["outcome"] as? String == "ok")
    #expect(verifyCall["subject"] as? String == "prod")
    #expect(calls.contains { ($0["detail"] as? [String: Any])?["outcome"] as? String == "error" })
    // The refused call of a write tool is recorded too.
    let denied = try #require(calls.first { $0["action"] as? String == "mcp-rotate" })
    #expect((denied["detail"] as? [String: Any])?["outcome"] as? String == "denied")
    #expect(entries.contains { $0["action"] as? String == "sync" })
    #expect(try await h.run(["audit", "verify"]).status == 0)
  }

  @Test func malformedInputGetsJSONRPCErrorsAndTheServerKeepsServing() async throws {
    let h = try await CLIHarness.withIdentityVault()
    try h.writePolicy(Self.policy)
    let raw = RawMCPClient(try MCPServerProcess.start(h))

    // Before initialize: ping only.
    #expect(errorCode(try await raw.request(1, "tools/list")) == -32600)
    #expect(try await raw.request(2, "ping")["result"] as? [String: Any] != nil)
    // A version the server does not speak: it answers with its newest.
    let initialized = try await raw.initialize(version: "1999-01-01")
    #expect((initialized["result"] as? [String: Any])?["protocolVersion"] as? String == "2025-11-25")
    #expect(errorCode(try await raw.request(3, "initialize", #"{"protocolVersion":"2025-06-18"}"#)) == -32600)

    await raw.send("this is not JSON")
    let notJSON = try await raw.next()
    #expect(errorCode(notJSON) == -32700)
    #expect(notJSON["id"] is NSNull)
    await raw.send(#"{"jsonrpc":"1.0","id":4,"method":"ping"}"#)
    let wrongVersion = try await raw.next()
    #expect(errorCode(wrongVersion) == -32600)
    #expect(wrongVersion["id"] as? Int == 4)
    #expect(errorCode(try await raw.request(5, "no/such/method")) == -32601)
    await raw.send(#"[{"jsonrpc":"2.0","id":6,"method":"ping"}]"#)
    #expect(errorCode(try await raw.next()) == -32600)
    await raw.send(#"{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}"#)
    #expect(errorCode(try await raw.next()) == -32600)
    // Nesting deeper than the JSON reader's limit is a parse error, not a crash.
    await raw.send(String(repeating: "[", count: 100_000))
    #expect(errorCode(try await raw.next()) == -32700)
    // A line of 3 MiB: refused without being held, and the next line is read as usual.
    await raw.write(Array(#"{"jsonrpc":"2.0","id":7,"method":"ping","params":{"pad":""#.utf8) + [UInt8](repeating: 0x61, count: 3 << 20) + Array("\"}}\n".utf8))
    let huge = try await raw.next()
    #expect(errorCode(huge) == -32600)
    #expect((huge["error"] as? [String: Any])?["message"] as? String == "invalid request: the message is longer than 1048576 bytes")
    // Tools: a bad argument is a tool error (the model can correct it); an unknown tool a protocol error.
    let badType = try toolResult(try await raw.request(8, "tools/call", #"{"name":"verify","arguments":{"environment":7}}"#))
    #expect(badType["isError"] as? Bool == true)
    #expect(((badType["content"] as? [[String: Any]])?.first?["text"] as? String) == "argument 'environment' must be a string")
    #expect(errorCode(try await raw.request(9, "tools/call", #"{"name":"nope"}"#)) == -32602)
    #expect(errorCode(try await raw.request(10, "tools/call", #"{"arguments":{}}"#)) == -32602)
    // A notification gets no answer: the next message is the ping's.
    await raw.send(#"{"jsonrpc":"2.0","method":"notifications/whatever"}"#)
    let pong = try await raw.request(11, "ping")
    #expect(pong["id"] as? Int == 11)
    // Resources: the policy file, unknown ones refused.
    let listed = try await raw.request(12, "resources/list")
    let uris = ((listed["result"] as? [String: Any])?["resources"] as? [[String: Any]])?.compactMap { $0["uri"] as? String }
    #expect(uris == ["hotsecrets://policy/prod"])
    let read = try await raw.request(13, "resources/read", #"{"uri":"hotsecrets://policy/prod"}"#)
    let contents = ((read["result"] as? [String: Any])?["contents"] as? [[String: Any]])?.first
    #expect(contents?["text"] as? String == Self.policy)
    #expect(errorCode(try await raw.request(14, "resources/read", #"{"uri":"hotsecrets://policy/../../etc/passwd"}"#)) == -32002)
    #expect(errorCode(try await raw.request(15, "resources/read", #"{"uri":"hotsecrets://verify/prod"}"#)) == -32002)
    #expect(try await raw.request(16, "ping")["result"] != nil)

    let ended = await raw.server.stop()
    #expect(ended.status == 0)
    // Nothing but JSON-RPC 2.0 messages on stdout.
    await raw.drain()
    for line in raw.transcript.split(separator: UInt8(ascii: "\n")) {
      let message = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any]
      #expect(message?["jsonrpc"] as? String == "2.0")
    }
  }

  @Test func noValueAppearsInAnyByteTheServerWrites() async throws {
    let f = try await SyncCommandTests.fixture(policy: Self.policy)
    defer { f.stop() }
    let h = f.h
    try #require(try await h.run(["render", "prod"]).status == 0)
    let raw = RawMCPClient(try MCPServerProcess.start(h, ["--allow", "sync,rotate", "--allow", "rotate_finish"]))
    _ = try await raw.initialize()
    let tools = try await raw.request(1, "tools/list")
    let names = ((tools["result"] as? [String: Any])?["tools"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
    #expect(Set(names ?? []) == Self.readOnlyTools.union(["sync", "rotate", "rotate_finish"]))
    let calls = [
      #"{"name":"verify","arguments":{"environment":"prod","targets":true,"strict":true}}"#,
      #"{"name":"status","arguments":{"environment":"prod"}}"#,
      #"{"name":"list","arguments":{}}"#,
      #"{"name":"history","arguments":{"environment":"prod","service":"app","key":"SESSION_SECRET"}}"#,
      #"{"name":"audit_verify"}"#,
      #"{"name":"rotation_plan","arguments":{"environment":"prod","keys":["app/SESSION_SECRET"]}}"#,
      #"{"name":"sync_plan","arguments":{"environment":"prod"}}"#,
      #"{"name":"sync","arguments":{"environment":"prod"}}"#,
      #"{"name":"rotate","arguments":{"environment":"prod","keys":["app/SESSION_SECRET"]}}"#,
      #"{"name":"rotate_finish","arguments":{"environment":"prod"}}"#,
      #"{"name":"verify","arguments":{"environment":"prod"}}"#,
    ]
    for (i, call) in calls.enumerated() {
      let result = try toolResult(try await raw.request(100 + i, "tools/call", call))
      #expect(result["isError"] as? Bool == false, "\(call): \(result)")
    }
    #expect(try await raw.request(200, "resources/read", #"{"uri":"hotsecrets://verify/prod"}"#)["result"] != nil)
    let served = raw.transcript
    // An agent that pastes a value into a call gets an error, and the value stays out of the chain
    // (the error may name what the agent itself sent, so these answers are not in `served`).
    let pasted = SyncCommandTests.values["openai/API_KEY_PROD"]!
    for (i, call) in [
      #"{"name":"list","arguments":{"environment":"prod","value":"\#(pasted)"}}"#,
      #"{"name":"verify","arguments":{"environment":"\#(pasted)"}}"#,
      #"{"name":"rotation_plan","arguments":{"environment":"prod","keys":["\#(pasted)"]}}"#,
    ].enumerated() {
      let result = try toolResult(try await raw.request(300 + i, "tools/call", call))
      #expect(result["isError"] as? Bool == true, "\(call)")
    }
    let ended = await raw.server.stop()
    await raw.drain()
    #expect(ended.status == 0)
    // The rotation minted a new SESSION_SECRET; it, and every value before it, appears nowhere.
    let rotated = try await h.run(["get", "prod", "app", "SESSION_SECRET"])
    let newValue = rotated.stdout.trimmingCharacters(in: .newlines)
    #expect(!newValue.isEmpty && newValue != SyncCommandTests.values["app/SESSION_SECRET"])
    let audit = try await h.run(["audit", "log", "--format", "json"])
    let written = served + ended.stderr + Array(audit.stdoutData)
    for value in Array(SyncCommandTests.values.values) + [newValue] {
      #expect(written.firstRange(of: Array(value.utf8)) == nil, "a value appeared in the server's output or the audit trail")
      let base64 = Array(Data(value.utf8).base64EncodedString().utf8)
      #expect(written.firstRange(of: base64) == nil, "a value appeared base64-encoded in the server's output")
    }
  }

  @Test func withoutTheKeyOnlyAuditVerifyAnswersAndNothingIsAudited() async throws {
    let h = try await CLIHarness.withIdentityVault()
    try h.writePolicy(Self.policy)
    let before = try h.json(try await h.run(["audit", "log", "--format", "json"]))["entries"] as? [Any]
    var environment = h.runEnvironment()
    environment["HOTSECRETS_IDENTITY"] = nil
    let raw = RawMCPClient(
      MCPServerProcess(
        connection: try ChildProcess.spawnConnected(CLIHarness.binary, ["mcp"], environment: environment, directory: h.directory)))
    _ = try await raw.initialize()
    let audit = try toolResult(try await raw.request(1, "tools/call", #"{"name":"audit_verify"}"#))
    let document = try #require(audit["structuredContent"] as? [String: Any])
    #expect(document["intact"] as? Bool == true)
    #expect(document["authenticated"] as? Bool == false)
    let verify = try toolResult(try await raw.request(2, "tools/call", #"{"name":"verify","arguments":{"environment":"prod"}}"#))
    #expect(verify["isError"] as? Bool == true)
    let message = (verify["content"] as? [[String: Any]])?.first?["text"] as? String ?? ""
    #expect(message.contains("needs the vault unlocked") && message.contains("--identity FILE"), "\(message)")
    let ended = await raw.server.stop()
    #expect(ended.status == 0)
    #expect(String(decoding: ended.stderr, as: UTF8.self).contains("serving without the vault's key"))
    let after = try h.json(try await h.run(["audit", "log", "--format", "json"]))["entries"] as? [Any]
    #expect(after?.count == before?.count)

    // A key that is given but does not open the vault stops the start, before any message.
    let wrong = try await h.run(["identity", "new", "--out", "other.identity"])
    try #require(wrong.status == 0)
    let refused = try await h.run(["mcp"], stdin: "", env: ["HOTSECRETS_IDENTITY": "other.identity"])
    #expect(refused.status == 2)
    #expect(refused.stdout.isEmpty)
    #expect(refused.stderr.contains("hotsecrets: error:"), "\(refused.stderr)")
    // --allow names write tools only.
    let readOnly = try await h.run(["mcp", "--allow", "verify"], stdin: "")
    #expect(readOnly.status == 64)
    #expect(readOnly.stderr.contains("verify is read-only and always offered"), "\(readOnly.stderr)")
  }

  @Test func aCallCancelledWhileQueuedIsNeverAnsweredAndIsAuditedAsCancelled() async throws {
    let h = try await CLIHarness.withIdentityVault()
    try h.writePolicy(Self.policy)
    try #require(try await h.run(["set", "prod", "app", "SESSION_SECRET"], stdin: "s3ss10n-S3cr3t-Zq8Lw0PvX1").status == 0)
    let raw = RawMCPClient(try MCPServerProcess.start(h))
    _ = try await raw.initialize()
    // Calls run one at a time: the list queued behind the verify is cancelled before it starts,
    // and the ping is answered meanwhile.
    await raw.send(
      [
        #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"verify","arguments":{"environment":"prod"}}}"#,
        #"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list","arguments":{"environment":"prod"}}}"#,
        // The same id again while call 2 has not ended: refused.
        #"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"status","arguments":{"environment":"prod"}}}"#,
        #"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":2,"reason":"test"}}"#,
        #"{"jsonrpc":"2.0","id":3,"method":"ping"}"#,
      ].joined(separator: "\n"))
    var results: Set<Int> = []
    var errors: [Int] = []
    while !results.isSuperset(of: [1, 3]) {
      let message = try await raw.next()
      let id = try #require(message["id"] as? Int)
      if errorCode(message) == -32600 { errors.append(id) } else { results.insert(id) }
    }
    let ended = await raw.server.stop()
    await raw.drain()
    #expect(ended.status == 0)
    #expect(errors == [2])
    #expect(!results.contains(2))
    #expect(raw.transcript.split(separator: UInt8(ascii: "\n")).count == 4)  // initialize, verify, the refusal, ping
    let log = try h.json(try await h.run(["audit", "log", "--format", "json"]))
    let list = (log["entries"] as? [[String: Any]])?.first { $0["action"] as? String == "mcp-list" }
    #expect((list?["detail"] as? [String: Any])?["outcome"] as? String == "cancelled")
  }

  @Test func aServerWhoseVaultWasReKeyedSaysToRestart() async throws {
    let h = try await CLIHarness.withIdentityVault()
    try #require(try await h.run(["set", "prod", "app", "SESSION_SECRET"], stdin: "s3ss10n-S3cr3t-Zq8Lw0PvX1").status == 0)
    let raw = RawMCPClient(try MCPServerProcess.start(h))
    _ = try await raw.initialize()
    let before = try toolResult(try await raw.request(1, "tools/call", #"{"name":"list","arguments":{"environment":"prod"}}"#))
    #expect(before["isError"] as? Bool == false)
    try #require(try await h.run(["rekey"]).status == 0)
    // The server's key is the replaced one: it says so, rather than calling the vault tampered with.
    let after = try toolResult(try await raw.request(2, "tools/call", #"{"name":"list","arguments":{"environment":"prod"}}"#))
    #expect(after["isError"] as? Bool == true)
    let message = (after["content"] as? [[String: Any]])?.first?["text"] as? String ?? ""
    #expect(message.hasPrefix("the vault was re-keyed since this server started"), "\(message)")
    let ended = await raw.server.stop()
    #expect(ended.status == 0)
    // The stale key wrote nothing: the chain still verifies with the new one.
    #expect(try await h.run(["audit", "verify"]).status == 0)
  }
}
