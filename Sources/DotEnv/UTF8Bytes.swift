/// Byte-level helpers over UTF-8 text shared by the parser and the writer.
/// Everything here works on UTF-8 code units, never on `Character`.
enum UTF8Bytes {
  static let tab: UInt8 = 0x09
  static let lf: UInt8 = 0x0A
  static let cr: UInt8 = 0x0D
  static let space: UInt8 = 0x20
  static let doubleQuote: UInt8 = 0x22
  static let hash: UInt8 = 0x23
  static let singleQuote: UInt8 = 0x27
  static let equals: UInt8 = 0x3D
  static let backslash: UInt8 = 0x5C

  /// Byte length of the UTF-8 sequence starting with lead byte `b` (input already validated).
  @inline(__always)
  static func scalarLength(lead b: UInt8) -> Int {
    b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4
  }

  @inline(__always)
  static func isLineBreak(_ b: UInt8) -> Bool { b == lf || b == cr }

  /// Byte length of the whitespace scalar at `i`, or 0 if `p[i]` does not start one.
  ///
  /// "Whitespace" is exactly Python's `str.isspace()` / regex `\s` set, which is what
  /// python-dotenv trims and skips: U+0009–U+000D, U+001C–U+001F, U+0020, U+0085,
  /// U+00A0, U+1680, U+2000–U+200A, U+2028, U+2029, U+202F, U+205F, U+3000.
  /// Requires valid UTF-8 in `p` and `i < p.count`.
  @inline(__always)
  static func whitespaceLength(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int {
    let b = p[i]
    if b < 0x80 {
      return (b == space || (b >= 0x09 && b <= 0x0D) || (b >= 0x1C && b <= 0x1F)) ? 1 : 0
    }
    return nonASCIIWhitespaceLength(p, i, lead: b)
  }

  static func nonASCIIWhitespaceLength(_ p: UnsafeBufferPointer<UInt8>, _ i: Int, lead b: UInt8) -> Int {
    switch b {
    case 0xC2:
      let b1 = p[i + 1]
      return (b1 == 0x85 || b1 == 0xA0) ? 2 : 0
    case 0xE1:
      return (p[i + 1] == 0x9A && p[i + 2] == 0x80) ? 3 : 0
    case 0xE2:
      let b1 = p[i + 1]
      let b2 = p[i + 2]
      if b1 == 0x80 {
        return (b2 <= 0x8A || b2 == 0xA8 || b2 == 0xA9 || b2 == 0xAF) ? 3 : 0
      }
      return (b1 == 0x81 && b2 == 0x9F) ? 3 : 0
    case 0xE3:
      return (p[i + 1] == 0x80 && p[i + 2] == 0x80) ? 3 : 0
    default:
      return 0
    }
  }

  /// Start offset of the whitespace scalar that ends right before `i`, or nil if the scalar
  /// ending there is not whitespace. `lowerBound` must be a scalar boundary `<= i`.
  @inline(__always)
  static func whitespaceStart(endingAt i: Int, in p: UnsafeBufferPointer<UInt8>, lowerBound: Int) -> Int? {
    guard i > lowerBound else { return nil }
    var j = i - 1
    if p[j] >= 0x80 {
      while j > lowerBound && p[j] & 0xC0 == 0x80 { j -= 1 }
    }
    return whitespaceLength(p, j) == i - j ? j : nil
  }

  /// Offset of the first byte in `p[from..<to]` equal to any of `t0...t3`, or `to` if none.
  /// Scans eight bytes at a time (SWAR); the targets must be ASCII.
  @inline(__always)
  static func firstIndex(
    in p: UnsafeBufferPointer<UInt8>, from: Int, to end: Int,
    of t0: UInt8, _ t1: UInt8, _ t2: UInt8, _ t3: UInt8
  ) -> Int {
    let ones: UInt64 = 0x0101_0101_0101_0101
    let highs: UInt64 = 0x8080_8080_8080_8080
    @inline(__always) func has(_ w: UInt64, _ t: UInt8) -> UInt64 {
      let x = w ^ (ones &* UInt64(t))
      return (x &- ones) & ~x & highs  // nonzero iff some byte of w equals t
    }
    var i = from
    if let base = p.baseAddress {
      while i + 8 <= end {
        let w = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
        if has(w, t0) | has(w, t1) | has(w, t2) | has(w, t3) != 0 { break }
        i += 8
      }
    }
    while i < end {
      let b = p[i]
      if b == t0 || b == t1 || b == t2 || b == t3 { return i }
      i += 1
    }
    return end
  }

  /// Number of bytes equal to `target` in `p[from...]`, eight bytes at a time.
  static func count(of target: UInt8, in p: UnsafeBufferPointer<UInt8>, from: Int) -> Int {
    let lows: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
    let pattern = 0x0101_0101_0101_0101 &* UInt64(target)
    var total = 0
    var i = from
    if let base = p.baseAddress {
      while i + 8 <= p.count {
        let x = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self) ^ pattern
        // High bit of each byte set iff that byte of x is non-zero (exact, no borrows).
        let nonZero = (((x & lows) &+ lows) | x) & ~lows
        total += 8 - nonZero.nonzeroBitCount
        i += 8
      }
    }
    while i < p.count {
      if p[i] == target { total += 1 }
      i += 1
    }
    return total
  }

  @inline(__always)
  static func isKeyHead(_ b: UInt8) -> Bool {
    (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F
  }

  @inline(__always)
  static func isKeyTail(_ b: UInt8) -> Bool {
    isKeyHead(b) || (b >= 0x30 && b <= 0x39)
  }

  /// Whether `bytes` is a valid key: `[A-Za-z_][A-Za-z0-9_]*`.
  @inline(__always)
  static func isValidKey(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    guard let first = bytes.first, isKeyHead(first) else { return false }
    for i in 1..<bytes.count where !isKeyTail(bytes[i]) { return false }
    return true
  }

  /// Whether `bytes` is a valid key: `[A-Za-z_][A-Za-z0-9_]*`.
  static func isValidKey(_ bytes: some Sequence<UInt8>) -> Bool {
    var first = true
    for b in bytes {
      if first {
        guard isKeyHead(b) else { return false }
        first = false
      } else if !isKeyTail(b) {
        return false
      }
    }
    return !first
  }

  /// Offset of the first byte of the first ill-formed UTF-8 sequence in `p[from...]`,
  /// or nil if it is all valid. Rejects overlong forms, surrogates and values above U+10FFFF.
  static func firstInvalidUTF8(_ p: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
    let n = p.count
    var i = start
    while i < n {
      // Fast path: 8 ASCII bytes at a time.
      if i + 8 <= n, let base = p.baseAddress {
        let word = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
        if word & 0x8080_8080_8080_8080 == 0 {
          i += 8
          continue
        }
      }
      let b = p[i]
      if b < 0x80 {
        i += 1
        continue
      }
      @inline(__always) func cont(_ k: Int) -> Bool {
        i + k < n && p[i + k] & 0xC0 == 0x80
      }
      switch b {
      case 0xC2...0xDF:
        guard cont(1) else { return i }
        i += 2
      case 0xE0...0xEF:
        guard cont(1), cont(2) else { return i }
        let b1 = p[i + 1]
        if b == 0xE0 && b1 < 0xA0 { return i }  // overlong
        if b == 0xED && b1 > 0x9F { return i }  // surrogate
        i += 3
      case 0xF0...0xF4:
        guard cont(1), cont(2), cont(3) else { return i }
        let b1 = p[i + 1]
        if b == 0xF0 && b1 < 0x90 { return i }  // overlong
        if b == 0xF4 && b1 > 0x8F { return i }  // above U+10FFFF
        i += 4
      default:
        return i  // continuation byte without lead, C0, C1, F5...FF
      }
    }
    return nil
  }

  /// 1-based (line, column) of byte `offset`, scanning from `start` (just after any BOM).
  /// Lines end at CRLF, LF or a lone CR; columns count Unicode scalars.
  /// Requires `p[start..<offset]` to be valid UTF-8.
  static func location(of offset: Int, in p: UnsafeBufferPointer<UInt8>, from start: Int) -> (line: Int, column: Int) {
    var line = 1
    var lineStart = start
    var i = start
    while i < offset {
      let b = p[i]
      if b == lf || (b == cr && !(i + 1 < p.count && p[i + 1] == lf)) {
        line += 1
        lineStart = i + 1
      }
      i += 1
    }
    var column = 1
    for j in lineStart..<offset where p[j] & 0xC0 != 0x80 {
      column += 1
    }
    return (line, column)
  }
}
