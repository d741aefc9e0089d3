/// A `format` pattern read into a syntax tree: the subset of regular-expression syntax that
/// `FormatMatcher` matches in time linear in the value's length. See docs/policy.md, "Format syntax".
///
/// Supported: literal characters; escapes `\. \- \/ \\` (any escaped ASCII punctuation or space is
/// itself), `\t \n \r \f`, `\xhh`, `\x{h…}`, `\uhhhh`, `\u{h…}`; the classes `\d \w \s \D \W \S`
/// (Unicode-aware, as in Swift's `Regex`); `.` (any character but a line break); bracket classes
/// with ranges, negation and the same escapes; groups `( )` and `(?: )`; alternation `|`;
/// quantifiers `* + ? {m} {m,} {,n} {m,n}`, each optionally lazy (`?`, which changes nothing for a
/// yes-or-no search); anchors `^ $ \A \z` (start and end of the whole value).
///
/// Everything else is refused with a `FormatPatternError`: a construct a backtracking engine would
/// need (back-references, lookarounds, atomic groups, possessive quantifiers), one whose meaning
/// would surprise (inline options, word boundaries, `\Z`), or syntax hotsecrets does not read.
indirect enum FormatPattern: Equatable, Sendable {
  /// Matches the empty string.
  case empty
  /// One Unicode scalar from the class.
  case scalar(ScalarClass)
  /// `^`, `\A`: the start of the value.
  case startOfValue
  /// `$`, `\z`: the end of the value.
  case endOfValue
  case sequence([FormatPattern])
  case alternation([FormatPattern])
  /// `max` nil: unbounded.
  case repetition(FormatPattern, min: Int, max: Int?)

  /// Deepest nesting of groups accepted (the parser and the compiler recurse on it).
  static let maximumNesting = 32

  /// Reads `pattern`; throws `FormatPatternError` naming the first construct that is invalid or
  /// not supported.
  static func parse(_ pattern: String) throws(FormatPatternError) -> FormatPattern {
    var parser = Parser(Array(pattern.unicodeScalars))
    let tree = try parser.alternation(depth: 0)
    if !parser.atEnd {  // only a ")" stops the top-level alternation
      throw parser.invalid("an unmatched ')'", at: parser.index)
    }
    return tree
  }
}

/// Why a `format` pattern cannot be used, as a clause ("a look-ahead (?=…) is not supported").
struct FormatPatternError: Error, Equatable, Sendable {
  enum Kind: Sendable {
    /// Not a regular expression at all (`([a-z`, `a**`).
    case invalid
    /// A regular expression, but using a construct hotsecrets does not match.
    case unsupported
    /// Too large once its repetitions are written out.
    case tooLarge
  }

  let kind: Kind
  let problem: String
  /// 1-based position, in Unicode scalars, of the offending construct in the pattern.
  let offset: Int
}

/// A set of Unicode scalars: ranges and Unicode properties, possibly negated. Immutable once built;
/// membership of ASCII scalars is a bit test.
struct ScalarClass: Equatable, Sendable {
  /// The properties `\d`, `\w`, `\s` stand for, with Swift `Regex`'s meaning for a one-scalar
  /// character; `lineBreak` is what `.` does not match.
  enum Property: Equatable, Sendable {
    case digit, word, whitespace, lineBreak

    func contains(_ scalar: Unicode.Scalar) -> Bool {
      let properties = scalar.properties
      switch self {
      case .digit: return properties.numericType != nil
      case .word: return scalar == "_" || properties.isAlphabetic || properties.numericType != nil
      case .whitespace: return properties.isWhitespace
      case .lineBreak:
        return (0x0A...0x0D).contains(scalar.value) || scalar.value == 0x85 || scalar.value == 0x2028
          || scalar.value == 0x2029
      }
    }
  }

  private(set) var ranges: [ClosedRange<UInt32>]
  /// Each property, or its complement when the flag is set (`\D`).
  private(set) var properties: [(property: Property, negated: Bool)]
  private(set) var negated: Bool
  /// Membership of scalars 0–63 and 64–127, one bit each.
  private(set) var asciiLow: UInt64 = 0
  private(set) var asciiHigh: UInt64 = 0

  init(
    ranges: [ClosedRange<UInt32>] = [], properties: [(property: Property, negated: Bool)] = [], negated: Bool = false
  ) {
    self.ranges = ranges
    self.properties = properties
    self.negated = negated
    for value in UInt32(0)..<128 where slowContains(Unicode.Scalar(UInt8(value))) {
      if value < 64 { asciiLow |= 1 << UInt64(value) } else { asciiHigh |= 1 << UInt64(value - 64) }
    }
  }

  static func literal(_ scalar: Unicode.Scalar) -> ScalarClass { ScalarClass(ranges: [scalar.value...scalar.value]) }

  /// `.`: any scalar but a line break.
  static let anyButLineBreak = ScalarClass(properties: [(.lineBreak, false)], negated: true)

  @inline(__always)
  func contains(_ scalar: Unicode.Scalar) -> Bool {
    let value = scalar.value
    if value < 64 { return asciiLow & (1 << UInt64(value)) != 0 }
    if value < 128 { return asciiHigh & (1 << UInt64(value - 64)) != 0 }
    return slowContains(scalar)
  }

  private func slowContains(_ scalar: Unicode.Scalar) -> Bool {
    let inside =
      ranges.contains { $0.contains(scalar.value) }
      || properties.contains { $0.property.contains(scalar) != $0.negated }
    return inside != negated
  }

  static func == (a: ScalarClass, b: ScalarClass) -> Bool {
    a.ranges == b.ranges && a.negated == b.negated && a.properties.elementsEqual(b.properties) { $0 == $1 }
  }
}

// MARK: - Parser

extension FormatPattern {
  struct Parser {
    let scalars: [Unicode.Scalar]
    var index = 0

    init(_ scalars: [Unicode.Scalar]) { self.scalars = scalars }

    var atEnd: Bool { index >= scalars.count }
    var current: Unicode.Scalar? { atEnd ? nil : scalars[index] }
    func peek(_ ahead: Int) -> Unicode.Scalar? { index + ahead < scalars.count ? scalars[index + ahead] : nil }

    mutating func take(_ scalar: Unicode.Scalar) -> Bool {
      guard current == scalar else { return false }
      index += 1
      return true
    }

    /// `at` is a 0-based index into the pattern.
    func invalid(_ problem: String, at position: Int) -> FormatPatternError {
      FormatPatternError(kind: .invalid, problem: problem, offset: position + 1)
    }

    func unsupported(_ problem: String, at position: Int) -> FormatPatternError {
      FormatPatternError(kind: .unsupported, problem: problem, offset: position + 1)
    }

    mutating func alternation(depth: Int) throws(FormatPatternError) -> FormatPattern {
      var branches = [try sequence(depth: depth)]
      while take("|") { branches.append(try sequence(depth: depth)) }
      return branches.count == 1 ? branches[0] : .alternation(branches)
    }

    mutating func sequence(depth: Int) throws(FormatPatternError) -> FormatPattern {
      var items: [FormatPattern] = []
      while let c = current, c != "|", c != ")" {
        let atomStart = index
        var item = try atom(depth: depth)
        let quantifierStart = index
        if let (min, max) = try quantifier() {
          if item == .startOfValue || item == .endOfValue, scalars[atomStart] != "(" {
            throw invalid("a quantifier after an anchor", at: quantifierStart)
          }
          item = .repetition(item, min: min, max: max)
          _ = take("?")  // lazy: the same yes-or-no answer
          if current == "+" { throw unsupported("a possessive quantifier (…+ after a quantifier)", at: index) }
          let next = index
          if try quantifier() != nil { throw invalid("a quantifier that follows another one", at: next) }
        }
        items.append(item)
      }
      return items.count == 1 ? items[0] : .sequence(items)
    }

    /// `*`, `+`, `?`, `{m}`, `{m,}`, `{,n}`, `{m,n}` at the current position, or nil.
    mutating func quantifier() throws(FormatPatternError) -> (Int, Int?)? {
      let start = index
      if take("*") { return (0, nil) }
      if take("+") { return (1, nil) }
      if take("?") { return (0, 1) }
      guard take("{") else { return nil }
      let low = number()
      var high: Int? = low
      if take(",") { high = number() }
      guard take("}"), low != nil || high != nil else {
        throw unsupported(
          "a '{' that does not start a quantifier {m}, {m,} or {m,n} (write \\{ for the character)", at: start)
      }
      if let high, high < low ?? 0 {
        throw invalid("a quantifier {m,n} whose m is greater than its n", at: start)
      }
      return (low ?? 0, high)
    }

    /// Decimal digits, saturating at Int.max (a huge count is refused by size later).
    mutating func number() -> Int? {
      var value: Int?
      while let c = current, ("0"..."9").contains(c) {
        let (times, o1) = (value ?? 0).multipliedReportingOverflow(by: 10)
        let (sum, o2) = times.addingReportingOverflow(Int(c.value - 48))
        value = o1 || o2 ? .max : sum
        index += 1
      }
      return value
    }

    mutating func atom(depth: Int) throws(FormatPatternError) -> FormatPattern {
      let start = index
      let c = scalars[index]
      index += 1
      switch c {
      case "(": return try group(depth: depth, start: start)
      case "[": return .scalar(try characterClass(start: start))
      case ".": return .scalar(.anyButLineBreak)
      case "^": return .startOfValue
      case "$": return .endOfValue
      case "\\": return try escape(start: start)
      case "*", "+", "?": throw invalid("a quantifier with nothing before it to repeat", at: start)
      case "{":
        index = start
        if (try? quantifier()) != nil { throw invalid("a quantifier with nothing before it to repeat", at: start) }
        throw unsupported(
          "a '{' that does not start a quantifier {m}, {m,} or {m,n} (write \\{ for the character)", at: start)
      default: return .scalar(.literal(c))
      }
    }

    /// After "(": a group.
    mutating func group(depth: Int, start: Int) throws(FormatPatternError) -> FormatPattern {
      guard depth < FormatPattern.maximumNesting else {
        throw FormatPatternError(
          kind: .tooLarge, problem: "groups nested more than \(FormatPattern.maximumNesting) deep", offset: start + 1)
      }
      if take("?") {
        if take(":") {
        } else if current == "=" || current == "!" {
          throw unsupported("a look-ahead (?=…) or (?!…)", at: start)
        } else if current == "<" && (peek(1) == "=" || peek(1) == "!") {
          throw unsupported("a look-behind (?<=…) or (?<!…)", at: start)
        } else if current == "<" || current == "'" || current == "P" {
          throw unsupported("a named group (use (…) or (?:…))", at: start)
        } else if current == ">" {
          throw unsupported("an atomic group (?>…)", at: start)
        } else if current == "#" {
          throw unsupported("a comment (?#…)", at: start)
        } else {
          throw unsupported("inline options such as (?i) (write both cases: [Aa])", at: start)
        }
      } else if current == "*" {
        throw unsupported("a (*…) directive", at: start)
      }
      let inner = try alternation(depth: depth + 1)
      guard take(")") else { throw invalid("a '(' without its ')'", at: start) }
      return inner
    }

    /// After "\\" outside a class.
    mutating func escape(start: Int) throws(FormatPatternError) -> FormatPattern {
      guard let c = current else { throw invalid("a '\\' at the end of the pattern", at: start) }
      switch c {
      case "A":
        index += 1
        return .startOfValue
      case "z":
        index += 1
        return .endOfValue
      default:
        return .scalar(try classEscape(start: start, inClass: false))
      }
    }

    /// After "\\": the class it stands for (a literal, or `\d`-like), outside or inside brackets.
    mutating func classEscape(start: Int, inClass: Bool) throws(FormatPatternError) -> ScalarClass {
      guard let c = current else { throw invalid("a '\\' at the end of the pattern", at: start) }
      index += 1
      switch c {
      case "d": return ScalarClass(properties: [(.digit, false)])
      case "w": return ScalarClass(properties: [(.word, false)])
      case "s": return ScalarClass(properties: [(.whitespace, false)])
      case "D": return ScalarClass(properties: [(.digit, true)])
      case "W": return ScalarClass(properties: [(.word, true)])
      case "S": return ScalarClass(properties: [(.whitespace, true)])
      case "t": return .literal("\t")
      case "n": return .literal("\n")
      case "r": return .literal("\r")
      case "f": return .literal("\u{0C}")
      case "x", "u":
        let digits: Int? = c == "x" ? 2 : 4
        guard let scalar = codePoint(fixedDigits: digits) else {
          throw invalid("\\\(c) without a valid code point (\\x41, \\x{41}, \\u0041 or \\u{41})", at: start)
        }
        return .literal(scalar)
      case "b", "B":
        throw unsupported(inClass ? "\\b inside a class (write \\x{8})" : "a word boundary \\b or \\B", at: start)
      case "1"..."9", "k", "g":
        throw unsupported("a back-reference \\\(c)", at: start)
      case "p", "P":
        throw unsupported("a Unicode property \\\(c){…}", at: start)
      case "Z": throw unsupported("\\Z (write $ or \\z: the end of the value)", at: start)
      case "Q": throw unsupported("quoting with \\Q…\\E (escape each character)", at: start)
      default:
        if c.isASCII && !c.properties.isAlphabetic && !("0"..."9").contains(c) && c.value >= 0x20 && c.value < 0x7F {
          return .literal(c)  // escaped punctuation or space: itself
        }
        throw unsupported("the escape \\\(c)", at: start)
      }
    }

    /// After `\x` or `\u`: `{h…}`, or exactly `fixedDigits` hex digits.
    mutating func codePoint(fixedDigits: Int?) -> Unicode.Scalar? {
      var text = ""
      if take("{") {
        while let c = current, c != "}", text.unicodeScalars.count <= 8 {
          text.unicodeScalars.append(c)
          index += 1
        }
        guard take("}") else { return nil }
      } else if let count = fixedDigits {
        while text.unicodeScalars.count < count, let c = current, c.properties.isASCIIHexDigit {
          text.unicodeScalars.append(c)
          index += 1
        }
        guard text.unicodeScalars.count == count else { return nil }
      }
      guard !text.isEmpty, text.unicodeScalars.allSatisfy(\.properties.isASCIIHexDigit),
        let value = UInt32(text, radix: 16)
      else { return nil }
      return Unicode.Scalar(value)
    }

    /// After "[": the class, up to its "]".
    mutating func characterClass(start: Int) throws(FormatPatternError) -> ScalarClass {
      let negated = take("^")
      var ranges: [ClosedRange<UInt32>] = []
      var properties: [(property: Property, negated: Bool)] = []
      if current == "]" { throw invalid("an empty class [] (write \\] for the character)", at: start) }
      while let c = current, c != "]" {
        let itemStart = index
        if c == "[" {
          throw unsupported("a nested class, a POSIX class such as [:alpha:], or a class operation", at: index)
        }
        if c == "&" || c == "~" || c == "-", peek(1) == c {
          throw unsupported("a class operation \(c)\(c)", at: index)
        }
        let low = try classMember(start: itemStart)
        if current == "-", peek(1) == "-" { throw unsupported("a class operation --", at: index) }
        guard current == "-", let after = peek(1), after != "]" else {
          if let scalar = low.single {
            ranges.append(scalar.value...scalar.value)
          } else {
            properties += low.set.properties
          }
          continue
        }
        index += 1  // "-"
        let highStart = index
        let high = try classMember(start: highStart)
        guard let lower = low.single, let upper = high.single else {
          throw invalid("a range whose end is a class such as \\d", at: itemStart)
        }
        guard lower.value <= upper.value else { throw invalid("a range whose start is after its end", at: itemStart) }
        ranges.append(lower.value...upper.value)
      }
      guard take("]") else { throw invalid("a '[' without its ']'", at: start) }
      return ScalarClass(ranges: ranges, properties: properties, negated: negated)
    }

    typealias Property = ScalarClass.Property

    /// One member of a bracket class: a single scalar, or a `\d`-like class.
    mutating func classMember(start: Int) throws(FormatPatternError) -> (single: Unicode.Scalar?, set: ScalarClass) {
      let c = scalars[index]
      index += 1
      guard c == "\\" else { return (c, .literal(c)) }
      let set = try classEscape(start: start, inClass: true)
      if set.properties.isEmpty, set.ranges.count == 1, set.ranges[0].count == 1 {
        return (Unicode.Scalar(set.ranges[0].lowerBound), set)
      }
      return (nil, set)
    }
  }
}
