import Foundation
import Hummingbird
import Logging
import NIOCore

/// An HTTP server on 127.0.0.1 (a free port), run inside the test process, serving a router.
/// Used by tests and the benchmark only; stop it with `stop()`.
public final class FakeServer: Sendable {
  public let port: Int
  private let task: Task<Void, Error>

  /// `http://127.0.0.1:PORT`
  public var baseURL: String { "http://127.0.0.1:\(port)" }

  /// Starts `router` and returns once the server listens.
  public static func start(_ router: Router<BasicRequestContext>) async throws -> FakeServer {
    let (stream, continuation) = AsyncStream<Int>.makeStream()
    var logger = Logger(label: "fake-server")
    logger.logLevel = .critical
    let app = Application(
      router: router,
      configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "fake"),
      onServerRunning: { channel in
        continuation.yield(channel.localAddress?.port ?? 0)
        continuation.finish()
      },
      logger: logger)
    let task = Task { try await app.run() }
    var port = 0
    for await value in stream {
      port = value
      break
    }
    guard port > 0 else {
      task.cancel()
      throw FakeServerError.didNotStart
    }
    return FakeServer(port: port, task: task)
  }

  private init(port: Int, task: Task<Void, Error>) {
    self.port = port
    self.task = task
  }

  /// Shuts the server down.
  public func stop() { task.cancel() }

  deinit { task.cancel() }
}

public enum FakeServerError: Error { case didNotStart }

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

/// A loopback TCP port nothing listens on: bound once to learn a free port, then closed. (Connecting
/// to a fake server while it shuts down can crash SwiftNIO, so tests never use a stopped one.)
public func closedLoopbackPort() -> Int {
  let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
  guard fd >= 0 else { return 9 }
  defer { close(fd) }
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
  return bound ? Int(UInt16(bigEndian: address.sin_port)) : 9
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

extension Response {
  /// A JSON response with `status`.
  public static func json(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
    let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data("{}".utf8)
    return Response(
      status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
  }
}
