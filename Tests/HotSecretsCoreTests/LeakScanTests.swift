import Foundation
import Testing

@testable import HotSecretsModel
@testable import HotSecretsOperations
@testable import HotSecretsVault
import Sodium

/// The leak scanner's matcher and encodings, in process.
@Suite struct LeakScanTests {
  /// Every (pattern, offset) the matcher reports in `text`.
  static func hits(_ patterns: [String], in text: [UInt8]) throws -> [[Int]] {
    let matcher = try ValueMatcher(patterns: patterns.map { try SecretBytes(copying: Array($0.utf8)) })
    var found: [[Int]] = []
    text.withUnsafeBytes { matcher.matches(in: $0) { found.append([$0, $1]) } }
    return found.sorted { ($0[1], $0[0]) < ($1[1], $1[0]) }
  }

  /// The same, by the obvious quadratic search.
  static func naive(_ patterns: [String], in text: [UInt8]) -> [[Int]] {
    var found: [[Int]] = []
    for offset in text.indices {
      for (index, pattern) in patterns.enumerated() {
        let bytes = Array(pattern.utf8)
        if offset + bytes.count <= text.count, Array(text[offset..<(offset + bytes.count)]) == bytes {
          found.append([index, offset])
        }
      }
    }
    return found.sorted { ($0[1], $0[0]) < ($1[1], $1[0]) }
  }

  @Test func findsEveryOccurrenceAtEdgesOverlappingAndSharingAPrefix() throws {
    let patterns = ["sk-live-AAAA1111", "sk-live-AAAA1111-longer", "sk-live-BBBB2222", "abcdefgh"]
    let text = Array("sk-live-AAAA1111-longer sk-live-BBBB2222\nabcdefghabcdefgh sk-live-AAAA1111".utf8)
    #expect(try Self.hits(patterns, in: text) == Self.naive(patterns, in: text))
    #expect(try Self.hits(patterns, in: text).count == 6)
    #expect(try Self.hits(patterns, in: Array("sk-live-AAAA111".utf8)).isEmpty)  // one byte short
    #expect(try Self.hits(patterns, in: []).isEmpty)
  }

  @Test func agreesWithANaiveSearchOnRandomInput() throws {
    var generator = SystemRandomNumberGenerator()
    let alphabet = Array("abAB01-_".utf8)  // small, so prefixes collide and partial matches abound
    for _ in 0..<200 {
      let patterns = (0..<Int.random(in: 1...12, using: &generator)).map { _ in
        String(decoding: (0..<Int.random(in: 8...14, using: &generator)).map { _ in alphabet.randomElement()! }, as: UTF8.self)
      }
      var text = (0..<Int.random(in: 0...400, using: &generator)).map { _ in alphabet.randomElement()! }
      // Plant some patterns so matches are not only chance.
      for pattern in patterns.prefix(3) where text.count > 20 {
        let at = Int.random(in: 0..<(text.count - 15), using: &generator)
        text.replaceSubrange(at..<min(text.count, at + pattern.utf8.count), with: Array(pattern.utf8))
      }
      #expect(try Self.hits(patterns, in: text) == Self.naive(patterns, in: text), "\(patterns)")
    }
  }

  @Test func findsTheEncodedFormsAndReportsLinesAndColumns() throws {
    let value = "p@ss/word+with?odd=chars"
    let stored = StoredValue(
      address: try SecretAddress(environment: "prod", service: "app", key: "DB_PASSWORD"), version: 3, isCurrent: false,
      value: try SecretBytes(copying: Array(value.utf8)))
    let scanner = try LeakScanner(values: [stored])
    let base64 = Data(value.utf8).base64EncodedString()
    let urlSafe = base64.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
    let percent = value.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~")))!
    let text = "first line\n  \(value)\nb64=\(base64)\nurl=\(urlSafe) q=\(percent)\n"
    let findings = Array(text.utf8).withUnsafeBytes { scanner.findings(in: $0, path: "f.txt") }
    #expect(findings.map { "\($0.line):\($0.column) \($0.encoding.rawValue)" } == ["2:3 exact", "3:5 base64", "4:5 base64url", "4:40 url"])
    #expect(findings.allSatisfy { $0.address.description == "prod/app/DB_PASSWORD" && $0.version == 3 && !$0.isCurrent })
  }

  @Test func valuesTooShortAreNotLookedFor() throws {
    let short = StoredValue(
      address: try SecretAddress(environment: "prod", service: "app", key: "PORT"), version: 1, isCurrent: true,
      value: try SecretBytes(copying: Array("8080".utf8)))
    let scanner = try LeakScanner(values: [short])
    #expect(scanner.tooShort.map(\.description) == ["prod/app/PORT"])
    #expect(Array("port 8080".utf8).withUnsafeBytes { scanner.findings(in: $0, path: "x") }.isEmpty)
  }

  @Test func storedValuesAreTheCurrentOnesOrEveryVersion() throws {
    let vault = try TestVault()
    let address = try SecretAddress(environment: "prod", service: "app", key: "TOKEN")
    try vault.session.set(address, value: Array("first-value-123".utf8))
    try vault.session.set(address, value: Array("second-value-456".utf8))
    let current = try vault.session.storedValues(environment: "prod", allVersions: false)
    #expect(current.map { "\($0.version) \($0.isCurrent)" } == ["2 true"])
    #expect(current[0].value.copyBytes() == Array("second-value-456".utf8))
    let all = try vault.session.storedValues(environment: nil, allVersions: true)
    #expect(Set(all.map { "\($0.version) \($0.isCurrent)" }) == ["2 true", "1 false"])
  }

  @Test func aLargeFileIsReadInPiecesWithoutMissingAValueAcrossTheirBorders() throws {
    let scratch = try ScratchDirectory()
    let value = "sk-live-straddles-the-border-0123456789"
    let stored = StoredValue(
      address: try SecretAddress(environment: "prod", service: "app", key: "TOKEN"), version: 1, isCurrent: true,
      value: try SecretBytes(copying: Array(value.utf8)))
    let scanner = try LeakScanner(values: [stored])
    // 1 MiB pieces: one copy across the first border, one wholly inside the overlap of the second,
    // one at the very end; lines counted across pieces.
    var text = [UInt8](repeating: 0x61, count: 3 << 20)
    for i in stride(from: 99, to: text.count, by: 100) { text[i] = 0x0A }
    let places = [(1 << 20) - 10, (2 << 20) - 20, text.count - value.utf8.count]
    for place in places { text.replaceSubrange(place..<(place + value.utf8.count), with: Array(value.utf8)) }
    try Data(text).write(to: URL(fileURLWithPath: scratch.file("big.log")))
    let report = try scanner.scanFiles([scratch.file("big.log")], root: scratch.path, skipping: [])
    #expect(report.findings.count == 3)
    for (finding, place) in zip(report.findings, places) {
      let before = text[..<place]
      let line = before.filter { $0 == 0x0A }.count + 1
      let column = place - (before.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0) + 1
      #expect(finding.line == line && finding.column == column, "\(finding) at \(place)")
      #expect(finding.path == "big.log")
    }
  }
}
