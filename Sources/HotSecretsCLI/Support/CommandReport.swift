import ArgumentParser

/// What a command whose output is data produced, before anything is printed: the document
/// `--format json` prints, its text form, a one-line summary and the exit status. The terminal
/// prints it (`OutputOptions.print`); `hotsecrets mcp` returns the same document as a tool's
/// structured result, so an agent and a person get one answer.
struct CommandReport {
  /// The `--format json` document (docs/json.md).
  let document: any Encodable
  /// The text output; built only when printed as text.
  let text: () -> String
  /// One line saying what the result is, e.g. `verify prod: 40 passed, 0 failed, 1 warning`.
  let summary: String
  /// `ExitStatus.success`, or `ExitStatus.checkFailed` when the report found a problem.
  let exitStatus: Int32

  init(_ document: any Encodable, summary: String, exitStatus: Int32 = ExitStatus.success, text: @escaping () -> String) {
    self.document = document
    self.summary = summary
    self.exitStatus = exitStatus
    self.text = text
  }

  /// Whether the report found a problem (exit 1).
  var failed: Bool { exitStatus != ExitStatus.success }
}

extension OutputOptions {
  /// Prints `report` as JSON or text, then ends the command with its exit status when that is not 0.
  func print(_ report: CommandReport) throws {
    try write(report.document, text: report.text)
    if report.failed { throw ExitCode(report.exitStatus) }
  }
}
