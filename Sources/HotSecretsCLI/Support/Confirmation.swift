import ArgumentParser
import Foundation

/// Asking before a destructive command (`rm`, `recipients remove`, `import --prune`): yes on the
/// terminal, or `--yes` anywhere else.
enum Confirmation {
  /// Returns when the user agrees: `yes` was passed, or, when stdin is a terminal and `question` is
  /// not `mustPassYes`, the answer typed on the terminal starts with `y`. Otherwise prints why on
  /// stderr and throws: exit 64 when `--yes` is needed (not on a terminal, or `mustPassYes`), exit 1
  /// when the user declined. Nothing has been changed when it throws.
  static func require(_ question: String, yes: Bool, mustPassYes warning: String? = nil) throws {
    if yes { return }
    if let warning {
      StandardStreams.error("hotsecrets: error: \(warning); pass --yes to go ahead (nothing changed)")
      throw ExitCode(ExitStatus.usage)
    }
    guard StandardStreams.stdinIsTerminal, let answer = ask(question + " [y/N] ") else {
      StandardStreams.error(
        "hotsecrets: error: \(question.dropLast(question.hasSuffix("?") ? 1 : 0)): not on a terminal, so pass --yes to confirm (nothing changed)"
      )
      throw ExitCode(ExitStatus.usage)
    }
    guard answer.lowercased().hasPrefix("y") else {
      StandardStreams.error("hotsecrets: cancelled; nothing changed")
      throw ExitCode(ExitStatus.checkFailed)
    }
  }

  /// One line typed on the controlling terminal, nil without one.
  private static func ask(_ prompt: String) -> String? {
    guard let tty = fopen("/dev/tty", "r+") else { return nil }
    defer { fclose(tty) }
    fputs(prompt, tty)
    fflush(tty)
    var line: UnsafeMutablePointer<CChar>?
    var capacity = 0
    defer { free(line) }
    guard getline(&line, &capacity, tty) >= 0, let line else { return nil }
    return String(cString: line).trimmingCharacters(in: .whitespacesAndNewlines)
  }
}
