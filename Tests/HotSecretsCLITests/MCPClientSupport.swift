import Foundation
import MCP
import SystemPackage
import TestSupport
import Testing

/// `hotsecrets mcp` started in a harness's directory, with its stdin and stdout as pipes.
struct MCPServerProcess {
  let connection: ChildProcess.Connection

  static func start(_ h: CLIHarness, _ arguments: [String] = [], env extra: [String: String] = [:]) throws -> Self {
    Self(
      connection: try ChildProcess.spawnConnected(
        CLIHarness.binary, ["mcp"] + arguments, environment: h.runEnvironment(extra), directory: h.directory))
  }

  /// The official SDK's client over the pipes; `connect` on it performs `initialize`.
  func sdkTransport() -> StdioTransport {
    StdioTransport(
      input: FileDescriptor(rawValue: connection.output), output: FileDescriptor(rawValue: connection.input))
  }

  /// Closes the server's stdin (the client going away) and awaits its exit; the read end of its
  /// stdout is closed too.
  func stop() async -> ChildOutput {
    close(connection.input)
    let output = await connection.process.output()
    close(connection.output)
    return output
  }
}

/// A JSON-RPC client that writes raw lines and reads every byte the server writes, for protocol
/// tests and for "no value in any byte" checks. Reads and writes run on threads of their own (the
/// pipes are non-blocking; a wait never holds a Swift-concurrency thread).
final class RawMCPClient: @unchecked Sendable {
  let server: MCPServerProcess
  private let lock = NSLock()
  private var pending: [UInt8] = []
  /// Every byte read from the server's stdout so far.
  private(set) var transcript: [UInt8] = []

  init(_ server: MCPServerProcess) { self.server = server }

  /// Writes `bytes` (a newline is not added).
  func write(_ bytes: [UInt8]) async {
    let fd = server.connection.input
    await onDedicatedThread {
      var offset = 0
      while offset < bytes.count {
        var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        _ = poll(&entry, 1, 10_000)
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
        if n > 0 { offset += n } else if n < 0, errno != EAGAIN, errno != EINTR { return }
      }
    }
  }

  func send(_ line: String) async { await write(Array((line + "\n").utf8)) }

  /// Sends a request and returns the response with its id.
  func request(_ id: Int, _ method: String, _ params: String = "{}") async throws -> [String: Any] {
    await send(#"{"jsonrpc":"2.0","id":\#(id),"method":"\#(method)","params":\#(params)}"#)
    return try await next()
  }

  /// Performs `initialize` and `notifications/initialized`.
  func initialize(version: String = "2025-06-18") async throws -> [String: Any] {
    let response = try await request(
      0, "initialize",
      #"{"protocolVersion":"\#(version)","capabilities":{},"clientInfo":{"name":"raw-test","version":"9.9"}}"#)
    await send(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
    return response
  }

  /// The next message the server writes, as a JSON object; fails after `timeout` seconds.
  func next(timeout: Double = 20) async throws -> [String: Any] {
    let line = try #require(await nextLine(timeout: timeout), "no message from the server within \(timeout) s")
    return try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
  }

  /// The next line, or nil at end of output or after `timeout` seconds.
  func nextLine(timeout: Double = 20) async -> [UInt8]? {
    let fd = server.connection.output
    return await onDedicatedThread { [self] in
      let deadline = Date().addingTimeInterval(timeout)
      var chunk = [UInt8](repeating: 0, count: 65536)
      while true {
        if let line = takeLine() { return line }
        let left = deadline.timeIntervalSinceNow
        if left <= 0 { return nil }
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        _ = poll(&entry, 1, Int32(left * 1000) + 1)
        let n = read(fd, &chunk, chunk.count)
        if n == 0 { return nil }
        if n > 0 { append(chunk[0..<n]) }
      }
    }
  }

  /// Reads whatever else the server writes until it closes its stdout.
  func drain() async {
    let fd = server.connection.output
    await onDedicatedThread { [self] in
      var chunk = [UInt8](repeating: 0, count: 65536)
      while true {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        _ = poll(&entry, 1, 20_000)
        let n = read(fd, &chunk, chunk.count)
        if n > 0 { append(chunk[0..<n]) } else if n == 0 || (errno != EAGAIN && errno != EINTR) { return }
      }
    }
  }

  private func append(_ bytes: ArraySlice<UInt8>) {
    lock.withLock {
      pending.append(contentsOf: bytes)
      transcript.append(contentsOf: bytes)
    }
  }

  private func takeLine() -> [UInt8]? {
    lock.withLock {
      guard let newline = pending.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
      let line = Array(pending[..<newline])
      pending.removeSubrange(...newline)
      return line
    }
  }
}

/// A JSON-RPC error's code, or nil when `message` is not an error.
func errorCode(_ message: [String: Any]) -> Int? {
  (message["error"] as? [String: Any])?["code"] as? Int
}

/// A tool call's result object.
func toolResult(_ message: [String: Any]) throws -> [String: Any] {
  try #require(message["result"] as? [String: Any], "not a result: \(message)")
}
