/// Renders `KEY=value` lines that ``DotEnvParser`` reads back exactly:
/// `parse(write(pairs)).keyValuePairs == pairs` for every list of distinct valid keys
/// and every `String` value.
///
/// Each value gets the plainest form that is safe:
/// - **unquoted** when it is non-empty and only contains ASCII letters, digits and
///   `_ - . , : / @ + = %` (e.g. tokens, base64, URLs without `$`);
/// - **single quotes** (literal) otherwise, when it has no `'`, no `\`, no CR and no
///   BEL/BS/VT/FF. Newlines are written raw, so a PEM key stays multi-line. Values with `$`
///   land here, so tools that expand `${VAR}` in other forms leave them alone;
/// - **double quotes** otherwise, escaping `\\ \" \n \r \t \a \b \v \f`; all other
///   characters (including `'`, `$`, NUL, other controls) are written raw.
///
/// The output is also read identically by python-dotenv 1.x (`interpolate=False`), with one
/// exception it cannot express: a value that needs double quotes *and* ends with a
/// backslash (e.g. `"a b\\"`) is read correctly by python-dotenv only if no later line
/// contains a `"`. Such values are vanishingly rare in practice.
///
/// NUL: environment variables cannot hold U+0000, but a dotenv file can; the writer keeps
/// NUL characters raw inside quotes, so the round trip stays lossless. Rejecting them is the
/// caller's decision.
public enum DotEnvWriter {
  /// Renders `entries` in the given order, one per line, LF line endings.
  ///
  /// - Parameters:
  ///   - entries: keys must satisfy ``DotEnvParser/isValidKey(_:)`` and be distinct;
  ///     violating that is a programming error and traps. Values are arbitrary.
  ///   - header: optional text written first as `# ` comment lines (split at LF, CRLF or
  ///     CR; an empty header line becomes `#`), followed by one blank line. `nil` or empty
  ///     means no header. It must not contain secrets: it is written verbatim.
  /// - Returns: the file text; it ends with a newline unless it is empty (no header, no entries).
  public static func write(_ entries: [(key: String, value: String)], header: String? = nil) -> String {
    var out: [UInt8] = []
    out.reserveCapacity(entries.count * 48)
    if let header, !header.isEmpty {
      appendHeader(header, to: &out)
      out.append(UTF8Bytes.lf)
    }
    var seen = Set<String>()
    seen.reserveCapacity(entries.count)
    for (key, value) in entries {
      precondition(DotEnvParser.isValidKey(key), "DotEnvWriter: invalid key name")
      precondition(seen.insert(key).inserted, "DotEnvWriter: duplicate key \(key)")
      out.append(contentsOf: key.utf8)
      out.append(UTF8Bytes.equals)
      appendValue(value, to: &out)
      out.append(UTF8Bytes.lf)
    }
    return String(decoding: out, as: UTF8.self)
  }

  // MARK: - Values

  private enum Form { case unquoted, singleQuoted, doubleQuoted }

  private static func form(of value: String) -> Form {
    if value.isEmpty { return .singleQuoted }
    var unquotedOK = true
    var singleOK = true
    for b in value.utf8 {
      if unquotedOK && !isUnquotedSafe(b) { unquotedOK = false }
      switch b {
      case UTF8Bytes.singleQuote, UTF8Bytes.backslash, UTF8Bytes.cr, 0x07, 0x08, 0x0B, 0x0C:
        singleOK = false
      default:
        break
      }
      if !singleOK { return .doubleQuoted }
    }
    return unquotedOK ? .unquoted : .singleQuoted
  }

  @inline(__always)
  private static func isUnquotedSafe(_ b: UInt8) -> Bool {
    switch b {
    case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true  // digits, letters
    case 0x5F, 0x2D, 0x2E, 0x2C, 0x3A, 0x2F, 0x40, 0x2B, 0x3D, 0x25: true  // _ - . , : / @ + = %
    default: false
    }
  }

  private static func appendValue(_ value: String, to out: inout [UInt8]) {
    switch form(of: value) {
    case .unquoted:
      out.append(contentsOf: value.utf8)
    case .singleQuoted:
      out.append(UTF8Bytes.singleQuote)
      out.append(contentsOf: value.utf8)
      out.append(UTF8Bytes.singleQuote)
    case .doubleQuoted:
      out.append(UTF8Bytes.doubleQuote)
      for b in value.utf8 {
        let escaped: UInt8
        switch b {
        case UTF8Bytes.backslash: escaped = UTF8Bytes.backslash
        case UTF8Bytes.doubleQuote: escaped = UTF8Bytes.doubleQuote
        case 0x0A: escaped = 0x6E  // n
        case 0x0D: escaped = 0x72  // r
        case 0x09: escaped = 0x74  // t
        case 0x07: escaped = 0x61  // a
        case 0x08: escaped = 0x62  // b
        case 0x0B: escaped = 0x76  // v
        case 0x0C: escaped = 0x66  // f
        default:
          out.append(b)
          continue
        }
        out.append(UTF8Bytes.backslash)
        out.append(escaped)
      }
      out.append(UTF8Bytes.doubleQuote)
    }
  }

  // MARK: - Header

  private static func appendHeader(_ header: String, to out: inout [UInt8]) {
    let bytes = Array(header.utf8)
    var i = 0
    var lineStart = 0
    func emitLine(_ range: Range<Int>) {
      out.append(UTF8Bytes.hash)
      if !range.isEmpty {
        out.append(UTF8Bytes.space)
        out.append(contentsOf: bytes[range])
      }
      out.append(UTF8Bytes.lf)
    }
    while i < bytes.count {
      let b = bytes[i]
      if b == UTF8Bytes.lf || b == UTF8Bytes.cr {
        emitLine(lineStart..<i)
        i += (b == UTF8Bytes.cr && i + 1 < bytes.count && bytes[i + 1] == UTF8Bytes.lf) ? 2 : 1
        lineStart = i
      } else {
        i += 1
      }
    }
    if lineStart < bytes.count || bytes.isEmpty {
      emitLine(lineStart..<bytes.count)
    }
  }
}
