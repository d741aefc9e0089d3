import DotEnv
import Testing

/// A 10,000-key file with a realistic mix of value forms.
func largeFile(keys: Int = 10_000) -> [UInt8] {
  var pairs: [(key: String, value: String)] = []
  pairs.reserveCapacity(keys)
  for i in 0..<keys {
    let value: String
    switch i % 5 {
    case 0: value = "sk-live_\(i)abcdefghijklmnopqrstuvwxyz0123456789"
    case 1: value = "postgres://user:pass@host-\(i):5432/db name"
    case 2: value = "line one \(i)\nline two\nline three"
    case 3: value = "it's \"quoted\" \\ \(i) $HOME"
    default: value = "\(i)"
    }
    pairs.append((key: "SERVICE_\(i)_SECRET", value: value))
  }
  return Array(DotEnvWriter.write(pairs, header: "generated").utf8)
}

/// Correctness at scale. Timings belong to the benchmark (`scripts/bench`: import of 10,000 keys).
@Test func parsesTenThousandKeys() throws {
  let bytes = largeFile()
  let parsed = try DotEnvParser.parse(bytes, file: "big.env")
  #expect(parsed.entries.count == 10_000)
  #expect(parsed.entries[3].value == "it's \"quoted\" \\ 3 $HOME")
  // Header + blank line, then one line per entry plus two extra for each three-line value.
  #expect(parsed.entries[9_999].line == 3 + 9_999 + 2 * 2_000)
}
