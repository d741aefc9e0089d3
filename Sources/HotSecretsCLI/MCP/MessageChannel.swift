import Foundation
import HotSecretsModel
import Synchronization

/// MCP's stdio transport: newline-delimited JSON-RPC messages in on one descriptor, out on
/// another. Lines are read by a thread of their own (a blocking read, so a message is handled the
/// moment it arrives, with no polling), and a line longer than `maximumLineBytes` is skipped up to
/// its newline without being held in memory. Writes are whole messages, one at a time.
final class MessageChannel: Sendable {
  /// What the reader hands over: a line (without its newline), or the news that one was too long.
  enum Incoming: Sendable {
    case line([UInt8])
    case oversized
  }

  /// A request's line may not exceed this (a tool call's arguments are names and flags: bytes).
  static let maximumLineBytes = 1 << 20

  private let input: Int32
  private let output: Int32
  private let writing = Mutex(())

  init(input: Int32, output: Int32) {
    self.input = input
    self.output = output
  }

  /// The incoming lines, until end of input or a read error.
  func lines() -> AsyncStream<Incoming> {
    let (stream, continuation) = AsyncStream.makeStream(of: Incoming.self, bufferingPolicy: .unbounded)
    let input = input
    let thread = Thread {
      Self.readLines(from: input) { continuation.yield($0) }
      continuation.finish()
    }
    thread.name = "mcp-stdin"
    thread.start()
    return stream
  }

  /// Writes `message` and a newline; false when the output is gone (the client went away).
  @discardableResult
  func send(_ message: [UInt8]) -> Bool {
    writing.withLock { _ in
      var bytes = message
      bytes.append(UInt8(ascii: "\n"))
      return FileDescriptorIO.writeAll(output, bytes)
    }
  }

  /// Reads `fd` to its end, calling `deliver` with each line. Only the new bytes of each read are
  /// searched for a newline, so a long line costs its length once.
  static func readLines(from fd: Int32, deliver: (Incoming) -> Void) {
    var pending: [UInt8] = []
    var skipping = false
    var chunk = [UInt8](repeating: 0, count: 64 * 1024)
    while true {
      let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if count < 0, errno == EINTR { continue }
      if count <= 0 { break }
      var start = 0
      while start < count {
        guard let newline = chunk[start..<count].firstIndex(of: UInt8(ascii: "\n")) else {
          if !skipping { pending.append(contentsOf: chunk[start..<count]) }
          break
        }
        if skipping {
          skipping = false
        } else {
          pending.append(contentsOf: chunk[start..<newline])
          deliver(pending.count > maximumLineBytes ? .oversized : .line(trimmed(pending)))
        }
        pending.removeAll(keepingCapacity: true)
        start = newline + 1
      }
      if pending.count > maximumLineBytes {
        deliver(.oversized)
        pending = []
        skipping = true
      }
    }
    if !skipping, !pending.isEmpty { deliver(.line(trimmed(pending))) }
  }

  /// `line` without a trailing carriage return (a client on Windows line endings).
  private static func trimmed(_ line: [UInt8]) -> [UInt8] {
    line.last == UInt8(ascii: "\r") ? Array(line.dropLast()) : line
  }
}
