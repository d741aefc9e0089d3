import Foundation
import HotSecretsModel

/// Prompts on the controlling terminal with echo off.
enum Terminal {
  /// Reads one line from /dev/tty without echo, into secure memory. Returns nil when the process
  /// has no terminal.
  static func readSecret(prompt: String) throws -> SecretBytes? {
    let fd = open("/dev/tty", O_RDWR | O_NOCTTY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var original = termios()
    guard tcgetattr(fd, &original) == 0 else { return nil }
    var silent = original
    silent.c_lflag &= ~tcflag_t(ECHO)
    _ = prompt.withCString { Foundation.write(fd, $0, strlen($0)) }
    _ = tcsetattr(fd, TCSAFLUSH, &silent)
    defer {
      _ = tcsetattr(fd, TCSAFLUSH, &original)
      _ = Foundation.write(fd, "\n", 1)
    }
    let limit = 64 * 1024
    let buffer = try SecretBytes(count: limit)
    var length = 0
    try buffer.withUnsafeMutableBytes { out in
      var byte: UInt8 = 0
      while true {
        let n = read(fd, &byte, 1)
        if n < 0 && errno == EINTR { continue }
        if n <= 0 || byte == UInt8(ascii: "\n") { break }
        guard length < limit else { throw CLIError.invalidInput("input longer than \(limit) bytes") }
        out[length] = byte
        length += 1
      }
      if length > 0, out[length - 1] == UInt8(ascii: "\r") { length -= 1 }
    }
    return try buffer.withUnsafeBytes { try SecretBytes(copying: $0.prefix(length)) }
  }
}
