import DotEnv

/// An Equatable (key, value) pair, so expectations compare whole lists.
struct KV: Equatable, Sendable, CustomStringConvertible {
  let key: String
  let value: String
  init(_ key: String, _ value: String) {
    self.key = key
    self.value = value
  }
  var description: String { "\(key)=\(value.debugDescription)" }
}

extension DotEnvFile {
  var kvs: [KV] { entries.map { KV($0.key, $0.value) } }
}

func kvs(_ pairs: [(key: String, value: String)]) -> [KV] {
  pairs.map { KV($0.key, $0.value) }
}

/// Parses `text` and returns its pairs.
func parsePairs(_ text: String, file: String = "test.env") throws(DotEnvError) -> [KV] {
  try DotEnvParser.parse(Array(text.utf8), file: file).kvs
}

/// write → parse, returning the parsed pairs.
func roundTrip(_ pairs: [(key: String, value: String)], header: String? = nil) throws(DotEnvError) -> [KV] {
  try DotEnvParser.parse(DotEnvWriter.write(pairs, header: header), file: "roundtrip.env").kvs
}
