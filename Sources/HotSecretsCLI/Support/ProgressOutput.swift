import Foundation
import HotSecretsModel
import Synchronization

/// Progress on stderr while `sync` and `rotate` run. On a terminal, steps share one compact live
/// line rewritten in place, and lines that must stay (a target done, a failure, any other message
/// on stderr) are printed above it; elsewhere (CI logs, files) every step is a plain line.
final class ProgressOutput: Sendable {
  static let shared = ProgressOutput(live: isatty(2) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb")

  private let live: Bool
  /// The live line on screen, if any.
  private let shown = Mutex<String?>(nil)

  init(live: Bool) { self.live = live }

  /// A step starting or ending: the live line on a terminal, a plain line elsewhere.
  func step(_ text: String) {
    guard live else { return write(text + "\n") }
    shown.withLock { current in
      let line = Self.fitting(text)
      current = line
      write("\r\u{1B}[K" + line)
    }
  }

  /// A line that stays; on a terminal the live line is redrawn below it.
  func line(_ text: String) {
    guard live else { return write(text + "\n") }
    shown.withLock { current in
      write("\r\u{1B}[K" + text + "\n" + (current ?? ""))
    }
  }

  /// Removes the live line (before a command's result is printed).
  func finish() {
    guard live else { return }
    shown.withLock { current in
      if current != nil { write("\r\u{1B}[K") }
      current = nil
    }
  }

  private func write(_ text: String) {
    FileDescriptorIO.writeAll(2, Array(text.utf8))
  }

  /// `text` cut to the terminal's width, so the live line never wraps (a wrapped line cannot be
  /// rewritten in place).
  private static func fitting(_ text: String) -> String {
    var size = winsize()
    let columns = ioctl(2, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 ? Int(size.ws_col) : 80
    return text.count < columns ? text : String(text.prefix(max(1, columns - 2))) + "…"
  }
}

/// Colour for ok / FAIL / warnings, on a terminal only, and never when `NO_COLOR` is set
/// (https://no-color.org) or the terminal is `dumb`.
enum Colour {
  case red, green, yellow

  /// Whether text written to `fd` may be coloured.
  static func enabled(fd: Int32) -> Bool {
    let environment = ProcessInfo.processInfo.environment
    return isatty(fd) == 1 && (environment["NO_COLOR"] ?? "").isEmpty && environment["TERM"] != "dumb"
  }

  /// Decided once per stream.
  private static let onStdout = enabled(fd: 1)
  private static let onStderr = enabled(fd: 2)

  /// `text` in `colour` when output to `fd` (1 or 2) may be coloured, else `text`.
  static func paint(_ text: String, _ colour: Colour, fd: Int32) -> String {
    guard fd == 1 ? onStdout : onStderr else { return text }
    let code =
      switch colour {
      case .red: "31"
      case .green: "32"
      case .yellow: "33"
      }
    return "\u{1B}[\(code)m\(text)\u{1B}[0m"
  }
}
