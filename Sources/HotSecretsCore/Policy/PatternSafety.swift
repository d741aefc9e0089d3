/// Refuses `format` patterns whose matching time can explode, before they are ever run.
///
/// Swift's `Regex` is a backtracking engine without a time limit: `^(a+)+$` against 39 `a` and a
/// `!` tries every way of splitting the `a`s, about 2^39 of them, and `verify` would never finish.
/// A pattern is accepted only when no part of it can match one piece of text in more than one way
/// over and over. Refused, wherever they appear (lookarounds included):
/// - a part repeated more than once that contains a quantifier of its own whose count can vary
///   (`?`, `*`, `+`, `{n,}`, `{n,m}`) or a back-reference: `(a+)+`, `(a*)*`, `(.*a){20}`,
///   `([a-z]+\.)+`;
/// - a part repeated more than once that can match the empty string: `(a?)+`, `(\b)*`;
/// - inside a part repeated more than once, an alternation whose branches can begin with the same
///   character (or match nothing): `(a|a)*`, `(a|aa)+`, `(ab|ac)+`; `(ab|cd)+` is accepted;
/// - two quantified items with a varying count next to each other (or separated only by items that
///   can match nothing) that can match the same character: `\d+\d*`, `.*.*`, `a+-?a+`.
///
/// The analysis is conservative: character sets are approximated from above (a negated class, `.`,
/// `\D`, `\p{…}` count as "any character"; letters match both cases), so a refused pattern may be
/// harmless; an accepted one has no exponential case. What remains is polynomial: an unanchored
/// search retries from every position, so `[a-z]+!` against 64 KiB of letters is quadratic
/// (docs/policy.md says to anchor formats with `^`).
enum PatternSafety {
  /// Why `pattern` is refused, as a clause ("a repeated group contains a quantifier of its own"),
  /// or nil when it is accepted. Call only on patterns `Regex` compiles: anything this reader does
  /// not understand is treated as matching any character, the cautious reading.
  static func problem(in pattern: String) -> String? {
    var parser = Parser(Array(pattern.unicodeScalars))
    var parts = [parser.alternation()]
    // A ")" this reader did not expect: skip it and read on, so every part is still checked.
    while !parser.atEnd {
      parser.index += 1
      parts.append(parser.alternation())
    }
    return check(parts.count == 1 ? parts[0] : .sequence(parts), repeated: false)
  }

  // MARK: - Character sets (an over-approximation)

  struct CharSet {
    /// Matches any character.
    var any = false
    var ranges: [ClosedRange<UInt32>] = []

    static let anything = CharSet(any: true)
    static let nonASCII: ClosedRange<UInt32> = 0x80...0x10FFFF

    static func scalar(_ value: UInt32) -> CharSet { CharSet(ranges: [value...value]).folded() }

    func overlaps(_ other: CharSet) -> Bool {
      if any || other.any { return true }
      return ranges.contains { a in other.ranges.contains { b in a.overlaps(b) } }
    }

    mutating func formUnion(_ other: CharSet) {
      any = any || other.any
      ranges += other.ranges
    }

    /// With the other case of every ASCII letter it holds (case-insensitive options are not tracked).
    func folded() -> CharSet {
      var result = self
      for letter in UInt32(65)...UInt32(90) {
        let lower = letter + 32
        if ranges.contains(where: { $0.contains(letter) }) { result.ranges.append(lower...lower) }
        if ranges.contains(where: { $0.contains(lower) }) { result.ranges.append(letter...letter) }
      }
      return result
    }

    /// Every character not in `self` (exact for plain ranges).
    func complemented() -> CharSet {
      if any { return CharSet() }
      var result = CharSet()
      var next: UInt32 = 0
      for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
        if range.lowerBound > next { result.ranges.append(next...(range.lowerBound - 1)) }
        if range.upperBound >= next { next = range.upperBound &+ 1 }
        if next == 0 { return result }  // wrapped past 0xFFFFFFFF
      }
      if next <= 0x10FFFF { result.ranges.append(next...0x10FFFF) }
      return result
    }
  }

  // MARK: - Syntax tree

  indirect enum Node {
    /// Matches nothing but may test something: anchors, options, an empty branch.
    case empty
    /// One character from the set.
    case atom(CharSet)
    /// A lookaround: tests `Node` at the position, consumes nothing.
    case lookaround(Node)
    case sequence([Node])
    case alternation([Node])
    /// `max` nil: unbounded.
    case repetition(Node, min: Int, max: Int?)
    /// Matches what a group matched: any length.
    case backreference
  }

  /// Shortest and longest text `node` can match (nil: unbounded).
  static func width(_ node: Node) -> (min: Int, max: Int?) {
    switch node {
    case .empty, .lookaround: return (0, 0)
    case .atom: return (1, 1)
    case .backreference: return (0, nil)
    case .sequence(let items):
      var low = 0
      var high: Int? = 0
      for item in items {
        let w = width(item)
        low = low.addingSaturated(w.min)
        high = high.flatMap { h in w.max.map { h.addingSaturated($0) } }
      }
      return (low, high)
    case .alternation(let branches):
      let widths = branches.map(width)
      let low = widths.map(\.min).min() ?? 0
      let high: Int? = widths.contains { $0.max == nil } ? nil : widths.compactMap(\.max).max() ?? 0
      return (low, high)
    case .repetition(let body, let min, let max):
      let w = width(body)
      let high: Int? = (max != nil && w.max != nil) ? w.max!.multipliedSaturated(max!) : (w.max == 0 ? 0 : nil)
      return (w.min.multipliedSaturated(min), high)
    }
  }

  /// The characters `node` can start with.
  static func firstCharacters(_ node: Node) -> CharSet {
    switch node {
    case .empty, .lookaround: return CharSet()
    case .atom(let set): return set
    case .backreference: return .anything
    case .sequence(let items):
      var result = CharSet()
      for item in items {
        result.formUnion(firstCharacters(item))
        if width(item).min > 0 { break }
      }
      return result
    case .alternation(let branches):
      var result = CharSet()
      for branch in branches { result.formUnion(firstCharacters(branch)) }
      return result
    case .repetition(let body, _, let max):
      return max == 0 ? CharSet() : firstCharacters(body)
    }
  }

  /// Every character `node` can match.
  static func allCharacters(_ node: Node) -> CharSet {
    switch node {
    case .empty, .lookaround: return CharSet()
    case .atom(let set): return set
    case .backreference: return .anything
    case .sequence(let nodes), .alternation(let nodes):
      var result = CharSet()
      for item in nodes { result.formUnion(allCharacters(item)) }
      return result
    case .repetition(let body, _, _): return allCharacters(body)
    }
  }

  /// Whether `node` holds a quantifier whose count can vary, or a back-reference.
  static func varies(_ node: Node) -> Bool {
    switch node {
    case .empty, .atom: return false
    case .backreference: return true
    case .lookaround(let inner): return varies(inner)
    case .sequence(let nodes), .alternation(let nodes): return nodes.contains(where: varies)
    case .repetition(let body, let min, let max): return max != min || varies(body)
    }
  }

  /// A quantified item whose count can vary (through groups of one item).
  static func variableRun(_ node: Node) -> Node? {
    switch node {
    case .repetition(_, let min, let max) where max != min: return node
    case .sequence(let items) where items.count == 1: return variableRun(items[0])
    default: return nil
    }
  }

  static func check(_ node: Node, repeated: Bool) -> String? {
    switch node {
    case .empty, .atom, .backreference: return nil
    case .lookaround(let inner): return check(inner, repeated: repeated)
    case .repetition(let body, _, let max):
      guard max == nil || max! > 1 else { return check(body, repeated: repeated) }
      if width(body).min == 0 { return "a repeated part can match an empty string, e.g. (a?)+" }
      if varies(body) {
        return "a repeated part contains a quantifier of its own, e.g. (a+)+ or (.*a){20}"
      }
      return check(body, repeated: true)
    case .alternation(let branches):
      if repeated {
        for (i, a) in branches.enumerated() {
          if width(a).min == 0 { return "inside a repeated part, an alternative can match an empty string" }
          for b in branches[(i + 1)...] where firstCharacters(a).overlaps(firstCharacters(b)) {
            return "inside a repeated part, two alternatives can start with the same character, e.g. (a|aa)+"
          }
        }
      }
      for branch in branches {
        if let problem = check(branch, repeated: repeated) { return problem }
      }
      return nil
    case .sequence(let items):
      for (i, item) in items.enumerated() {
        if let problem = check(item, repeated: repeated) { return problem }
        guard let run = variableRun(item) else { continue }
        // Later quantified items this one can trade characters with: up to the first item that
        // must match something.
        for later in items[(i + 1)...] {
          if let other = variableRun(later), allCharacters(run).overlaps(firstCharacters(other)) {
            return "two quantifiers next to each other can match the same characters, e.g. \\d+\\d* or .*.*"
          }
          if width(later).min > 0 { break }
        }
      }
      return nil
    }
  }

  // MARK: - Parser (the subset of Swift Regex syntax that matters; the rest reads as "any")

  struct Parser {
    let scalars: [Unicode.Scalar]
    var index = 0

    init(_ scalars: [Unicode.Scalar]) { self.scalars = scalars }

    var atEnd: Bool { index >= scalars.count }
    var current: Unicode.Scalar? { atEnd ? nil : scalars[index] }

    mutating func take(_ scalar: Unicode.Scalar) -> Bool {
      guard current == scalar else { return false }
      index += 1
      return true
    }

    mutating func alternation() -> Node {
      var branches = [sequence()]
      while take("|") { branches.append(sequence()) }
      return branches.count == 1 ? branches[0] : .alternation(branches)
    }

    mutating func sequence() -> Node {
      var items: [Node] = []
      while let c = current, c != "|", c != ")" {
        var item = atom()
        while let (min, max) = quantifier() { item = .repetition(item, min: min, max: max) }
        items.append(item)
      }
      return .sequence(items)
    }

    /// `*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}`, `{,m}`, each optionally lazy (`?`) or possessive (`+`).
    mutating func quantifier() -> (Int, Int?)? {
      let start = index
      var bounds: (Int, Int?)?
      if take("*") {
        bounds = (0, nil)
      } else if take("+") {
        bounds = (1, nil)
      } else if take("?") {
        bounds = (0, 1)
      } else if take("{") {
        let low = number()
        var high: Int?? = .some(low)
        if take(",") { high = .some(number()) }
        if take("}"), low != nil || high! != nil {
          bounds = (low ?? 0, high!)
        } else {
          index = start  // a literal "{"
          return nil
        }
      }
      guard let bounds else { return nil }
      if !take("?") { _ = take("+") }
      return bounds
    }

    mutating func number() -> Int? {
      var value: Int?
      while let c = current, let digit = Int(String(c)), c.isASCII {
        value = (value ?? 0).multipliedSaturated(10).addingSaturated(digit)
        index += 1
      }
      return value
    }

    mutating func atom() -> Node {
      guard let c = current else { return .empty }
      index += 1
      switch c {
      case "(": return group()
      case "[":
        return .atom(characterClass())
      case ".": return .atom(.anything)
      case "^", "$": return .empty
      case "\\": return escape(inClass: false).node
      default: return .atom(.scalar(c.value))
      }
    }

    /// After "(": a group, lookaround, or inline options.
    mutating func group() -> Node {
      var lookaround = false
      if take("?") {
        if take(":") || take(">") || take("|") {
        } else if take("=") || take("!") {
          lookaround = true
        } else if take("<") {
          if take("=") || take("!") {
            lookaround = true
          } else {
            skipName(until: ">")
          }
        } else if take("'") {
          skipName(until: "'")
        } else if take("P") {
          if take("<") { skipName(until: ">") } else if take("=") { skipName(until: ")") } else { _ = take(">") }
          if scalars[index - 1] == ")" { return .backreference }
        } else {
          // Inline options: (?i) applies to the rest, (?i:…) is a group.
          while let c = current, c != ")", c != ":" { index += 1 }
          if take(")") { return .empty }
          _ = take(":")
        }
      } else if take("*") {
        // (*atomic:…) and similar: read the contents as a group.
        while let c = current, c != ":", c != ")" { index += 1 }
        _ = take(":")
      }
      let inner = alternation()
      _ = take(")")
      return lookaround ? .lookaround(inner) : inner
    }

    mutating func skipName(until end: Unicode.Scalar) {
      while let c = current, c != end { index += 1 }
      _ = take(end)
    }

    /// After "\\": the node (outside a class) and the character set (inside one).
    mutating func escape(inClass: Bool) -> (node: Node, set: CharSet) {
      guard let c = current else { return (.atom(.scalar(92)), .scalar(92)) }
      index += 1
      let digits = CharSet(ranges: [48...57, CharSet.nonASCII])
      let word = CharSet(ranges: [48...57, 65...90, 97...122, 95...95, CharSet.nonASCII])
      let space = CharSet(ranges: [9...13, 32...32, CharSet.nonASCII])
      switch c {
      case "d": return (.atom(digits), digits)
      case "w": return (.atom(word), word)
      case "s": return (.atom(space), space)
      case "b", "B", "A", "z", "Z", "G", "K", "y", "Y":
        return inClass && c == "b" ? (.atom(.scalar(8)), .scalar(8)) : (.empty, CharSet())
      case "n": return (.atom(.scalar(10)), .scalar(10))
      case "t": return (.atom(.scalar(9)), .scalar(9))
      case "r": return (.atom(.scalar(13)), .scalar(13))
      case "f": return (.atom(.scalar(12)), .scalar(12))
      case "v" where inClass: return (.atom(.scalar(11)), .scalar(11))
      case "e": return (.atom(.scalar(27)), .scalar(27))
      case "a": return (.atom(.scalar(7)), .scalar(7))
      case "0": return (.atom(.scalar(0)), .scalar(0))
      case "1"..."9":
        while let d = current, ("0"..."9").contains(d) { index += 1 }
        return (.backreference, .anything)
      case "k", "g":
        if let open = current, ["<", "{", "'"].contains(open) {
          index += 1
          let close: Unicode.Scalar = open == "<" ? ">" : open == "{" ? "}" : "'"
          skipName(until: close)
        } else {
          while let d = current, ("0"..."9").contains(d) || d == "-" { index += 1 }
        }
        return (.backreference, .anything)
      case "x", "u", "U", "o":
        if let value = codePoint(after: c) { return (.atom(.scalar(value)), .scalar(value)) }
        return (.atom(.anything), .anything)
      case "p", "P":
        if take("{") { skipName(until: "}") } else if !atEnd { index += 1 }
        return (.atom(.anything), .anything)
      case "Q":
        // \Q…\E: literal text.
        var items: [Node] = []
        var set = CharSet()
        while let q = current {
          if q == "\\", index + 1 < scalars.count, scalars[index + 1] == "E" {
            index += 2
            break
          }
          items.append(.atom(.scalar(q.value)))
          set.formUnion(.scalar(q.value))
          index += 1
        }
        return (.sequence(items), set)
      default:
        // \D, \W, \S, \h, \H, \v, \V, \R, \N, \X, \C, \O, …: as "any"; other letters likewise;
        // punctuation is itself.
        if c.properties.isAlphabetic { return (.atom(.anything), .anything) }
        return (.atom(.scalar(c.value)), .scalar(c.value))
      }
    }

    /// `\xhh`, `\x{h…}`, `\uhhhh`, `\u{h…}`, `\Uhhhhhhhh`, `\o{…}`; nil when not one of these.
    mutating func codePoint(after kind: Unicode.Scalar) -> UInt32? {
      let radix = kind == "o" ? 8 : 16
      var text = ""
      if take("{") {
        while let c = current, c != "}" {
          text.unicodeScalars.append(c)
          index += 1
        }
        _ = take("}")
      } else {
        let count = kind == "x" ? 2 : kind == "u" ? 4 : kind == "U" ? 8 : 0
        while text.unicodeScalars.count < count, let c = current, c.properties.isASCIIHexDigit {
          text.unicodeScalars.append(c)
          index += 1
        }
      }
      return UInt32(text.trimmingSpaces, radix: radix)
    }

    /// After "[": the class's characters, up to its "]".
    mutating func characterClass() -> CharSet {
      let negated = take("^")
      var set = CharSet()
      var exact = true  // only literal characters and ranges: complement is exact
      var first = true
      while let c = current {
        if c == "]" && !first { break }
        first = false
        index += 1
        var low: UInt32
        switch c {
        case "[":
          // Nested class or POSIX [:alpha:]: read up to its end, count as any.
          var depth = 1
          while let d = current, depth > 0 {
            index += 1
            if d == "[" { depth += 1 } else if d == "]" { depth -= 1 } else if d == "\\" { index += 1 }
          }
          set = .anything
          exact = false
          continue
        case "\\":
          let escaped = escape(inClass: true)
          if case .atom(let one) = escaped.node, one.ranges.count == 1, !one.any, one.ranges[0].count == 1 {
            low = one.ranges[0].lowerBound
          } else {
            set.formUnion(escaped.set)
            exact = false
            continue
          }
        case "&" where current == "&", "~" where current == "~", "-" where current == "-":
          // Set operations (&&, ~~, --): read the rest as "any".
          set = .anything
          exact = false
          continue
        default:
          low = c.value
        }
        if current == "-", index + 1 < scalars.count, scalars[index + 1] != "]" {
          index += 1
          var high = low
          if let h = current {
            index += 1
            if h == "\\" {
              let escaped = escape(inClass: true)
              if case .atom(let one) = escaped.node, !one.any, one.ranges.count == 1 {
                high = one.ranges[0].upperBound
              } else {
                set.formUnion(escaped.set)
                exact = false
              }
            } else {
              high = h.value
            }
          }
          set.ranges.append(Swift.min(low, high)...Swift.max(low, high))
        } else {
          set.ranges.append(low...low)
        }
      }
      _ = take("]")
      if negated { return exact ? set.complemented().folded() : .anything }
      return set.folded()
    }
  }
}

extension Int {
  fileprivate func addingSaturated(_ other: Int) -> Int {
    let (sum, overflow) = addingReportingOverflow(other)
    return overflow ? .max : sum
  }

  fileprivate func multipliedSaturated(_ other: Int) -> Int {
    let (product, overflow) = multipliedReportingOverflow(by: other)
    return overflow ? .max : product
  }
}

extension String {
  fileprivate var trimmingSpaces: String { filter { $0 != " " } }
}
