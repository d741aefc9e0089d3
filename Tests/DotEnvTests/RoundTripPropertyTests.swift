import DotEnv
import PropertyBased
import Testing

/// Characters that matter to the dotenv grammar, plus whitespace Python trims and a few
/// multi-byte scalars.
let grammarScalars: [Unicode.Scalar] = [
  " ", "\t", "\n", "\r", "'", "\"", "\\", "#", "$", "{", "}", "=", ":", "-", "`",
  "a", "Z", "0", "_", "n", "t", "r", "q",
  "\u{0}", "\u{07}", "\u{08}", "\u{0B}", "\u{0C}", "\u{1B}", "\u{1C}", "\u{1F}", "\u{7F}",
  "\u{85}", "\u{A0}", "\u{2028}", "\u{2029}", "\u{3000}", "\u{FEFF}", "\u{FFFD}",
  "é", "\u{0301}", "日", "🎉", "\u{1F3FD}", "\u{200D}",
]

/// A scalar that is usually grammar-relevant and sometimes any Unicode scalar at all.
let scalarGen = Gen<Unicode.Scalar>.frequency(
  (weight: 6, gen: Gen<Unicode.Scalar?>.element(of: grammarScalars).map { $0! }),
  (weight: 1, gen: Gen<Unicode.Scalar>.unicodeScalar(in: "\u{0}"..."\u{7F}")),
  (weight: 1, gen: Gen<Unicode.Scalar>.unicodeScalar(in: "\u{80}"..."\u{D7FF}")),
  (weight: 1, gen: Gen<Unicode.Scalar>.unicodeScalar(in: "\u{E000}"..."\u{10FFFF}")),
)

/// Arbitrary strings, from empty to a few dozen scalars.
let valueGen = scalarGen.array(of: 0...40).map { scalars in
  var s = ""
  s.unicodeScalars.append(contentsOf: scalars)
  return s
}

/// Sometimes a value that is plain, to exercise the unquoted form too.
let plainValueGen = Gen<Character?>
  .element(of: Array("abcXYZ019_-.,:/@+=%") as [Character])
  .map { $0! }
  .string(of: 1...12)

let keyGen = zip(
  Gen<Character?>.element(of: Array("ABCXYZabcxyz_") as [Character]).map { $0! },
  Gen<Character?>.element(of: Array("ABCXYZabcxyz_0189") as [Character]).map { $0! }.string(of: 0...6)
).map { head, tail in String(head) + tail }

/// Lists of pairs with distinct valid keys (later duplicates dropped) and arbitrary values.
let pairsGen = zip(keyGen, Gen<String>.frequency((weight: 4, gen: valueGen), (weight: 1, gen: plainValueGen)))
  .array(of: 0...12)
  .map { raw -> [KV] in
    var seen = Set<String>()
    return raw.compactMap { key, value in seen.insert(key).inserted ? KV(key, value) : nil }
  }

@Test func propertySingleValueRoundTrips() async {
  await propertyCheck(count: 2000, input: valueGen) { value throws in
    #expect(try roundTrip([("KEY", value)]) == [KV("KEY", value)])
  }
}

@Test func propertyPairListsRoundTrip() async {
  await propertyCheck(count: 1000, input: pairsGen, valueGen.optional) { pairs, header throws in
    let input = pairs.map { (key: $0.key, value: $0.value) }
    #expect(try roundTrip(input, header: header) == pairs)
  }
}

/// Bytes biased towards dotenv syntax, including invalid UTF-8.
let dotenvishBytes = Gen<UInt8?>.element(of: Array("AB_=e x'\"\\#\n\r\t $".utf8) + [0xC3, 0xA9, 0xFF, 0x80])
  .map { $0! }
  .array(of: 0...60)

/// The parser never crashes; anything it accepts, the writer reproduces exactly.
@Test func propertyParserIsTotalAndWriterRestatesIt() async {
  await propertyCheck(count: 3000, input: dotenvishBytes) { bytes throws in
    guard let file = try? DotEnvParser.parse(bytes, file: "fuzz.env") else { return }
    let again = try DotEnvParser.parse(DotEnvWriter.write(file.keyValuePairs), file: "again.env")
    #expect(again.kvs == file.kvs)
  }
}

/// Whatever the error, its message holds no value text. `%` can only occur in values and
/// comments (never in a valid key, a file name or a problem text), so it must never show up.
@Test func propertyErrorsNeverEchoValueText() async {
  let bytes = Gen<UInt8?>.element(of: Array("%K='\"#=\n \\".utf8)).map { $0! }.array(of: 1...40)
  await propertyCheck(count: 2000, input: bytes) { bytes in
    do throws(DotEnvError) {
      _ = try DotEnvParser.parse(Array("K=".utf8) + bytes, file: "f")
    } catch {
      #expect(!error.description.contains("%"))
    }
  }
}

/// A single-quoted key is read as its name: each line of a written file, its key quoted (and
/// `export` in front or not), reads back the same entries.
@Test func propertyQuotedKeysReadAsTheirNames() async {
  await propertyCheck(count: 500, input: pairsGen, Gen<Bool>.bool) { pairs, export throws in
    guard !pairs.isEmpty else { return }
    // Each entry written alone starts with `KEY=`: quote that key.
    var quoted = ""
    for pair in pairs {
      let written = DotEnvWriter.write([(key: pair.key, value: pair.value)])
      quoted += (export ? "export " : "") + "'\(pair.key)'" + written.dropFirst(pair.key.count)
    }
    let entries = try DotEnvParser.parse(quoted, file: "quoted.env").entries.map { KV($0.key, $0.value) }
    #expect(entries == pairs)
  }
}

/// `KEY= # comment` is an empty value, whatever the comment says; `KEY=#text` is the text.
@Test func propertyAnEmptyValueBeforeACommentIsEmpty() async {
  await propertyCheck(count: 500, input: keyGen, plainValueGen) { key, comment throws in
    let spaced = try DotEnvParser.parse("\(key)= # \(comment)\n", file: "c.env").entries
    #expect(spaced.map { KV($0.key, $0.value) } == [KV(key, "")])
    let tight = try DotEnvParser.parse("\(key)=#\(comment)\n", file: "c.env").entries
    #expect(tight.map { KV($0.key, $0.value) } == [KV(key, "#" + comment)])
  }
}
