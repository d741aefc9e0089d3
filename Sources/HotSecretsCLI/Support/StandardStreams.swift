import Foundation

/// Writing to stdout and stderr, and asking whether they are terminals.
enum StandardStreams {
  /// Writes `text` and a newline to stdout.
  static func output(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
  }

  /// Writes raw bytes to stdout.
  static func outputBytes(_ bytes: UnsafeRawBufferPointer) {
    var offset = 0
    while offset < bytes.count {
      let n = Foundation.write(1, bytes.baseAddress! + offset, bytes.count - offset)
      if n < 0 {
        if errno == EINTR { continue }
        return
      }
      offset += n
    }
  }

  /// Writes `text` and a newline to stderr.
  static func error(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
  }

  static var stdoutIsTerminal: Bool { isatty(1) == 1 }
  static var stdinIsTerminal: Bool { isatty(0) == 1 }
}
