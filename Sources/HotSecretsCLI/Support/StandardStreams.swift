import Foundation
import HotSecretsModel

/// Writing to stdout and stderr, and asking whether they are terminals. Writes go through
/// `write(2)`: a full disk or a closed stdout ends the process with exit 2 and a message, not a
/// crash, and never a silent exit 0.
enum StandardStreams {
  /// Writes `text` and a newline to stdout.
  static func output(_ text: String) {
    let bytes = Array((text + "\n").utf8)
    bytes.withUnsafeBytes { outputBytes($0) }
  }

  /// Writes raw bytes to stdout; exits 2 when they cannot all be written.
  static func outputBytes(_ bytes: UnsafeRawBufferPointer) {
    guard FileDescriptorIO.writeAll(1, bytes) else {
      let reason = String(cString: strerror(errno))
      error("hotsecrets: error: cannot write to standard output: \(reason)")
      exit(ExitStatus.error)
    }
  }

  /// Writes `text` and a newline to stderr (best effort), above the live progress line if one is
  /// shown (`ProgressOutput`).
  static func error(_ text: String) {
    ProgressOutput.shared.line(text)
  }

  /// `warning: text` on stderr ("warning" in yellow on a terminal).
  static func warning(_ text: String) {
    error(Colour.paint("warning", .yellow, fd: 2) + ": " + text)
  }

  static var stdoutIsTerminal: Bool { isatty(1) == 1 }
  static var stdinIsTerminal: Bool { isatty(0) == 1 }
}
