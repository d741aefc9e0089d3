import DotEnv
import Testing

struct ErrorCase: Sendable, CustomTestStringConvertible {
  let name: String
  let input: [UInt8]
  let line: Int
  let column: Int
  let problem: DotEnvError.Problem
  init(_ name: String, _ input: String, _ line: Int, _ column: Int, _ problem: DotEnvError.Problem) {
    self.init(name, Array(input.utf8), line, column, problem)
  }
  init(_ name: String, _ input: [UInt8], _ line: Int, _ column: Int, _ problem: DotEnvError.Problem) {
    self.name = name
    self.input = input
    self.line = line
    self.column = column
    self.problem = problem
  }
  var testDescription: String { name }
}

let errorCases: [ErrorCase] = [
  // No '='
  .init("bare word", "A=1\nB=2\nFOO\n", 3, 1, .missingEquals),
  .init("indented bare word with comment", "  FOO  # c=d\n", 1, 3, .missingEquals),
  .init("export alone", "export\n", 1, 1, .missingEquals),
  .init("export key without =", "  export FOO\n", 1, 3, .missingEquals),
  .init("export and spaces", "export   \n", 1, 1, .missingEquals),
  .init("key then hash", "A#=1\n", 1, 1, .missingEquals),
  .init("pasted secret line", "A=1\nsk-live-abc\n", 2, 1, .missingEquals),

  // Invalid key
  .init("dot in key", "a.b=1\n", 1, 1, .invalidKey),
  .init("dash in key", "  a-b=1\n", 1, 3, .invalidKey),
  .init("leading digit", "9A=1\n", 1, 1, .invalidKey),
  .init("empty key", "=x\n", 1, 1, .invalidKey),
  .init("empty key after export", "export =x\n", 1, 8, .invalidKey),
  .init("bad key after export", "export 9=1\n", 1, 8, .invalidKey),
  .init("double-quoted key (python keeps the quotes in the name)", "\"A\"=1\n", 1, 1, .invalidKey),
  .init("single-quoted key that is no name", "'a b'=1\n", 1, 2, .invalidKey),
  .init("single-quoted key never closed", "'A=1\n", 1, 1, .invalidKey),
  .init("space inside key", "A B=1\n", 1, 1, .invalidKey),
  .init("unicode key", "ключ=1\n", 1, 1, .invalidKey),

  // Unterminated quotes: reported at the opening quote
  .init("unterminated single", "A=1\nB='abc\nC=3\n", 2, 3, .unterminatedSingleQuote(key: "B")),
  .init("unterminated double", "A=\"abc\n", 1, 3, .unterminatedDoubleQuote(key: "A")),
  .init(
    "unterminated after unicode spaces (columns count scalars)",
    "B=\u{00A0}\u{3000}'x\n", 1, 5, .unterminatedSingleQuote(key: "B")),
  .init(
    "escaped closing quote then EOF (python backtracks; we don't)",
    "A=\"abc\\\"\n", 1, 3, .unterminatedDoubleQuote(key: "A")),
  .init("escaped single closing quote then EOF", "A='abc\\'\n", 1, 3, .unterminatedSingleQuote(key: "A")),
  .init("unterminated after multi-line value", "A='x\ny'\nB=\"\n", 3, 3, .unterminatedDoubleQuote(key: "B")),

  // Text after closing quote: reported at the first offending character
  .init("garbage after double", "A=\"x\" y\n", 1, 7, .textAfterClosingQuote(key: "A")),
  .init("garbage right after single", "A='x'y\n", 1, 6, .textAfterClosingQuote(key: "A")),
  .init("garbage after multi-line value", "A=\"x\ny\"z\n", 2, 3, .textAfterClosingQuote(key: "A")),
  .init("second quoted string", "A='x' 'y'\n", 1, 7, .textAfterClosingQuote(key: "A")),
  .init("even backslashes close the quote", "A=\"x\\\\\" y\"\n", 1, 9, .textAfterClosingQuote(key: "A")),

  // Duplicate keys: reported at the second key
  .init("duplicate", "A=1\n  A=2\n", 2, 3, .duplicateKey("A", firstLine: 1)),
  .init("duplicate via export", "A=1\nB=2\nexport A=3\n", 3, 8, .duplicateKey("A", firstLine: 1)),
  .init("duplicate with same value", "A=x\nA=x\n", 2, 1, .duplicateKey("A", firstLine: 1)),

  // Invalid UTF-8: reported at the first byte of the bad sequence
  .init("0xFF in value", Array("A=1\nB=x".utf8) + [0xFF] + Array("y\n".utf8), 2, 4, .invalidUTF8),
  .init("after multibyte char", Array("B=é".utf8) + [0xFF], 1, 4, .invalidUTF8),
  .init("truncated sequence at EOF", Array("A=".utf8) + [0xE2, 0x82], 1, 3, .invalidUTF8),
  .init("truncated sequence mid-line", Array("A=".utf8) + [0xE2, 0x82, 0x41], 1, 3, .invalidUTF8),
  .init("overlong", Array("A=".utf8) + [0xC0, 0xAF], 1, 3, .invalidUTF8),
  .init("overlong 3-byte", Array("A=".utf8) + [0xE0, 0x80, 0xAF], 1, 3, .invalidUTF8),
  .init("surrogate", Array("A=".utf8) + [0xED, 0xA0, 0x80], 1, 3, .invalidUTF8),
  .init("above U+10FFFF", Array("A=".utf8) + [0xF4, 0x90, 0x80, 0x80], 1, 3, .invalidUTF8),
  .init("stray continuation", Array("A=".utf8) + [0x80], 1, 3, .invalidUTF8),
  .init("inside quoted value", Array("A='ok\nx".utf8) + [0xFE] + Array("'\n".utf8), 2, 2, .invalidUTF8),
  .init("in a comment", Array("# ".utf8) + [0xC3], 1, 3, .invalidUTF8),
  .init("after BOM (BOM not counted)", [0xEF, 0xBB, 0xBF] + Array("A=".utf8) + [0xFF], 1, 3, .invalidUTF8),
  .init("encoding is checked before syntax", Array("FOO\nA=".utf8) + [0xFF], 2, 3, .invalidUTF8),
  .init("after 8-byte ASCII fast path", Array("ABCDEFGH=12345678\n".utf8) + [0x80], 2, 1, .invalidUTF8),

  // Line counting with CRLF and lone CR
  .init("CRLF lines", "A=1\r\nB=2\r\nC\r\n", 3, 1, .missingEquals),
  .init("lone CR lines", "A=1\rC", 2, 1, .missingEquals),
  .init("CRLF inside quoted value counts once", "A=\"x\r\ny\"\r\nB='\r\n", 3, 3, .unterminatedSingleQuote(key: "B")),
  .init("unquoted value with lone CR", "A=b\rc\n", 2, 1, .missingEquals),
]

@Test("parser errors", arguments: errorCases)
func parserError(_ c: ErrorCase) {
  let file = "vault/occ/svc/dev.env"
  #expect(throws: DotEnvError(file: file, line: c.line, column: c.column, problem: c.problem)) {
    try DotEnvParser.parse(c.input, file: file)
  }
}

@Test func errorDescriptionFormat() {
  do {
    _ = try DotEnvParser.parse("A=1\nB=2\nFOO\n", file: "vault/occ/openai/prod.env")
    Issue.record("expected an error")
  } catch {
    #expect(error.description == "vault/occ/openai/prod.env:3:1: line has no '='")
  }
}

@Test(arguments: [
  (DotEnvError.Problem.missingEquals, "line has no '='"),
  (.invalidKey, "invalid key name"),
  (.unterminatedSingleQuote(key: "K"), "unterminated single quote in value of K"),
  (.unterminatedDoubleQuote(key: "K"), "unterminated double quote in value of K"),
  (.textAfterClosingQuote(key: "K"), "unexpected text after closing quote in value of K"),
  (.duplicateKey("K", firstLine: 7), "duplicate key K (first set on line 7)"),
  (.invalidUTF8, "invalid utf-8"),
])
func problemDescriptions(_ problem: DotEnvError.Problem, _ text: String) {
  #expect(problem.description == text)
  #expect(DotEnvError(file: "f", line: 2, column: 5, problem: problem).description == "f:2:5: \(text)")
}

/// Error messages must never contain secret material: neither values nor malformed key text.
@Test(arguments: [
  "SECRETVALUE\n",
  "  SECRETVALUE  SECRETVALUE\n",
  "SECRET.VALUE=SECRETVALUE\n",
  "SECRET VALUE=1\n",
  "A='SECRETVALUE\n",
  "A=\"SECRETVALUE\nSECRETVALUE\n",
  "A=\"SECRETVALUE\"SECRETVALUE\n",
  "A='SECRETVALUE' SECRETVALUE\n",
  "A=SECRETVALUE\nA=SECRETVALUE\n",
  "A=SECRETVALUE\u{FFFF}\n",
])
func errorsNeverContainValues(_ text: String) {
  var bytes = Array(text.utf8)
  // Turn the U+FFFF marker into an invalid byte so the invalid-UTF-8 path is covered too.
  if let i = bytes.firstIndex(of: 0xEF) { bytes.replaceSubrange(i..<i + 3, with: [0xFF]) }
  do {
    _ = try DotEnvParser.parse(bytes, file: "f.env")
    Issue.record("expected an error")
  } catch {
    for rendered in [error.description, String(reflecting: error), "\(error.problem)"] {
      #expect(!rendered.contains("SECRET"))
      #expect(!rendered.contains("VALUE"))
    }
  }
}

@Test func firstErrorInFileOrderWins() {
  #expect(throws: DotEnvError(file: "f", line: 2, column: 1, problem: .invalidKey)) {
    try DotEnvParser.parse("A=1\n1B=2\nC\nA=3\n", file: "f")
  }
}
