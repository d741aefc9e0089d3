import DotEnv
import Testing

/// Values that stress every quoting rule. Each must survive write → parse unchanged.
let trickyValues: [String] = [
  "", " ", "  ", "\t", "  lead", "trail  ", " both ", "a b",
  "#", "#x", "a#b", "a #b", " # x", "a\t#b",
  "'", "\"", "''", "\"\"", "'\"", "it's", "say \"hi\"", "'quoted'", "\"quoted\"",
  "\\", "\\\\", "\\'", "\\\"", "a\\", "a\\\\", "\\a", "\\n", "\\t", "\\q", "C:\\dir\\",
  "a b\\", "x\n\\", "'\\", "\"\\", "\\\"\\",
  "\n", "\r", "\r\n", "\n\r", "\n\n", "x\r\ny", "x\ry", "line1\nline2\n", "\\\n", "\\\r",
  "$HOME", "${HOME}", "${X:-y}", "$", "a$b c", "'$x'", "\"${x}\"",
  "é", "héllo wörld", "🎉", "👍🏽", "👨‍👩‍👧", "日本語", "\u{0301}", "e\u{0301}",
  "\u{00A0}", "x\u{00A0}", "\u{2028}", "\u{2029}x", "\u{3000}", "\u{85}", "\u{FEFF}", "\u{FEFF}x",
  "\u{1C}\u{1D}\u{1E}\u{1F}", "\u{0B}", "\u{0C}", "\u{07}\u{08}", "\u{7F}", "\u{1B}[31m",
  "\u{0}", "a\u{0}b",
  "=", "==", "a=b", "export A=1", "A=1\nB=2", "key=value # comment",
  "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n",
  "multi\nline with ' and \" and \\ and $ and #",
  "sk-live_ABC123.def/ghi+jkl=", "postgres://u:p@h:5432/db?sslmode=require", "100%",
]

@Test("writer round-trips tricky values", arguments: trickyValues)
func writerRoundTrip(_ value: String) throws {
  #expect(try roundTrip([("A", value)]) == [KV("A", value)])
  // Also as a middle entry, with neighbours of every quoting form.
  let pairs: [(key: String, value: String)] = [
    ("BEFORE_D", "x\"y"), ("BEFORE_S", "a b"), ("V", value), ("AFTER_D", "q\"\\"), ("AFTER_S", "'"),
  ]
  #expect(try roundTrip(pairs) == kvs(pairs))
}

@Test func allTrickyValuesInOneFile() throws {
  let pairs = trickyValues.enumerated().map { (key: "K\($0.offset)", value: $0.element) }
  #expect(try roundTrip(pairs, header: "all of them") == kvs(pairs))
}

@Test(arguments: [
  ("abc123", "A=abc123\n"),
  ("sk-live_ABC.def/g+h=", "A=sk-live_ABC.def/g+h=\n"),
  ("u:p@h,x%", "A=u:p@h,x%\n"),
  ("", "A=''\n"),
  ("hello world", "A='hello world'\n"),
  ("$HOME", "A='$HOME'\n"),
  ("a#b", "A='a#b'\n"),
  ("say \"hi\"", "A='say \"hi\"'\n"),
  ("line1\nline2", "A='line1\nline2'\n"),
  ("tab\there", "A='tab\there'\n"),
  ("é", "A='é'\n"),
  ("it's", "A=\"it's\"\n"),
  ("back\\slash", "A=\"back\\\\slash\"\n"),
  ("C:\\", "A=\"C:\\\\\"\n"),
  ("a\rb", "A=\"a\\rb\"\n"),
  ("it's\n\"x\"\t\u{07}\u{08}\u{0B}\u{0C}", "A=\"it's\\n\\\"x\\\"\\t\\a\\b\\v\\f\"\n"),
  ("'$x\u{0}", "A=\"'$x\u{0}\"\n"),
])
func writerChoosesQuoting(_ value: String, _ rendered: String) {
  #expect(DotEnvWriter.write([("A", value)]) == rendered)
}

@Test func writerOutputShape() throws {
  #expect(DotEnvWriter.write([]) == "")
  #expect(DotEnvWriter.write([], header: nil) == "")
  #expect(DotEnvWriter.write([], header: "") == "")
  #expect(DotEnvWriter.write([("A", "1"), ("B", "2")]) == "A=1\nB=2\n")
  #expect(DotEnvWriter.write([("A", "1")], header: "hotsecrets: openai/prod") == "# hotsecrets: openai/prod\n\nA=1\n")
  #expect(
    DotEnvWriter.write([("A", "1")], header: "one\n\ntwo\r\nthree\rfour\n")
      == "# one\n#\n# two\n# three\n# four\n\nA=1\n")
  #expect(DotEnvWriter.write([], header: "h") == "# h\n\n")
}

@Test func headerCannotInjectAssignments() throws {
  let header = "x\nEVIL=1\rEVIL2=2\r\n  EVIL3=3"
  #expect(try roundTrip([("A", "1")], header: header) == [KV("A", "1")])
}

@Test func writerPreservesOrder() throws {
  let pairs: [(key: String, value: String)] = [("Z", "1"), ("A", "two words"), ("M", "it's")]
  #expect(try roundTrip(pairs) == kvs(pairs))
}

@Test func parsedFileRewritesToSameEntries() throws {
  let original = "export A = 'x y' # c\r\nB=\"l1\\nl2\"\nC=plain # c\nD='m\nl'\n"
  let file = try DotEnvParser.parse(original, file: "f")
  let rewritten = try DotEnvParser.parse(DotEnvWriter.write(file.keyValuePairs), file: "g")
  #expect(rewritten.kvs == file.kvs)
}
