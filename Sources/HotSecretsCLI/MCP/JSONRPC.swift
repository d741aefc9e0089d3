import Foundation

/// JSON-RPC 2.0 as MCP uses it: requests (with an id), notifications (without), and the responses
/// and errors the server writes. Batches (arrays) are refused: MCP dropped them in 2025-06-18.
enum JSONRPC {
  /// A message read from the client.
  enum Message {
    case request(id: JSONValue, method: String, params: [String: JSONValue])
    case notification(method: String, params: [String: JSONValue])
    /// A response to a request of ours; the server sends none, so these are ignored.
    case response
  }

  /// A protocol error, answered as a JSON-RPC error object.
  struct Failure: Error {
    let code: Int
    let message: String
    /// The request's id when it could be read, else null (JSON-RPC 2.0, section 5).
    var id: JSONValue = .null

    static let parseErrorCode = -32700
    static let invalidRequestCode = -32600
    static let methodNotFoundCode = -32601
    static let invalidParamsCode = -32602
    static let internalErrorCode = -32603
    /// MCP's "resource not found".
    static let resourceNotFoundCode = -32002
    /// Implementation-defined (JSON-RPC's -32000 to -32099): too many calls in flight.
    static let serverBusyCode = -32000

    static func invalidRequest(_ message: String, id: JSONValue = .null) -> Failure {
      Failure(code: invalidRequestCode, message: "invalid request: " + message, id: id)
    }
    static func invalidParams(_ message: String, id: JSONValue) -> Failure {
      Failure(code: invalidParamsCode, message: message, id: id)
    }
  }

  /// Reads one line. Throws `Failure` for anything that is not a JSON-RPC 2.0 message.
  static func parse(_ line: [UInt8]) throws(Failure) -> Message {
    guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(line)) else {
      throw Failure(code: Failure.parseErrorCode, message: "parse error: the line is not JSON")
    }
    guard case .object(let object) = value else {
      if case .array = value { throw .invalidRequest("batches (JSON arrays) are not supported; send one message per line") }
      throw .invalidRequest("a message is a JSON object")
    }
    let id = object["id"]
    let validID: JSONValue? =
      switch id {
      case .string?, .int?: id
      default: nil
      }
    guard object["jsonrpc"] == .string("2.0") else {
      throw .invalidRequest("\"jsonrpc\" must be \"2.0\"", id: validID ?? .null)
    }
    guard case .string(let method)? = object["method"] else {
      if id != nil, object["result"] != nil || object["error"] != nil { return .response }
      throw .invalidRequest("no \"method\"", id: validID ?? .null)
    }
    var params: [String: JSONValue] = [:]
    switch object["params"] {
    case nil, .null?: break
    case .object(let given)?: params = given
    default: throw .invalidRequest("\"params\" must be an object", id: validID ?? .null)
    }
    guard id != nil else { return .notification(method: method, params: params) }
    guard let validID else { throw .invalidRequest("\"id\" must be a string or an integer") }
    return .request(id: validID, method: method, params: params)
  }

  /// The response carrying `result` to the request `id`.
  static func response(id: JSONValue, result: JSONValue) -> [UInt8] {
    encode(.object(["jsonrpc": .string("2.0"), "id": id, "result": result]))
  }

  /// The error response for `failure`.
  static func error(_ failure: Failure) -> [UInt8] {
    encode(
      .object([
        "jsonrpc": .string("2.0"), "id": failure.id,
        "error": .object(["code": .int(Int64(failure.code)), "message": .string(failure.message)]),
      ]))
  }

  /// A notification from the server.
  static func notification(method: String, params: JSONValue) -> [UInt8] {
    encode(.object(["jsonrpc": .string("2.0"), "method": .string(method), "params": params]))
  }

  /// `value` as one line of JSON: compact (no newline can occur outside a string, where it is
  /// escaped), keys sorted.
  static func encode(_ value: JSONValue) -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    // A JSONValue always encodes; the fallback is never written in practice.
    return (try? Array(encoder.encode(value))) ?? Array(#"{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"internal error"}}"#.utf8)
  }
}

extension JSONValue {
  /// `value` (any `Encodable`, e.g. a `--format json` document) as a JSON value.
  init(encoding value: any Encodable) throws {
    let data = try JSONEncoder().encode(value)
    self = try JSONDecoder().decode(JSONValue.self, from: data)
  }

  var stringValue: String? {
    if case .string(let text) = self { text } else { nil }
  }
}
