import Foundation

/// The exit codes every command uses.
enum ExitStatus {
  /// Success.
  static let success: Int32 = 0
  /// A check found a problem: drift, failed verification, broken chain.
  static let checkFailed: Int32 = 1
  /// An error: cannot unlock, no vault, bad input, I/O.
  static let error: Int32 = 2
  /// A usage error (unknown flag, missing argument).
  static let usage: Int32 = 64

  /// A command's exit codes for its help: 0, then `one` (what exit 1 means for it) when it uses 1,
  /// then 2 and 64.
  static func help(_ one: String? = nil) -> String {
    "Exit codes: 0 success; " + (one.map { "1 \($0); " } ?? "")
      + "2 an error (cannot unlock, no vault, bad input, I/O); 64 usage error."
  }

  /// Every exit code of every command (the root's help).
  static let helpText = """
    Exit codes: 0 success; 1 a check found a problem (drift, failed verification, broken \
    audit chain); 2 an error (cannot unlock, no vault, bad input, I/O); 64 usage error.
    """
}

/// Errors raised by the command layer itself.
enum CLIError: LocalizedError {
  case noUnlockMethod
  case invalidInput(String)
  case io(path: String, reason: String)
  /// An environment with no secrets and no policy: most likely a typo.
  case unknownEnvironment(String, known: [String], suggestion: String?)
  /// No such secret, with the closest one the environment holds.
  case secretNotFound(String, suggestion: String)
  /// `set` of a name the policy does not declare when it declares a close one.
  case notInPolicy(String, policy: String, suggestion: String)

  var errorDescription: String? {
    switch self {
    case .unknownEnvironment(let name, let known, let suggestion):
      "no environment '\(name)'"
        + (known.isEmpty ? " (the vault holds none yet)" : " (environments: \(known.joined(separator: ", ")))")
        + (suggestion.map { "; did you mean '\($0)'?" } ?? "")
    case .secretNotFound(let subject, let suggestion):
      "no secret \(subject); did you mean \(suggestion)?"
    case .notInPolicy(let subject, let policy, let suggestion):
      "\(subject) is not in \(policy); did you mean \(suggestion)? (pass --new to store it under this name)"
    case .noUnlockMethod:
      "cannot unlock: no identity or passphrase given (pass --identity FILE or --passphrase-file FILE, set HOTSECRETS_IDENTITY or HOTSECRETS_PASSPHRASE, or run on a terminal)"
    case .invalidInput(let reason): reason
    case .io(let path, let reason): "\(path): \(reason)"
    }
  }
}

/// One-line, value-free descriptions of any error: the error's facts, then what to run about it
/// (`ErrorHints`).
enum ErrorMessage {
  static func describe(_ error: Error) -> String {
    let text = (error as? LocalizedError)?.errorDescription ?? String(describing: error)
    return text + (ErrorHints.hint(for: error) ?? "")
  }
}
