/// One `KEY=value` assignment read from a dotenv file.
public struct DotEnvEntry: Equatable, Sendable {
  /// The variable name; always matches `[A-Za-z_][A-Za-z0-9_]*`.
  public let key: String
  /// The decoded value: quotes removed, escapes decoded, line endings inside
  /// quoted values normalised to LF. May be empty, may contain newlines.
  public let value: String
  /// 1-based line number of the key (not of the value's last line).
  public let line: Int

  public init(key: String, value: String, line: Int) {
    self.key = key
    self.value = value
    self.line = line
  }
}

/// The result of parsing one dotenv file: its assignments in file order.
///
/// Keys are unique: ``DotEnvParser`` rejects a file that assigns a key twice.
public struct DotEnvFile: Equatable, Sendable {
  /// The assignments, in the order they appear in the file.
  public let entries: [DotEnvEntry]

  init(entries: [DotEnvEntry]) {
    self.entries = entries
  }

  /// The entries as a dictionary from key to value (file order is lost).
  public var dictionary: [String: String] {
    var result: [String: String] = [:]
    result.reserveCapacity(entries.count)
    for entry in entries {
      result[entry.key] = entry.value
    }
    return result
  }

  /// The entries as ordered `(key, value)` pairs, the shape ``DotEnvWriter/write(_:header:)`` takes.
  public var keyValuePairs: [(key: String, value: String)] {
    entries.map { (key: $0.key, value: $0.value) }
  }
}
