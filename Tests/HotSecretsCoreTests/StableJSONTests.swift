import Foundation
import Testing

@testable import HotSecretsModel

@Suite struct StableJSONTests {
  struct Sample: Encodable {
    let empty: [String]
    let none: [String: Int]
    let nested: [[String]]
    let text: String
  }

  @Test func emptyContainersAreWrittenAsBrackets() throws {
    let data = try StableJSON.encode(Sample(empty: [], none: [:], nested: [[]], text: "keep [ ] and { } and \"[\""))
    let text = String(decoding: data, as: UTF8.self)
    #expect(text.contains("\"empty\" : []"))
    #expect(text.contains("\"none\" : {}"))
    #expect(text.contains("[\n    []\n  ]"))
    // Inside a string nothing changes, and the whole still parses to the same values.
    #expect(text.contains(#""keep [ ] and { } and \"[\"""#))
    let parsed = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    #expect(parsed["text"] as? String == "keep [ ] and { } and \"[\"")
    #expect((parsed["nested"] as? [[String]]) == [[]])
  }

  @Test func nonEmptyOutputIsFoundationsOwn() throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    let value = ["a": ["x", "y"], "b": ["z"]]
    #expect(try StableJSON.encode(value) == (try encoder.encode(value)))
  }
}

@Suite struct PathNameTests {
  @Test func folderOfAPath() {
    #expect(PathName.folder(of: "b") == "")
    #expect(PathName.folder(of: "b/") == "")
    #expect(PathName.folder(of: "a/b") == "a")
    #expect(PathName.folder(of: "a//b/") == "a")
    #expect(PathName.folder(of: "/b") == "/")
    #expect(PathName.folder(of: "/") == "/")
    #expect(PathName.folder(of: "./x/y.identity") == "./x")
    #expect(PathName.folder(of: "/tmp/a/b") == "/tmp/a")
  }
}
