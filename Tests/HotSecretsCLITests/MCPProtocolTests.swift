import Foundation
import Testing

@testable import HotSecretsCLI

/// The MCP server's parts in process: line framing, JSON-RPC parsing, tool argument checks.
@Suite struct MCPProtocolTests {
  /// What `MessageChannel.readLines` delivers for `bytes` read from a file (64 KiB reads).
  static func lines(of bytes: [UInt8]) throws -> [MessageChannel.Incoming] {
    let path = FileManager.default.temporaryDirectory.path + "/mcp-lines-\(UUID().uuidString)"
    defer { unlink(path) }
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    let fd = open(path, O_RDONLY)
    defer { close(fd) }
    var delivered: [MessageChannel.Incoming] = []
    MessageChannel.readLines(from: fd) { delivered.append($0) }
    return delivered
  }

  static func text(_ incoming: [MessageChannel.Incoming]) -> [String] {
    incoming.map {
      switch $0 {
      case .line(let bytes): String(decoding: bytes, as: UTF8.self)
      case .oversized: "<oversized>"
      }
    }
  }

  @Test func linesAreSplitAtNewlinesWhateverTheReads() throws {
    let long = String(repeating: "b", count: 200_000)  // spans several reads
    let input = "a\r\n\(long)\nc\n\nlast without newline"
    #expect(Self.text(try Self.lines(of: Array(input.utf8))) == ["a", long, "c", "", "last without newline"])
  }

  @Test func aLineOverTheLimitIsReportedOnceAndSkippedToItsNewline() throws {
    let limit = MessageChannel.maximumLineBytes
    let exactly = String(repeating: "x", count: limit)
    let over = String(repeating: "y", count: limit + 1)
    let huge = String(repeating: "z", count: 3 * limit + 12_345)
    let input = "\(exactly)\nfirst\n\(over)\nsecond\n\(huge)\nthird\n\(huge)"
    let got = Self.text(try Self.lines(of: Array(input.utf8)))
    #expect(got.count == 7)
    #expect(got[0] == exactly)
    #expect(Array(got[1...]) == ["first", "<oversized>", "second", "<oversized>", "third", "<oversized>"])
  }

  @Test func messagesAreParsedAsJSONRPC2() throws {
    func parse(_ text: String) -> Result<JSONRPC.Message, JSONRPC.Failure> {
      Result { () throws(JSONRPC.Failure) in try JSONRPC.parse(Array(text.utf8)) }
    }
    guard case .success(.request(let id, let method, let params)) = parse(
      #"{"jsonrpc":"2.0","id":"a-1","method":"tools/call","params":{"name":"list"}}"#)
    else { Issue.record("not a request"); return }
    #expect(id == .string("a-1") && method == "tools/call" && params["name"] == .string("list"))
    guard case .success(.notification(let name, _)) = parse(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
    else { Issue.record("not a notification"); return }
    #expect(name == "notifications/initialized")
    guard case .success(.response) = parse(#"{"jsonrpc":"2.0","id":4,"result":{}}"#) else {
      Issue.record("not a response")
      return
    }
    let failures: [(String, Int, JSONValue)] = [
      ("{", -32700, .null),
      (#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#, -32600, .null),
      (#""just a string""#, -32600, .null),
      (#"{"id":2,"method":"ping"}"#, -32600, .int(2)),
      (#"{"jsonrpc":"2.0","id":3}"#, -32600, .int(3)),
      (#"{"jsonrpc":"2.0","id":true,"method":"ping"}"#, -32600, .null),
      (#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#, -32600, .null),
      (#"{"jsonrpc":"2.0","id":5,"method":"ping","params":[1]}"#, -32600, .int(5)),
    ]
    for (text, code, id) in failures {
      guard case .failure(let failure) = parse(text) else {
        Issue.record("\(text) was accepted")
        continue
      }
      #expect(failure.code == code, "\(text)")
      #expect(failure.id == id, "\(text)")
    }
  }

  @Test func responsesAreOneLineWithSortedKeys() {
    let line = JSONRPC.response(id: .int(1), result: .object(["b": .string("x\ny"), "a": .array([])]))
    #expect(String(decoding: line, as: UTF8.self) == #"{"id":1,"jsonrpc":"2.0","result":{"a":[],"b":"x\ny"}}"#)
    #expect(!line.contains(UInt8(ascii: "\n")))
    let error = JSONRPC.error(.invalidRequest("bad"))
    #expect(String(decoding: error, as: UTF8.self) == #"{"error":{"code":-32600,"message":"invalid request: bad"},"id":null,"jsonrpc":"2.0"}"#)
  }

  @Test func toolArgumentsAreCheckedAgainstTheSchema() throws {
    func message(_ tool: Tool, _ arguments: [String: JSONValue]) -> String? {
      do {
        _ = try tool.check(arguments)
        return nil
      } catch {
        return error.message
      }
    }
    #expect(message(.verify, ["environment": .string("prod"), "live": .bool(true)]) == nil)
    #expect(message(.verify, [:]) == "missing argument 'environment'")
    #expect(message(.verify, ["environment": .string("prod"), "live": .string("yes")]) == "argument 'live' must be true or false")
    #expect(message(.syncPlan, ["environment": .string("prod"), "target": .string("heroku")]) == "argument 'target' must be one of fly, github, all")
    #expect(message(.rotationPlan, ["environment": .string("prod"), "keys": .array([.int(1)])]) == "argument 'keys' must be an array of strings")
    #expect(message(.auditVerify, ["environment": .string("prod")]) == "unknown argument 'environment'; audit_verify takes no arguments")
    // null is as good as absent.
    #expect(message(.list, ["environment": .null]) == nil)
    // Every tool's listing carries a closed input schema and its output's fields.
    for tool in Tool.allCases {
      guard case .object(let listing) = tool.listing, case .object(let input)? = listing["inputSchema"] else {
        Issue.record("\(tool.rawValue) has no input schema")
        continue
      }
      #expect(input["additionalProperties"] == .bool(false))
      #expect(listing["outputSchema"] != nil)
    }
  }
}
