import DotEnv
import Testing

struct ParseCase: Sendable, CustomTestStringConvertible {
  let name: String
  let input: String
  let expected: [KV]
  init(_ name: String, _ input: String, _ expected: [KV]) {
    self.name = name
    self.input = input
    self.expected = expected
  }
  var testDescription: String { name }
}

/// Every expectation here was also checked against python-dotenv 1.2.2 with
/// `dotenv_values(path, interpolate=False)`, except the ones marked "differs from python".
let parseCases: [ParseCase] = [
  // Basics, export, whitespace around '='
  .init("simple", "A=1\n", [KV("A", "1")]),
  .init("no trailing newline", "A=1", [KV("A", "1")]),
  .init("underscore and digits in key", "_a_B9=x\n", [KV("_a_B9", "x")]),
  .init("export prefix", "export A=1\n", [KV("A", "1")]),
  .init("export with tab and spaces", "  export\t  A = 1 \n", [KV("A", "1")]),
  .init("key named export", "export=1\n", [KV("export", "1")]),
  .init("key starting with export", "exportA=1\n", [KV("exportA", "1")]),
  .init("export then comment is a comment", "export # not a key\nA=1\n", [KV("A", "1")]),
  .init("spaces around =", "A = b\n", [KV("A", "b")]),
  .init("tabs around =", "A\t=\tb\n", [KV("A", "b")]),
  .init("indented key", "   A=b\n\tB=c\n", [KV("A", "b"), KV("B", "c")]),
  .init("form feed / vertical tab count as whitespace", "A\u{0C}=\u{0B}1\u{0C}\n", [KV("A", "1")]),
  .init("unicode whitespace before key", "\u{00A0}\u{3000}A=1\n", [KV("A", "1")]),

  // Unquoted values
  .init("unquoted trimmed", "A=  hello world  \n", [KV("A", "hello world")]),
  .init("hash without space is literal", "A=b#c\n", [KV("A", "b#c")]),
  .init("space hash starts comment", "A=b #c\n", [KV("A", "b")]),
  .init("tab hash starts comment", "A=b\t# c # d\n", [KV("A", "b")]),
  .init("inner spaces kept", "A=a  b\tc   # x\n", [KV("A", "a  b\tc")]),
  .init("empty value then a comment (differs from python, which reads '# x')", "A= # x\n", [KV("A", "")]),
  .init("empty value then a comment, tab (differs from python)", "API_KEY=\t# fill me in\n", [KV("API_KEY", "")]),
  .init("hash right after = is the value", "A=#x\n", [KV("A", "#x")]),
  .init("single-quoted key is its name", "'A'=1\n", [KV("A", "1")]),
  .init("single-quoted key after export", "export 'a'=b\n", [KV("a", "b")]),
  .init("single-quoted key, spaces around =", "  'B_2'  =  x\n", [KV("B_2", "x")]),
  .init("hash right after =", "A=#x\n", [KV("A", "#x")]),
  .init("equals in value", "A=b=c==\n", [KV("A", "b=c==")]),
  .init("quotes inside unquoted value", "A=x'y\"z\n", [KV("A", "x'y\"z")]),
  .init("backslashes unquoted are literal", "A=C:\\dir\\n\\\n", [KV("A", "C:\\dir\\n\\")]),
  .init("nbsp trimmed like python", "A=b\u{00A0}\n", [KV("A", "b")]),
  .init("nbsp before hash starts comment", "A=b\u{00A0}#c\n", [KV("A", "b")]),
  .init("U+2028 trimmed", "A=b\u{2028}\n", [KV("A", "b")]),
  .init("unicode value", "A=héllo wörld 🎉\n", [KV("A", "héllo wörld 🎉")]),
  .init(
    "dollar is literal", "P=$HOME\nQ=${HOME}\nR=${X:-y}\n",
    [KV("P", "$HOME"), KV("Q", "${HOME}"), KV("R", "${X:-y}")]),

  // Empty values
  .init("empty unquoted", "A=\n", [KV("A", "")]),
  .init("empty at EOF", "A=", [KV("A", "")]),
  .init("only spaces", "A=   \n", [KV("A", "")]),
  .init("empty double", "A=\"\"\n", [KV("A", "")]),
  .init("empty single", "A=''\n", [KV("A", "")]),
  .init("empty single with comment", "A= ''  # x\n", [KV("A", "")]),

  // Single quotes
  .init("single quoted keeps spaces and hash", "A=' b # c '\n", [KV("A", " b # c ")]),
  .init("single quoted dollar", "A='$HOME'\n", [KV("A", "$HOME")]),
  .init("single quoted after spaces", "A=   'x'\n", [KV("A", "x")]),
  .init("single quoted comment after", "A='x' # c\n", [KV("A", "x")]),
  .init("single quoted comment no space", "A='x'#c\n", [KV("A", "x")]),
  .init("single quoted escapes: only \\\\ and \\'", "A='a\\\\b\\'c\\nd\\\"'\n", [KV("A", "a\\b'c\\nd\\\"")]),
  .init(
    "single quoted multi-line", "A='line1\nline2 # not a comment'\nB=2\n",
    [KV("A", "line1\nline2 # not a comment"), KV("B", "2")]),
  .init("single quoted double quote inside", "A='say \"hi\"'\n", [KV("A", "say \"hi\"")]),
  .init(
    "single quoted ending in escaped backslash (differs from python if a later ' exists)",
    "A='x\\\\'\n", [KV("A", "x\\")]),

  // Double quotes
  .init("double quoted keeps spaces and hash", "A=\" b # c \"\n", [KV("A", " b # c ")]),
  .init("double quoted dollar", "A=\"$HOME\"\n", [KV("A", "$HOME")]),
  .init("double quoted comment after", "A=\"x\"  # c\n", [KV("A", "x")]),
  .init("double quoted comment no space", "A=\"x\"#c\n", [KV("A", "x")]),
  .init("double quoted escapes", "A=\"\\n\\t\\r\\\"\\\\\\'\"\n", [KV("A", "\n\t\r\"\\'")]),
  .init("double quoted bell etc", "A=\"\\a\\b\\f\\v\"\n", [KV("A", "\u{07}\u{08}\u{0C}\u{0B}")]),
  .init("unknown escapes kept", "A=\"\\q\\x41\\0\\u0041\\$\"\n", [KV("A", "\\q\\x41\\0\\u0041\\$")]),
  .init("escaped backslash then n", "A=\"\\\\n\"\n", [KV("A", "\\n")]),
  .init("double quoted multi-line raw", "A=\"l1\nl2\n\"\nB=2\n", [KV("A", "l1\nl2\n"), KV("B", "2")]),
  .init("single quote inside double", "A=\"it's\"\n", [KV("A", "it's")]),
  .init("escaped quotes inside", "A=\"say \\\"hi\\\"\"\n", [KV("A", "say \"hi\"")]),
  .init("backslash before raw newline kept", "A=\"a\\\nb\"\n", [KV("A", "a\\\nb")]),
  .init(
    "double quoted ending in escaped backslash (differs from python if a later \" exists)",
    "A=\"C:\\\\\"\n", [KV("A", "C:\\")]),
  .init("quoted at EOF", "A=\"x\"", [KV("A", "x")]),
  .init("NUL is kept", "A='a\u{0}b'\nB=c\u{0}d\n", [KV("A", "a\u{0}b"), KV("B", "c\u{0}d")]),

  // Line endings, BOM, comments, blank lines
  .init(
    "CRLF file", "A=1\r\nB=\"x\r\ny\"\r\nC='p\r\nq'\r\nD=4 # c\r\n",
    [KV("A", "1"), KV("B", "x\ny"), KV("C", "p\nq"), KV("D", "4")]),
  .init("lone CR ends a line", "A=1\rB=\"x\ry\"\rC=3", [KV("A", "1"), KV("B", "x\ny"), KV("C", "3")]),
  .init("escaped \\r survives CRLF normalisation", "A=\"a\\r\r\nb\"\r\n", [KV("A", "a\r\nb")]),
  .init("BOM skipped (differs from python, which keeps it in the key)", "\u{FEFF}A=1\n", [KV("A", "1")]),
  .init("BOM then comment (differs from python)", "\u{FEFF}# c\nA=1\n", [KV("A", "1")]),
  .init("comments and blank lines", "# top\n\n  # indented\n\t#tab\nA=1\n\n\n# end", [KV("A", "1")]),
  .init("empty file", "", []),
  .init("only whitespace", " \n\t\r\n  ", []),
  .init("order preserved", "Z=1\nA=2\nM=3\n", [KV("Z", "1"), KV("A", "2"), KV("M", "3")]),
]

@Test("parser cases", arguments: parseCases)
func parserCase(_ c: ParseCase) throws {
  #expect(try parsePairs(c.input) == c.expected)
}

@Test func lineNumbersPointAtTheKey() throws {
  let text = "# header\n\nA=1\nB='multi\nline'\n\n  export C=\"x\r\ny\"\r\nD=4\rE=5\n"
  let file = try DotEnvParser.parse(Array(text.utf8), file: "f.env")
  #expect(file.entries.map(\.line) == [3, 4, 7, 9, 10])
  #expect(file.entries.map(\.key) == ["A", "B", "C", "D", "E"])
}

@Test func dictionaryAndPairs() throws {
  let file = try DotEnvParser.parse("B=2\nA=1\n", file: "f.env")
  #expect(file.dictionary == ["A": "1", "B": "2"])
  #expect(kvs(file.keyValuePairs) == [KV("B", "2"), KV("A", "1")])
  #expect(file.entries == [DotEnvEntry(key: "B", value: "2", line: 1), DotEnvEntry(key: "A", value: "1", line: 2)])
}

@Test func stringAndByteEntryPointsAgree() throws {
  let text = "A='x y'\nB=\"\\n\"\n"
  #expect(try DotEnvParser.parse(text, file: "f") == DotEnvParser.parse(Array(text.utf8), file: "f"))
}

@Test(arguments: [
  ("A", true), ("_", true), ("a_b9", true), ("_9", true), ("ABC_DEF", true),
  ("", false), ("9A", false), ("a.b", false), ("a-b", false), ("A B", false),
  ("é", false), ("A=", false), ("'A'", false), (" A", false),
])
func validKeys(_ key: String, _ valid: Bool) {
  #expect(DotEnvParser.isValidKey(key) == valid)
}
