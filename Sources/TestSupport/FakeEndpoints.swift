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

/// A loopback server that records every request before its handler answers it: what the single-purpose fakes
/// below share.
public final class RecordingServer: Sendable {
  public let server: FakeServer
  let log: RequestLog

  private init(server: FakeServer, log: RequestLog) {
    self.server = server
    self.log = log
  }

  /// Starts `handler` behind a request log; `drainTimeout` as for `FakeServer`.
  static func start(drainTimeout: Double = 30, _ handler: @escaping FakeRouter.Handler) async throws -> RecordingServer {
    let log = RequestLog()
    let server = try await FakeServer.start(drainTimeout: drainTimeout) { request in
      log.append(request)
      return try await handler(request)
    }
    return RecordingServer(server: server, log: log)
  }
}

/// A fake built on a `RecordingServer`: its address, the requests it saw, and `stop()`.
public protocol RecordingFake: Sendable {
  var recording: RecordingServer { get }
}

extension RecordingFake {
  public var server: FakeServer { recording.server }
  /// `http://127.0.0.1:PORT`
  public var baseURL: String { server.baseURL }
  /// The requests seen, in order.
  public var requests: [FakeRequest] { recording.log.all }
  public func stop() { server.stop() }
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
public final class FakeEcho: RecordingFake {
  /// The headers whose values are quoted, in this order.
  public static let echoedHeaders = ["Authorization", "api_access_token", "apikey", "X-Shopify-Access-Token"]

  public let recording: RecordingServer
  private let sent: Locked<[String]>

  private init(recording: RecordingServer, sent: Locked<[String]>) {
    self.recording = recording
    self.sent = sent
  }

  /// Starts the fake: every request is answered `status` with a `style` error body; quotes are cut to `echoLength`
  /// characters (`Int.max`: whole). `headers` are added to every response (e.g. `["Retry-After": "1"]`).
  public static func start(
    status: Int = 401, style: ErrorBodyStyle = .fly, echoLength: Int = 12, headers: [String: String] = [:]
  ) async throws -> FakeEcho {
    let sent = Locked<[String]>([])
    let recording = try await RecordingServer.start { request in
      let text = Self.message(for: request, echoLength: echoLength)
      sent.withLock { $0.append(text) }
      var fields = headers
      fields["Content-Type"] = "application/json"
      return FakeResponse(status: status, headers: fields, body: style.body(text))
    }
    return FakeEcho(recording: recording, sent: sent)
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

  /// The error messages sent, in order (one per request).
  public var messages: [String] { sent.current }
}

/// A server that answers every request with a redirect: `status` (301, 302, 303, 307, 308) and `Location`.
public final class FakeRedirect: RecordingFake {
  public let recording: RecordingServer

  private init(recording: RecordingServer) { self.recording = recording }

  /// Starts the fake. `Location` is `location`, followed by the request's target ("/path?query") when
  /// `appendingTarget` (so `location: other.baseURL` sends the client to the same path on `other`).
  public static func start(status: Int = 302, location: String, appendingTarget: Bool = false) async throws
    -> FakeRedirect
  {
    FakeRedirect(
      recording: try await RecordingServer.start { request in
        let target = appendingTarget ? location + request.target : location
        return FakeResponse(status: status, headers: ["Location": target])
      })
  }
}

/// A server that answers every request with one status and JSON body (200 `{}` by default) and records it: a
/// redirect's target, or proof that a server saw no request at all (`requests.isEmpty`).
public final class FakeRecorder: RecordingFake {
  public let recording: RecordingServer

  private init(recording: RecordingServer) { self.recording = recording }

  /// Starts the fake; `json` is any `JSONSerialization` object (serialized once, now).
  public static func start(status: Int = 200, json: Any = [String: Any]()) async throws -> FakeRecorder {
    let body = (try? JSONSerialization.data(withJSONObject: json)) ?? Data("{}".utf8)
    return FakeRecorder(
      recording: try await RecordingServer.start { _ in
        FakeResponse(status: status, headers: ["Content-Type": "application/json"], body: body)
      })
  }

  /// Forgets the requests seen.
  public func reset() { recording.log.clear() }
}

/// A server that reads each request and then answers late, or never — for client timeout tests. `stop()` ends
/// the waiting requests at once: a client still waiting then gets an empty 500 (FlyingFox answers a cancelled
/// handler so) and the connection closes. (For a server that does not even accept the connection, use
/// `LoopbackListener`.)
public final class FakeSlow: RecordingFake {
  /// Its requests are logged as soon as they are read, before the wait.
  public let recording: RecordingServer

  private init(recording: RecordingServer) { self.recording = recording }

  /// Starts the fake: each request is answered `status` with `{}` after `answerAfter` seconds, or never (until
  /// `stop()`) when nil.
  public static func start(answerAfter seconds: Double? = nil, status: Int = 200) async throws -> FakeSlow {
    let recording = try await RecordingServer.start(drainTimeout: 0) { _ in
      if let seconds {
        try await Task.sleep(for: .seconds(seconds))
      } else {
        while true { try await Task.sleep(for: .seconds(3600)) }
      }
      return FakeResponse(status: status, headers: ["Content-Type": "application/json"], body: Data("{}".utf8))
    }
    return FakeSlow(recording: recording)
  }
}

/// A server that answers every request 200 with a body of exactly `bytes` bytes — for a response size cap test.
/// The body is a valid JSON object (`{"pad":"xxxx…"}`) when `bytes` ≥ 10, so only a cap, not a parse error, can
/// reject it.
public final class FakeHuge: RecordingFake {
  public let recording: RecordingServer
  /// The body's length in bytes.
  public let bytes: Int

  private init(recording: RecordingServer, bytes: Int) {
    self.recording = recording
    self.bytes = bytes
  }

  /// Starts the fake. `chunked`: the body is sent with `Transfer-Encoding: chunked` (no `Content-Length`, so the
  /// client learns the size only while reading).
  public static func start(bytes: Int = 9 << 20, chunked: Bool = false) async throws -> FakeHuge {
    let body = Self.body(bytes)
    let recording = try await RecordingServer.start { _ in
      FakeResponse(
        status: 200, headers: ["Content-Type": "application/json"], body: chunked ? .chunked(body) : .data(body))
    }
    return FakeHuge(recording: recording, bytes: body.count)
  }

  static func body(_ bytes: Int) -> Data {
    let shell = Data(#"{"pad":""}"#.utf8)
    guard bytes >= shell.count else { return Data(repeating: UInt8(ascii: "x"), count: max(0, bytes)) }
    return Data(#"{"pad":""#.utf8) + Data(repeating: UInt8(ascii: "x"), count: bytes - shell.count) + Data(#""}"#.utf8)
  }
}
