import FlyingFox
import FlyingSocks
import Foundation

/// An HTTP/1.1 server on 127.0.0.1 (a free port), run inside the test process, serving a `FakeRouter` or a
/// handler. Built on FlyingFox (BSD sockets and Swift concurrency); keep-alive connections and request bodies of
/// any length (`Content-Length` or chunked) are handled. Used by tests and the benchmark only; stop it with
/// `stop()`.
public final class FakeServer: Sendable {
  public let port: Int
  private let server: HTTPServer
  private let task: Task<Void, any Error>
  private let drain: RequestDrain
  /// Seconds `stop()` lets requests being handled run before cancelling them.
  private let drainTimeout: Double
  private let stopped = Locked(false)

  /// `http://127.0.0.1:PORT`
  public var baseURL: String { "http://127.0.0.1:\(port)" }

  /// The priority a fake runs at, above the tests' (medium, the default). FlyingFox's tasks inherit it (child tasks,
  /// and its unstructured `Task {}`s too, which take their creator's priority). On Linux each priority has a
  /// cooperative pool of its own, as wide as the machine: a fake answers even while every thread the tests run on
  /// is busy, e.g. with tests that compute for seconds, in parallel, in the same process. (Elsewhere its jobs are at
  /// least taken first.)
  public static let priority = TaskPriority.high

  /// Starts `router` and returns once the server listens.
  public static func start(_ router: FakeRouter) async throws -> FakeServer {
    try await start { request in await router.respond(to: request) }
  }

  /// Starts a server answering every request with `handler` and returns once it listens. A `FakeHTTPError` thrown
  /// by the handler is answered with its status (empty body), any other error with 500.
  public static func start(handler: @escaping FakeRouter.Handler) async throws -> FakeServer {
    try await start(drainTimeout: 30, handler: handler)
  }

  /// Ports a fake of this process has listened on. A new fake never takes one again: a client's pool of
  /// keep-alive connections (libcurl's, shared by the whole test process) could otherwise reuse a connection
  /// to an earlier fake that is still draining on the same port, and get that fake's answer.
  /// (The tests' PostgreSQL server registers its port here too, and takes none of these.)
  static let usedPorts = Locked(Set<Int>())

  /// `drainTimeout`: how long `stop()` waits for requests being handled before cancelling them (0: at once).
  static func start(drainTimeout: Double, handler: @escaping FakeRouter.Handler) async throws -> FakeServer {
    var refused: [FakeServer] = []
    defer { for server in refused { server.stop() } }
    for _ in 0..<64 {
      let server = try await startOnce(drainTimeout: drainTimeout, handler: handler)
      // While refused ones stay bound, the system cannot hand their ports out again.
      if usedPorts.withLock({ $0.insert(server.port).inserted }) { return server }
      refused.append(server)
    }
    throw FakeServerError.didNotStart
  }

  private static func startOnce(drainTimeout: Double, handler: @escaping FakeRouter.Handler) async throws
    -> FakeServer
  {
    let drain = RequestDrain()
    let address = try sockaddr_in.inet(ip4: "127.0.0.1", port: 0)
    // The timeout bounds each handler; the fakes' own delays decide instead.
    let config = HTTPServer.Configuration(
      address: address, timeout: 86_400, pool: NoDelayPool(base: HTTPServer.defaultPool()), logger: .disabled)
    let server = HTTPServer(config: config, handler: FakeHTTPHandler(handler: handler, drain: drain))
    let task = Task(priority: priority) { try await server.run() }
    do {
      try await server.waitUntilListening(timeout: 10)
    } catch {
      task.cancel()
      throw FakeServerError.didNotStart
    }
    guard case .ip4(_, let port)? = await server.listeningAddress, port > 0 else {
      task.cancel()
      throw FakeServerError.didNotStart
    }
    return FakeServer(port: Int(port), server: server, task: task, drain: drain, drainTimeout: drainTimeout)
  }

  private init(port: Int, server: HTTPServer, task: Task<Void, any Error>, drain: RequestDrain, drainTimeout: Double) {
    self.port = port
    self.server = server
    self.task = task
    self.drain = drain
    self.drainTimeout = drainTimeout
  }

  /// Shuts the server down and returns at once: the listening socket closes (new connections are refused), idle
  /// keep-alive connections close, requests being handled are answered first (for up to 30 s), then everything
  /// stops. Calling it again does nothing; dropping the last reference to the server does the same.
  public func stop() {
    let first = stopped.withLock { stopped in
      defer { stopped = true }
      return !stopped
    }
    guard first else { return }
    let (server, task, drain, drainTimeout) = (server, task, drain, drainTimeout)
    Task.detached(priority: Self.priority) {
      // Closes the listener and ends the connections once their current request is answered; FlyingFox's
      // accept loop only ends when the server's task is cancelled, which the drain below does.
      async let closing: Void = server.stop(timeout: drainTimeout + 5)
      await drain.waitUntilIdle(upTo: drainTimeout)
      // The last responses are written after their handler returns.
      try? await Task.sleep(for: .milliseconds(100))
      task.cancel()
      await closing
    }
  }

  deinit { stop() }
}

public enum FakeServerError: Error { case didNotStart }

/// An HTTP error a `FakeRouter.Handler` throws: answered with `status` and an empty body.
public struct FakeHTTPError: Error, Sendable, Equatable {
  public let status: Int
  public init(_ status: Int) { self.status = status }
}

/// A request to a fake server, its body read in full.
public struct FakeRequest: Sendable, Equatable {
  /// "GET", "POST", … (upper case).
  public let method: String
  /// The request target exactly as sent: "/path?query" (origin form), "http://host:port/path?query" (absolute
  /// form, as sent to a proxy) or "host:port" (CONNECT).
  public let target: String
  /// The target's path, percent-encoded as sent, without the query.
  public let path: String
  /// The raw query (after "?", percent-encoded as sent; "" when none).
  public let rawQuery: String
  /// Header fields by name as sent. A field sent more than once keeps its last value (FlyingFox's parser);
  /// use `header(_:)` for a case-insensitive look-up.
  public let headers: [String: String]
  public let body: Data
  /// Route parameters by name, percent-encoded as sent (see `parameter(_:)`); empty outside a `FakeRouter`.
  public var rawParameters: [String: String] = [:]

  public init(
    method: String, target: String, headers: [String: String] = [:], body: Data = Data()
  ) {
    self.method = method.uppercased()
    self.target = target
    let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
    self.path = parts.first.map(String.init) ?? ""
    self.rawQuery = parts.count > 1 ? String(parts[1]) : ""
    self.headers = headers
    self.body = body
  }

  /// The value of the header `name` (case-insensitive), or nil.
  public func header(_ name: String) -> String? {
    if let value = headers[name] { return value }
    return headers.first { $0.key.caseInsensitiveCompare(name) == .orderedSame }?.value
  }

  /// The route parameter `name`, percent-decoded ("" when absent).
  public func parameter(_ name: String) -> String {
    let raw = rawParameters[name] ?? ""
    return raw.removingPercentEncoding ?? raw
  }

  /// The query parameters, percent-decoded; the first of repeated names wins.
  public var query: [String: String] {
    var result: [String: String] = [:]
    for item in rawQuery.split(separator: "&") {
      let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      let name = String(pair[0]).removingPercentEncoding ?? String(pair[0])
      let value = pair.count > 1 ? (String(pair[1]).removingPercentEncoding ?? String(pair[1])) : ""
      if result[name] == nil { result[name] = value }
    }
    return result
  }

  /// The body as UTF-8 text (invalid bytes replaced).
  public var bodyText: String { String(decoding: body, as: UTF8.self) }

  /// The body parsed as a JSON object, or nil when it is not one. A body over 1 MiB throws `FakeHTTPError(413)`.
  public func jsonObject() throws -> [String: Any]? {
    guard body.count <= 1 << 20 else { throw FakeHTTPError(413) }
    return (try? JSONSerialization.jsonObject(with: body)) as? [String: Any]
  }
}

/// A fake server's answer.
public struct FakeResponse: Sendable {
  public var status: Int
  /// Header fields by name. `Content-Length` is added from the body.
  public var headers: [String: String]
  public var body: FakeBody

  public init(status: Int, headers: [String: String] = [:], body: Data = Data()) {
    self.status = status
    self.headers = headers
    self.body = .data(body)
  }

  public init(status: Int, headers: [String: String] = [:], body: FakeBody) {
    self.status = status
    self.headers = headers
    self.body = body
  }

  /// A JSON response with `status` (`Content-Type: application/json`).
  public static func json(_ object: Any, status: Int = 200) -> FakeResponse {
    let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data("{}".utf8)
    return FakeResponse(status: status, headers: ["Content-Type": "application/json"], body: data)
  }

  /// Sets the header `name` (replacing one of any case).
  public mutating func setHeader(_ name: String, _ value: String) {
    for key in headers.keys where key.caseInsensitiveCompare(name) == .orderedSame { headers[key] = nil }
    headers[name] = value
  }
}

/// A response body.
public enum FakeBody: Sendable {
  /// Sent with `Content-Length`.
  case data(Data)
  /// Sent with `Transfer-Encoding: chunked` (no `Content-Length`).
  case chunked(Data)
}

/// Routes of a fake server: "METHOD /path/{param}/…" patterns, matched on the path as sent (percent-encoded) split
/// at "/" (empty segments ignored). A path matching several patterns goes to the one whose first differing
/// segment is a literal rather than a parameter; a path matching a pattern that lacks the method, or none, is
/// answered 404 (empty body).
public final class FakeRouter: Sendable {
  public typealias Handler = @Sendable (FakeRequest) async throws -> FakeResponse

  private enum Segment: Sendable, Equatable {
    case literal(String)
    case parameter(String)
  }

  private struct Route: Sendable {
    let pattern: [Segment]
    var handlers: [String: Handler]
  }

  private let routes = Locked<[Route]>([])

  public init() {}

  public func get(_ path: String, use handler: @escaping Handler) { on("GET", path, use: handler) }
  public func post(_ path: String, use handler: @escaping Handler) { on("POST", path, use: handler) }
  public func put(_ path: String, use handler: @escaping Handler) { on("PUT", path, use: handler) }
  public func delete(_ path: String, use handler: @escaping Handler) { on("DELETE", path, use: handler) }

  /// Answers `method` requests to `path` ("/a/{name}/b") with `handler`.
  public func on(_ method: String, _ path: String, use handler: @escaping Handler) {
    let pattern = path.split(separator: "/").map { segment -> Segment in
      segment.hasPrefix("{") && segment.hasSuffix("}")
        ? .parameter(String(segment.dropFirst().dropLast())) : .literal(String(segment))
    }
    routes.withLock { routes in
      if let index = routes.firstIndex(where: { $0.pattern == pattern }) {
        routes[index].handlers[method.uppercased()] = handler
      } else {
        routes.append(Route(pattern: pattern, handlers: [method.uppercased(): handler]))
      }
    }
  }

  /// The response of the route for `request` (404 when none).
  public func respond(to request: FakeRequest) async -> FakeResponse {
    let segments = request.path.split(separator: "/").map(String.init)
    let matched = routes.withLock { routes -> (Route, [String: String])? in
      var best: (route: Route, parameters: [String: String])?
      for route in routes where route.pattern.count == segments.count {
        var parameters: [String: String] = [:]
        var matches = true
        for (segment, text) in zip(route.pattern, segments) {
          switch segment {
          case .literal(let literal): matches = literal == text
          case .parameter(let name): parameters[name] = text
          }
          if !matches { break }
        }
        guard matches else { continue }
        if let current = best, !Self.moreSpecific(route.pattern, than: current.route.pattern) { continue }
        best = (route, parameters)
      }
      return best
    }
    guard let (route, parameters) = matched, let handler = route.handlers[request.method] else {
      return FakeResponse(status: 404)
    }
    var request = request
    request.rawParameters = parameters
    return await Self.run(handler, request)
  }

  /// `handler`'s response; a thrown `FakeHTTPError` becomes its status, any other error 500 (empty bodies).
  static func run(_ handler: Handler, _ request: FakeRequest) async -> FakeResponse {
    do {
      return try await handler(request)
    } catch let error as FakeHTTPError {
      return FakeResponse(status: error.status)
    } catch {
      return FakeResponse(status: 500)
    }
  }

  private static func moreSpecific(_ lhs: [Segment], than rhs: [Segment]) -> Bool {
    for (left, right) in zip(lhs, rhs) {
      switch (left, right) {
      case (.literal, .parameter): return true
      case (.parameter, .literal): return false
      default: continue
      }
    }
    return false
  }
}

/// FlyingFox's socket pool, setting `TCP_NODELAY` on every socket it waits for: the listening socket first (the
/// connections it accepts inherit the option on Linux), then each connection. FlyingFox writes a response's head
/// and body separately, and without it Nagle's algorithm held the body back until the client's delayed ACK:
/// 40 ms a request.
struct NoDelayPool: AsyncSocketPool {
  let base: any AsyncSocketPool

  func prepare() async throws { try await base.prepare() }
  func run() async throws { try await base.run() }

  func suspendSocket(_ socket: Socket, untilReadyFor events: Socket.Events) async throws {
    var on: Int32 = 1
    _ = setsockopt(socket.file.rawValue, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
    try await base.suspendSocket(socket, untilReadyFor: events)
  }
}

/// Counts the requests being handled, so a stopping server can let them finish.
final class RequestDrain: Sendable {
  private let inFlight = Locked(0)

  func enter() { inFlight.withLock { $0 += 1 } }
  func leave() { inFlight.withLock { $0 -= 1 } }

  /// Returns once no request is being handled, or after `seconds`.
  func waitUntilIdle(upTo seconds: Double) async {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while inFlight.current > 0, ContinuousClock.now < deadline {
      try? await Task.sleep(for: .milliseconds(20))
    }
  }
}

/// The FlyingFox side of a fake: reads the body, calls the handler, encodes the response.
struct FakeHTTPHandler: HTTPHandler {
  let handler: FakeRouter.Handler
  let drain: RequestDrain

  func handleRequest(_ request: HTTPRequest) async throws -> HTTPResponse {
    drain.enter()
    defer { drain.leave() }
    let body = try await request.bodyData
    var headers: [String: String] = [:]
    for (name, value) in request.headers { headers[name.rawValue] = value }
    let fake = FakeRequest(
      method: request.method.rawValue, target: request.target.rawValue, headers: headers, body: body)
    let response = await FakeRouter.run(handler, fake)
    return response.httpResponse
  }
}

extension FakeResponse {
  var httpResponse: HTTPResponse {
    var fields = HTTPHeaders()
    for (name, value) in headers where name.caseInsensitiveCompare("Content-Length") != .orderedSame {
      fields.addValue(value, for: HTTPHeader(name))
    }
    let statusCode = HTTPStatusCode(status, phrase: Self.reasonPhrase(status))
    switch body {
    case .data(let data):
      return HTTPResponse(statusCode: statusCode, headers: fields, body: data)
    case .chunked(let data):
      return HTTPResponse(statusCode: statusCode, headers: fields, body: HTTPBodySequence(from: DataSlices(data: data)))
    }
  }

  static func reasonPhrase(_ status: Int) -> String {
    let phrases = [
      200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 301: "Moved Permanently", 302: "Found",
      303: "See Other", 304: "Not Modified", 307: "Temporary Redirect", 308: "Permanent Redirect",
      400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
      408: "Request Timeout", 409: "Conflict", 413: "Content Too Large", 422: "Unprocessable Content",
      429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
      504: "Gateway Timeout",
    ]
    return phrases[status] ?? "Status \(status)"
  }
}

/// A body sent in slices of at most 64 KiB, as an async buffered sequence (for a chunked response).
struct DataSlices: AsyncBufferedSequence {
  typealias Element = UInt8
  let data: Data

  func makeAsyncIterator() -> Iterator { Iterator(data: data, offset: data.startIndex) }

  struct Iterator: AsyncBufferedIteratorProtocol {
    let data: Data
    var offset: Data.Index

    mutating func next() async throws -> UInt8? {
      guard offset < data.endIndex else { return nil }
      defer { offset += 1 }
      return data[offset]
    }

    mutating func nextBuffer(suggested count: Int) async throws -> Data? {
      guard offset < data.endIndex else { return nil }
      let end = offset + Swift.min(Swift.max(count, 1), 64 * 1024, data.endIndex - offset)
      defer { offset = end }
      return data[offset..<end]
    }
  }
}

/// A plain listening TCP socket on 127.0.0.1 (the kernel completes connections in its backlog;
/// nothing is accepted). For TCP reachability checks without an HTTP server.
public final class LoopbackListener: @unchecked Sendable {
  public let port: Int
  private let fd: Int32

  public init() throws {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    self.fd = fd
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &address) { pointer in
      pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
        bind(fd, raw, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, raw, &length) == 0
      }
    }
    guard fd >= 0, ok else { throw FakeServerError.didNotStart }
    port = Int(UInt16(bigEndian: address.sin_port))
  }

  deinit { close(fd) }
}

/// A loopback TCP port nothing listens on: connecting to it is refused. The port stays bound (not listening) for the
/// rest of the process, so no fake started later, in parallel, can be given it. (Tests never use a stopped fake for
/// this: its port could be taken again by another fake.)
public func closedLoopbackPort() -> Int {
  let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
  guard fd >= 0 else { return 9 }
  _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
  var address = sockaddr_in()
  address.sin_family = sa_family_t(AF_INET)
  address.sin_port = 0
  address.sin_addr.s_addr = inet_addr("127.0.0.1")
  var length = socklen_t(MemoryLayout<sockaddr_in>.size)
  let bound = withUnsafeMutablePointer(to: &address) { pointer in
    pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
      bind(fd, raw, length) == 0 && getsockname(fd, raw, &length) == 0
    }
  }
  guard bound else {
    close(fd)
    return 9
  }
  return Int(UInt16(bigEndian: address.sin_port))  // `fd` is never closed: it holds the port
}

/// How a fake endpoint misbehaves.
public enum Fault: Sendable, Equatable {
  case none
  /// Answer with this status and a JSON error body.
  case status(Int)
  /// Wait this long before answering normally.
  case delay(Double)
}

/// Thread-safe mutable state for fakes.
public final class Locked<Value: Sendable>: @unchecked Sendable {
  private let lock = NSLock()
  private var value: Value
  public init(_ value: Value) { self.value = value }
  public func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
    lock.lock()
    defer { lock.unlock() }
    return try body(&value)
  }
  public var current: Value { withLock { $0 } }
}
