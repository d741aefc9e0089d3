/// Reads dotenv files the way python-dotenv 1.x reads them with interpolation off,
/// except that anything python-dotenv would skip (with or without a warning) is an error here.
///
/// ## Format
/// - Blank lines and comment lines (`# …`, possibly indented) are ignored.
/// - An assignment is `[export ]KEY=value`. Whitespace is allowed before the key, after
///   `export`, and on both sides of `=`. Keys must match `[A-Za-z_][A-Za-z0-9_]*`; a key in
///   single quotes (`'KEY'=value`) is read as its name, as python-dotenv reads it.
/// - **Unquoted** values run to the end of the line. A `#` preceded by whitespace starts a
///   comment (`A=b#c` is `b#c`, `A=b #c` is `b`); the result is trimmed. Nothing else is
///   interpreted: no escapes, no `$` expansion. `A= # x` (whitespace, then `#`) is an empty
///   value and a comment; `A=#x` is the value `#x`.
/// - **Single-quoted** values (`'…'`) are literal except `\\` → `\` and `\'` → `'`.
/// - **Double-quoted** values (`"…"`) decode `\\ \' \" \a \b \f \n \r \t \v`; any other
///   backslash is kept as is (`\q` stays backslash-q).
/// - Quoted values may span lines. After the closing quote only whitespace and an optional
///   `# comment` may follow on that line (`A="x"#c` is fine).
/// - Lines end with LF, CRLF or a lone CR. Like python-dotenv (which reads files with
///   universal newlines), a CRLF or lone CR *inside* a quoted value becomes LF; an escaped
///   `\r` in double quotes is still a CR.
/// - "Whitespace" is Python's `\s` set (space, tab, VT, FF, U+001C–U+001F, U+0085, U+00A0,
///   U+2000–U+200A, U+3000, …), as in python-dotenv.
/// - Input must be UTF-8; a leading byte-order mark is skipped. `$` is never expanded.
///
/// ## Differences from python-dotenv 1.2.2
/// All of these are cases where python-dotenv skips a line, yields `None`, or reads
/// something surprising; we stop with a ``DotEnvError`` instead, except (d), (e), (f):
/// - (a) a line without `=` (python: key with value `None`), an invalid key such as `a.b`,
///   `a-b`, `"A"` or `'a b'` (python accepts them), an unterminated quote or text after a closing quote
///   (python skips one line and carries on), a duplicate key (python: last one wins), invalid
///   UTF-8 (python raises).
/// - (b) a quoted value that ends in an odd number of backslashes before the quote and has no
///   later closing quote, e.g. `A="abc\"` as the last quote in the file: python's regex
///   backtracks and reads `abc\`; we report an unterminated quote.
/// - (c) python keeps a BOM as part of the first key; we skip it.
/// - (d) backslash runs: we treat `\\` as one escape pair when looking for the closing quote,
///   so `A="C:\\"` closes at its last quote and reads `C:\`. python-dotenv's regex always
///   treats `\"` as an escaped quote, so it reads the same only when no later `"` appears in
///   the file; otherwise it reads a longer value or skips the line. ``DotEnvWriter`` produces
///   this shape only for values that end in a backslash and cannot be written unquoted.
/// - (e) python reports the line where leading blank lines before a binding start; our
///   ``DotEnvEntry/line`` is the key's own line.
/// - (f) `A= # comment`: python-dotenv reads the value `# comment`; we read an empty value and a
///   comment, as Node's dotenv, Ruby's dotenv and Docker Compose do (a placeholder comment must
///   not become a secret).
public enum DotEnvParser {
  /// Parses a whole dotenv file.
  ///
  /// - Parameters:
  ///   - bytes: the raw file contents (UTF-8, optionally starting with a BOM).
  ///   - file: a name used only in error messages (e.g. `vault/occ/openai/prod.env`).
  /// - Returns: the assignments in file order, each key appearing once.
  /// - Throws: ``DotEnvError`` at the first problem found, scanning from the top.
  ///   The error never contains any part of a value.
  public static func parse(_ bytes: [UInt8], file: String) throws(DotEnvError) -> DotEnvFile {
    let result: Result<DotEnvFile, DotEnvError> = bytes.withUnsafeBufferPointer { p in
      var parser = Parser(p: p, file: file)
      do throws(DotEnvError) {
        return .success(DotEnvFile(entries: try parser.run()))
      } catch {
        return .failure(error)
      }
    }
    return try result.get()
  }

  /// Parses dotenv text already held in a `String` (so it is valid UTF-8).
  /// Same rules and errors as ``parse(_:file:)``.
  public static func parse(_ text: String, file: String) throws(DotEnvError) -> DotEnvFile {
    try parse(Array(text.utf8), file: file)
  }

  /// Whether `s` is an acceptable variable name: `[A-Za-z_][A-Za-z0-9_]*` (ASCII only, non-empty).
  public static func isValidKey(_ s: String) -> Bool {
    UTF8Bytes.isValidKey(s.utf8)
  }
}

/// The scanner behind ``DotEnvParser``. Lives only inside `withUnsafeBufferPointer`.
private struct Parser {
  typealias B = UTF8Bytes

  let p: UnsafeBufferPointer<UInt8>
  let file: String
  let end: Int
  /// Offset of the first byte after the BOM, if any; columns count from here on line 1.
  let start: Int
  var pos: Int
  var line = 1
  var entries: [DotEnvEntry] = []
  var firstLineOfKey: [String: Int] = [:]

  init(p: UnsafeBufferPointer<UInt8>, file: String) {
    self.p = p
    self.file = file
    end = p.count
    let hasBOM = p.count >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF
    start = hasBOM ? 3 : 0
    pos = start
  }

  mutating func run() throws(DotEnvError) -> [DotEnvEntry] {
    if let bad = B.firstInvalidUTF8(p, from: start) {
      throw error(.invalidUTF8, at: bad)
    }
    // Each entry starts on its own line, so the line count bounds the entry count.
    var lines = B.count(of: B.lf, in: p, from: start)
    if lines == 0 { lines = B.count(of: B.cr, in: p, from: start) }
    entries.reserveCapacity(lines + 1)
    firstLineOfKey.reserveCapacity(lines + 1)
    while true {
      skipWhitespaceAndLineBreaks()
      if pos == end { return entries }
      try statement()
    }
  }

  // MARK: - Statements

  private mutating func statement() throws(DotEnvError) {
    let statementStart = pos
    if p[pos] == B.hash {
      skipRestOfLine()
      return
    }
    if hasExportPrefix() {
      pos += 6
      skipInlineWhitespace()
      // python-dotenv: `export # …` is a comment line.
      if pos < end && p[pos] == B.hash {
        skipRestOfLine()
        return
      }
    }

    // Key token as python-dotenv reads it: a single-quoted name (`'A'=1`, read as `A`), or up to
    // `=`, `#` or whitespace.
    var keyStart = pos
    var keyEnd: Int
    if p[pos] == B.singleQuote {
      var close = pos + 1
      while close < end && p[close] != B.singleQuote && !B.isLineBreak(p[close]) { close += 1 }
      guard close < end, p[close] == B.singleQuote else { throw error(.invalidKey, at: keyStart) }
      keyStart = pos + 1
      keyEnd = close
      pos = close + 1
    } else {
      while pos < end && B.isKeyTail(p[pos]) { pos += 1 }  // fast path for valid names
      while pos < end {
        let b = p[pos]
        if b == B.equals || b == B.hash || B.whitespaceLength(p, pos) > 0 { break }
        pos += B.scalarLength(lead: b)
      }
      keyEnd = pos
    }
    skipInlineWhitespace()
    guard pos < end, p[pos] == B.equals else {
      if keyEnd > keyStart && restOfLineContainsEquals() {
        throw error(.invalidKey, at: keyStart)
      }
      throw error(.missingEquals, at: statementStart)
    }
    let keyBytes = UnsafeBufferPointer(rebasing: p[keyStart..<keyEnd])
    guard B.isValidKey(keyBytes) else {
      throw error(.invalidKey, at: keyStart)
    }
    let key = String(decoding: keyBytes, as: UTF8.self)
    let keyLine = line
    if let firstLine = firstLineOfKey.updateValue(keyLine, forKey: key) {
      throw error(.duplicateKey(key, firstLine: firstLine), at: keyStart)
    }

    pos += 1  // '='
    let valueStart = pos
    skipInlineWhitespace()
    let value: String
    if pos == end || B.isLineBreak(p[pos]) {
      value = ""
    } else if p[pos] == B.hash && pos > valueStart {
      // `KEY= # comment`: an empty value and a comment, as dotenv readers other than python-dotenv
      // read it (python-dotenv 1.2.2 reads `# comment` as the value). `KEY=#x` is still `#x`.
      value = ""
      skipRestOfLine()
    } else if p[pos] == B.singleQuote || p[pos] == B.doubleQuote {
      value = try quotedValue(key: key)
      try afterClosingQuote(key: key)
    } else {
      value = unquotedValue()
    }
    entries.append(DotEnvEntry(key: key, value: value, line: keyLine))
  }

  private func hasExportPrefix() -> Bool {
    guard pos + 6 < end,
      p[pos] == 0x65, p[pos + 1] == 0x78, p[pos + 2] == 0x70,  // e x p
      p[pos + 3] == 0x6F, p[pos + 4] == 0x72, p[pos + 5] == 0x74  // o r t
    else { return false }
    return !B.isLineBreak(p[pos + 6]) && B.whitespaceLength(p, pos + 6) > 0
  }

  /// Whether an `=` follows on this line before any `#` (which python-dotenv reads as a comment).
  private func restOfLineContainsEquals() -> Bool {
    var i = pos
    while i < end && !B.isLineBreak(p[i]) && p[i] != B.hash {
      if p[i] == B.equals { return true }
      i += 1
    }
    return false
  }

  // MARK: - Values

  /// Unquoted: to end of line, cut at the first `#` that follows whitespace, trimmed.
  private mutating func unquotedValue() -> String {
    let valueStart = pos  // not whitespace, not a line break
    var i = pos
    var valueEnd: Int
    while true {
      i = B.firstIndex(in: p, from: i, to: end, of: B.lf, B.cr, B.hash, B.hash)
      if i == end || p[i] != B.hash {
        valueEnd = i
        pos = i
        break
      }
      if B.whitespaceStart(endingAt: i, in: p, lowerBound: valueStart) != nil {
        valueEnd = i
        pos = i
        skipRestOfLine()
        break
      }
      i += 1
    }
    while let wsStart = B.whitespaceStart(endingAt: valueEnd, in: p, lowerBound: valueStart) {
      valueEnd = wsStart
    }
    return String(decoding: UnsafeBufferPointer(rebasing: p[valueStart..<valueEnd]), as: UTF8.self)
  }

  /// A quoted value; `pos` is at the opening quote and ends just past the closing one.
  /// Within the quotes `\\` and `\<quote>` are pairs, so neither closes the value.
  private mutating func quotedValue(key: String) throws(DotEnvError) -> String {
    let quote = p[pos]
    let openAt = pos
    pos += 1
    let contentStart = pos
    var plain = true  // no escapes or CRs to rewrite
    while true {
      pos = B.firstIndex(in: p, from: pos, to: end, of: quote, B.backslash, B.lf, B.cr)
      guard pos < end else {
        throw error(
          quote == B.singleQuote ? .unterminatedSingleQuote(key: key) : .unterminatedDoubleQuote(key: key),
          at: openAt)
      }
      let b = p[pos]
      if b == quote { break }
      switch b {
      case B.backslash:
        plain = false
        if pos + 1 < end && (p[pos + 1] == quote || p[pos + 1] == B.backslash) {
          pos += 2
        } else {
          pos += 1
        }
      case B.lf:
        pos += 1
        line += 1
      case B.cr:
        plain = false
        pos += 1
        if pos < end && p[pos] == B.lf { pos += 1 }
        line += 1
      default:
        pos += 1
      }
    }
    let content = UnsafeBufferPointer(rebasing: p[contentStart..<pos])
    pos += 1  // closing quote
    if plain {
      return String(decoding: content, as: UTF8.self)
    }
    return Self.decode(content, doubleQuoted: quote == B.doubleQuote)
  }

  /// python-dotenv's `decode_escapes` (left to right, unknown escapes kept verbatim),
  /// plus its universal-newline reading: CRLF and lone CR become LF.
  private static func decode(_ s: UnsafeBufferPointer<UInt8>, doubleQuoted: Bool) -> String {
    // Decoding only shrinks the text, so the content length is enough capacity.
    String(unsafeUninitializedCapacity: s.count) { out in
      var i = 0
      var o = 0
      let n = s.count
      while i < n {
        let b = s[i]
        if b == B.backslash && i + 1 < n, let decoded = unescape(s[i + 1], doubleQuoted: doubleQuoted) {
          out[o] = decoded
          i += 2
        } else if b == B.cr {
          out[o] = B.lf
          i += 1
          if i < n && s[i] == B.lf { i += 1 }
        } else {
          out[o] = b
          i += 1
        }
        o += 1
      }
      return o
    }
  }

  @inline(__always)
  private static func unescape(_ c: UInt8, doubleQuoted: Bool) -> UInt8? {
    switch c {
    case B.backslash: return B.backslash
    case B.singleQuote: return B.singleQuote
    default: break
    }
    guard doubleQuoted else { return nil }
    switch c {
    case B.doubleQuote: return B.doubleQuote
    case 0x61: return 0x07  // \a
    case 0x62: return 0x08  // \b
    case 0x66: return 0x0C  // \f
    case 0x6E: return 0x0A  // \n
    case 0x72: return 0x0D  // \r
    case 0x74: return 0x09  // \t
    case 0x76: return 0x0B  // \v
    default: return nil
    }
  }

  /// After a closing quote: whitespace, then optionally `# comment`, then end of line.
  private mutating func afterClosingQuote(key: String) throws(DotEnvError) {
    skipInlineWhitespace()
    guard pos < end, !B.isLineBreak(p[pos]) else { return }
    guard p[pos] == B.hash else {
      throw error(.textAfterClosingQuote(key: key), at: pos)
    }
    skipRestOfLine()
  }

  // MARK: - Skipping

  /// Skips whitespace of any kind including line breaks, counting lines.
  private mutating func skipWhitespaceAndLineBreaks() {
    while pos < end {
      let b = p[pos]
      if b == B.lf {
        pos += 1
        line += 1
      } else if b == B.cr {
        pos += 1
        if pos < end && p[pos] == B.lf { pos += 1 }
        line += 1
      } else {
        let ws = B.whitespaceLength(p, pos)
        if ws == 0 { return }
        pos += ws
      }
    }
  }

  /// Skips whitespace other than line breaks.
  private mutating func skipInlineWhitespace() {
    while pos < end && !B.isLineBreak(p[pos]) {
      let ws = B.whitespaceLength(p, pos)
      if ws == 0 { return }
      pos += ws
    }
  }

  /// Moves to the line break ending this line (or to the end of input), not past it.
  private mutating func skipRestOfLine() {
    pos = B.firstIndex(in: p, from: pos, to: end, of: B.lf, B.cr, B.lf, B.cr)
  }

  private func error(_ problem: DotEnvError.Problem, at offset: Int) -> DotEnvError {
    let (line, column) = B.location(of: offset, in: p, from: start)
    return DotEnvError(file: file, line: line, column: column, problem: problem)
  }
}
