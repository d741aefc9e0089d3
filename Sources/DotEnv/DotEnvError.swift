/// Why a dotenv file could not be read, and where.
///
/// Secret-safe: neither ``problem`` nor ``description`` ever contains any
/// part of a value, nor the text of a malformed key (it might be a pasted
/// secret). Only valid key names, the file name and positions appear.
public struct DotEnvError: Error, Equatable, Sendable, CustomStringConvertible {
  /// What is wrong. Its `description` is a short lowercase phrase.
  public enum Problem: Equatable, Sendable, CustomStringConvertible {
    /// A line that is not blank and not a comment has no `=` after its key.
    case missingEquals
    /// The text before `=` is not a name matching `[A-Za-z_][A-Za-z0-9_]*`.
    case invalidKey
    /// A `'` opens the value of `key` but is never closed. Reported at the opening quote.
    case unterminatedSingleQuote(key: String)
    /// A `"` opens the value of `key` but is never closed. Reported at the opening quote.
    case unterminatedDoubleQuote(key: String)
    /// Something other than whitespace or a `# comment` follows the closing quote
    /// of `key`'s value. Reported at the first offending character.
    case textAfterClosingQuote(key: String)
    /// `key` was already assigned on line `firstLine`. Reported at the second key.
    case duplicateKey(String, firstLine: Int)
    /// The bytes are not valid UTF-8. Reported at the first byte of the bad sequence.
    case invalidUTF8

    public var description: String {
      switch self {
      case .missingEquals: "line has no '='"
      case .invalidKey: "invalid key name"
      case .unterminatedSingleQuote(let key): "unterminated single quote in value of \(key)"
      case .unterminatedDoubleQuote(let key): "unterminated double quote in value of \(key)"
      case .textAfterClosingQuote(let key): "unexpected text after closing quote in value of \(key)"
      case .duplicateKey(let key, let firstLine): "duplicate key \(key) (first set on line \(firstLine))"
      case .invalidUTF8: "invalid utf-8"
      }
    }
  }

  /// The file name given to ``DotEnvParser/parse(_:file:)``, verbatim.
  public let file: String
  /// 1-based line. CRLF, LF and a lone CR each end one line.
  public let line: Int
  /// 1-based column, counted in Unicode scalars (a tab counts as one;
  /// a leading byte-order mark is not counted).
  public let column: Int
  public let problem: Problem

  public init(file: String, line: Int, column: Int, problem: Problem) {
    self.file = file
    self.line = line
    self.column = column
    self.problem = problem
  }

  /// `FILE:LINE:COL: problem`, e.g. `vault/occ/openai/prod.env:3:1: line has no '='`.
  public var description: String {
    "\(file):\(line):\(column): \(problem)"
  }
}
