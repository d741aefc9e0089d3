import Foundation

// Small single-purpose loopback servers for HTTP client tests: an error that echoes what it was sent, a redirect,
// a recorder, a server that is slow or never answers, and one with a huge body. Each records the requests it saw
// (`requests`, as `FakeRequest`s: method, target as sent, headers, body) and is stopped with `stop()`.

/// The requests a fake saw, in arrival order.
final class RequestLog: Sendable {
  private let entries = Locked<[FakeRequest]>([])
  func append(_ request: FakeRequest) { entries.withLock { $0.append(request) } }
  var all: [FakeRequest] { entries.current }
  func clear() { entries.withLock { $0 = [] } }
}

/// The shape of a fake's JSON error body.
public enum ErrorBodyStyle: Sendable, Equatable {
  /// Fly.io's `{"error": "…"}` (Shopify and Chatwoot too).
  case fly
  /// GitHub's `{"message": "…"}` (Supabase too).
  case github
  /// OpenAI's `{"error": {"message": "…", "type": "invalid_request_error", "code": null}}`.
  case openAI

  /// `message` as a JSON error body of this style.
  public func body(_ message: String) -> Data {
    let object: [String: Any] =
      switch self {
      case .fly: ["error": message]
      case .github: ["message": message]
      case .openAI: ["error": ["message": message, "type": "invalid_request_error", "code": NSNull()] as [String: Any]]
      }
    return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
  }
}

/// A server that answers every request with one error status and a JSON error body whose message quotes what it
/// was sent: the start of the raw request body and of each credential header present (`Authorization`,
/// `api_access_token`, `apikey`, `X-Shopify-Access-Token`), each cut to `echoLength` characters — the way some
/// real APIs echo input in their errors. For tests that a client never shows more of a secret than it should.
///
/// The message reads `rejected: body "<body>"; Authorization "<value>"; apikey "<value>"` (headers in the order
/// of `echoedHeaders`, only those sent); see `message(for:echoLength:)`.
public final class FakeEcho: Sendable {
  /// The headers whose values are quoted, in this order.
  public static let echoedHeaders = ["Authorization", "api_access_token", "apikey", "X-Shopify-Access-Token"]

  public let server: FakeServer
  /// `http://127.0.0.1:PORT`
  public var baseURL: String { server.baseURL }
  private let log: RequestLog
  private let sent: Locked<[String]>

  private init(server: FakeServer, log: RequestLog, sent: Locked<[String]>) {
    self.server = server
    self.log = log
    self.sent = sent
  }

  /// Starts the fake: every request is answered `status` with a `style` error body; quotes are cut to `echoLength`
  /// characters (`Int.max`: whole). `headers` are added to every response (e.g. `["Retry-After": "1"]`).
  public static func start(
    status: Int = 401, style: ErrorBodyStyle = .fly, echoLength: Int = 12, headers: [String: String] = [:]
  ) async throws -> FakeEcho {
    let log = RequestLog()
    let sent = Locked<[String]>([])
    let server = try await FakeServer.start { request in
      log.append(request)
      let text = Self.message(for: request, echoLength: echoLength)
      sent.withLock { $0.append(text) }
      var fields = headers
      fields["Content-Type"] = "application/json"
      return FakeResponse(status: status, headers: fields, body: style.body(text))
    }
    return FakeEcho(server: server, log: log, sent: sent)
  }

  /// The message the fake answers `request` with.
  public static func message(for request: FakeRequest, echoLength: Int) -> String {
    func cut(_ text: String) -> String { String(text.prefix(max(0, echoLength))) }
    var parts = ["body \"\(cut(request.bodyText))\""]
    for name in echoedHeaders {
      if let value = request.header(name) { parts.append("\(name) \"\(cut(value))\"") }
    }
    return "rejected: " + parts.joined(separator: "; ")
  }

  /// The requests seen, in order.
  public var requests: [FakeRequest] { log.all }
  /// The error messages sent, in order (one per request).
  public var messages: [String] { sent.current }

  public func stop() { server.stop() }
}

/// A server that answers every request with a redirect: `status` (301, 302, 303, 307, 308) and `Location`.
public final class FakeRedirect: Sendable {
  public let server: FakeServer
  /// `http://127.0.0.1:PORT`
  public var baseURL: String { server.baseURL }
  private let log: RequestLog

  private init(server: FakeServer, log: RequestLog) {
    self.server = server
    self.log = log
  }

  /// Starts the fake. `Location` is `location`, followed by the request's target ("/path?query") when
  /// `appendingTarget` (so `location: other.baseURL` sends the client to the same path on `other`).
  public static func start(status: Int = 302, location: String, appendingTarget: Bool = false) async throws
    -> FakeRedirect
  {
    let log = RequestLog()
    let server = try await FakeServer.start { request in
      log.append(request)
      let target = appendingTarget ? location + request.target : location
      return FakeResponse(status: status, headers: ["Location": target])
    }
    return FakeRedirect(server: server, log: log)
  }

  /// The requests seen, in order.
  public var requests: [FakeRequest] { log.all }

  public func stop() { server.stop() }
}

/// A server that answers every request with one status and JSON body (200 `{}` by default) and records it: a
/// redirect's target, or proof that a server saw no request at all (`requests.isEmpty`).
public final class FakeRecorder: Sendable {
  public let server: FakeServer
  /// `http://127.0.0.1:PORT`
  public var baseURL: String { server.baseURL }
  private let log: RequestLog

  private init(server: FakeServer, log: RequestLog) {
    self.server = server
    self.log = log
  }

  /// Starts the fake; `json` is any `JSONSerialization` object (serialized once, now).
  public static func start(status: Int = 200, json: Any = [String: Any]()) async throws -> FakeRecorder {
    let body = (try? JSONSerialization.data(withJSONObject: json)) ?? Data("{}".utf8)
    let log = RequestLog()
    let server = try await FakeServer.start { request in
      log.append(request)
      return FakeResponse(status: status, headers: ["Content-Type": "application/json"], body: body)
    }
    return FakeRecorder(server: server, log: log)
  }

  /// The requests seen, in order.
  public var requests: [FakeRequest] { log.all }

  /// Forgets the requests seen.
  public func reset() { log.clear() }

  public func stop() { server.stop() }
}

/// A server that reads each request and then answers late, or never — for client timeout tests. `stop()` ends
/// the waiting requests at once: a client still waiting then gets an empty 500 (FlyingFox answers a cancelled
/// handler so) and the connection closes. (For a server that does not even accept the connection, use
/// `LoopbackListener`.)
public final class FakeSlow: Sendable {
  public let server: FakeServer
  /// `http://127.0.0.1:PORT`
  public var baseURL: String { server.baseURL }
  private let log: RequestLog

  private init(server: FakeServer, log: RequestLog) {
    self.server = server
    self.log = log
  }

  /// Starts the fake: each request is answered `status` with `{}` after `answerAfter` seconds, or never (until
  /// `stop()`) when nil.
  public static func start(answerAfter seconds: Double? = nil, status: Int = 200) async throws -> FakeSlow {
    let log = RequestLog()
    let server = try await FakeServer.start(drainTimeout: 0) { request in
      log.append(request)
      if let seconds {
        try await Task.sleep(for: .seconds(seconds))
      } else {
        while true { try await Task.sleep(for: .seconds(3600)) }
      }
      return FakeResponse(status: status, headers: ["Content-Type": "application/json"], body: Data("{}".utf8))
    }
    return FakeSlow(server: server, log: log)
  }

  /// The requests received (each logged as soon as it was read, before the wait).
  public var requests: [FakeRequest] { log.all }

  public func stop() { server.stop() }
}

/// A server that answers every request 200 with a body of exactly `bytes` bytes — for a response size cap test.
/// The body is a valid JSON object (`{"pad":"xxxx…"}`) when `bytes` ≥ 10, so only a cap, not a parse error, can
/// reject it.
public final class FakeHuge: Sendable {
  public let server: FakeServer
  /// `http://127.0.0.1:PORT`
  public var baseURL: String { server.baseURL }
  /// The body's length in bytes.
  public let bytes: Int
  private let log: RequestLog

  private init(server: FakeServer, bytes: Int, log: RequestLog) {
    self.server = server
    self.bytes = bytes
    self.log = log
  }

  /// Starts the fake. `chunked`: the body is sent with `Transfer-Encoding: chunked` (no `Content-Length`, so the
  /// client learns the size only while reading).
  public static func start(bytes: Int = 9 << 20, chunked: Bool = false) async throws -> FakeHuge {
    let body = Self.body(bytes)
    let log = RequestLog()
    let server = try await FakeServer.start { request in
      log.append(request)
      return FakeResponse(
        status: 200, headers: ["Content-Type": "application/json"], body: chunked ? .chunked(body) : .data(body))
    }
    return FakeHuge(server: server, bytes: body.count, log: log)
  }

  static func body(_ bytes: Int) -> Data {
    let shell = Data(#"{"pad":""}"#.utf8)
    guard bytes >= shell.count else { return Data(repeating: UInt8(ascii: "x"), count: max(0, bytes)) }
    return Data(#"{"pad":""#.utf8) + Data(repeating: UInt8(ascii: "x"), count: bytes - shell.count) + Data(#""}"#.utf8)
  }

  /// The requests seen, in order.
  public var requests: [FakeRequest] { log.all }

  public func stop() { server.stop() }
}
