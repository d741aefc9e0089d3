import Foundation
import Testing

@testable import HotSecretsCompliance
@testable import HotSecretsModel
@testable import HotSecretsPolicy
@testable import HotSecretsVault
@testable import VaultSQLite

/// The linear-time `format` matcher: each construct, a differential test against Swift's `Regex`,
/// and the values that would make a backtracking search quadratic or exponential.
@Suite struct FormatMatcherTests {
  static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  func matches(_ pattern: String, _ value: String) throws -> Bool {
    try FormatMatcher(pattern: pattern).matches(value)
  }

  /// What Swift's backtracking `Regex` says (the reference; only for short values).
  func reference(_ pattern: String, _ value: String) throws -> Bool {
    try Regex(pattern).firstMatch(in: value) != nil
  }

  // MARK: - Constructs

  @Test(arguments: [
    // literals and escapes
    ("abc", "xxabcxx", true), ("abc", "abd", false), ("a\\.b", "a.b", true), ("a\\.b", "axb", false),
    ("\\-\\/\\\\", "-/\\", true), ("\\t\\n\\r", "\t\n\r", true), ("\\x41\\x{42}\\u0043\\u{44}", "ABCD", true),
    ("\\x{1F600}", "smile 😀", true), ("\\$\\^\\(\\)\\[\\]\\{\\}\\|\\*\\+\\?", "$^()[]{}|*+?", true),
    ("]", "]", true), ("}", "}", true), ("a b", "a b", true),
    // classes
    ("\\d", "x7", true), ("\\d", "xy", false), ("\\D", "77", false), ("\\w", "--_--", true), ("\\W", "ab_9", false),
    ("\\s", "a b", true), ("\\S", " \t", false), (".", "\n", false), (".", "\r", false), (".", "x", true),
    ("[a-c]", "b", true), ("[a-c]", "d", false), ("[^a-c]", "abc", false), ("[^a-c]", "abcd", true),
    ("[^a]", "\n", true), ("[-a]", "-", true), ("[a-]", "-", true), ("[\\]\\\\]", "\\", true), ("[\\d_]", "_", true),
    ("[^\\d]", "5", false), ("[^\\D]", "5", true), ("[\\x41-\\x43]", "B", true), ("[.]", "x", false),
    // groups, alternation, quantifiers
    ("(ab)+c", "ababc", true), ("(?:ab)+c", "abac", false), ("a|b|c", "zzc", true), ("^(a|b)$", "ab", false),
    ("^ab*c$", "ac", true), ("^ab+c$", "ac", false), ("^ab?c$", "abbc", false), ("^a{3}$", "aaa", true),
    ("^a{3}$", "aaaa", false), ("^a{2,}$", "a", false), ("^a{2,}$", "aaaaa", true), ("^a{1,2}$", "aaa", false),
    ("^a{,2}$", "", true), ("^a{,2}$", "aaa", false), ("^a{0}b$", "b", true), ("^a+?$", "aaa", true),
    ("^a*?b??c{1,2}?$", "cc", true), ("^(a|)+$", "aaa", true), ("^()*$", "", true), ("a|", "zzz", true),
    // anchors
    ("^a", "ba", false), ("a$", "ab", false), ("^a$", "a\n", false), ("\\Aa\\z", "a", true), ("a^", "a", false),
    ("$a", "a", false), ("(^a|b)c", "xbc", true), ("(^a|b)c", "xac", false), ("^$", "", true), ("^$", "\n", false),
  ])
  func eachConstruct(pattern: String, value: String, expected: Bool) throws {
    #expect(try matches(pattern, value) == expected)
    #expect(try reference(pattern, value) == expected, "the expectation itself disagrees with Regex")
  }

  @Test func emptyPatternAndEmptyValue() throws {
    #expect(try matches("", ""))
    #expect(try matches("", "anything"))
    #expect(try matches("a*", ""))
    #expect(try !matches("a", ""))
    #expect(try !matches("^.$", ""))
  }

  /// Unicode: scalars outside ASCII, the Unicode meaning of \d \w \s (as Regex has it).
  @Test(arguments: [
    ("^é+$", "éé", true), ("^.{3}$", "日本語", true), ("[α-ω]", "λ", true), ("[^a-z]", "é", true), ("\\d", "٣", true),
    ("\\w", "é", true), ("\\w", "·", false), ("\\s", "\u{A0}", true), ("\\s", "\u{200B}", false),
    (".", "\u{2028}", false),
    ("^\\u{E9}$", "é", true), ("^[a-z]+$", "café", false), ("😀.", "😀😀", true),
  ])
  func nonASCII(pattern: String, value: String, expected: Bool) throws {
    #expect(try matches(pattern, value) == expected)
    #expect(try reference(pattern, value) == expected)
  }

  /// The documented difference: scalars, not grapheme clusters.
  @Test func combiningSequencesAreMatchedScalarByScalar() throws {
    let decomposed = "e\u{301}"
    #expect(try matches("e", decomposed))
    #expect(try !reference("e", decomposed))
    #expect(try matches("^..$", decomposed))
    #expect(try reference("^.$", decomposed))
  }

  // MARK: - Differential against Swift Regex

  /// Every format in the shipped policies and in docs/policy.md.
  static func documentedPatterns() throws -> [String] {
    var patterns: [String] = []
    for file in ["policies/prod.yaml", "policies/staging.yaml", "docs/policy.md"] {
      let text = try String(contentsOf: repositoryRoot.appendingPathComponent(file), encoding: .utf8)
      for line in text.split(separator: "\n") {
        var rest = line[...]
        while let found = rest.range(of: "format: '") {
          let tail = rest[found.upperBound...]
          guard let close = tail.firstIndex(of: "'") else { break }
          patterns.append(String(tail[..<close]))
          rest = tail[close...].dropFirst()
        }
      }
    }
    return Array(Set(patterns)).sorted()
  }

  @Test func documentedPatternsAgreeWithRegex() throws {
    let patterns = try Self.documentedPatterns()
    #expect(patterns.count >= 9)
    var random = SeededRandom(seed: 13)
    let alphabet = Array("abcdefxyz0129AF_-.:/ésk+=@\n")
    for pattern in patterns {
      let matcher = try FormatMatcher(pattern: pattern)
      let regex = try Regex(pattern)
      var values = [
        "sk-" + String(repeating: "a", count: 24), "https://abcdefghijklmnopqrst.supabase.co",
        "postgres://u@h/db", "postgresql://x", "rediss://h:6379", "shpat_" + String(repeating: "0f", count: 16),
        String(repeating: "f", count: 32), "shpss_" + String(repeating: "a", count: 32), "sb_secret_ABCDEFGH12345678",
        "eyJhbGci.eyJzdWIi.c2ln", "hotrodan.myshopify.com", "", "sk-", "sk-short",
      ]
      for _ in 0..<300 {
        let length = random.next(below: 40)
        values.append(String((0..<length).map { _ in alphabet[random.next(below: alphabet.count)] }))
      }
      for value in values {
        #expect(
          matcher.matches(value) == ((try? regex.firstMatch(in: value)) != nil),
          "\(pattern) on \(value.debugDescription)")
      }
    }
  }

  /// Random patterns over a small alphabet, against random strings of it.
  @Test func generatedPatternsAgreeWithRegex() throws {
    var random = SeededRandom(seed: 2026)
    let alphabet = Array("ab c1-\n")
    var checked = 0
    for _ in 0..<1_500 {
      let pattern = Self.randomPattern(&random, depth: 0)
      let matcher = try FormatMatcher(pattern: pattern)
      let regex = try Regex(pattern)
      for _ in 0..<20 {
        let length = random.next(below: 9)
        let value = String((0..<length).map { _ in alphabet[random.next(below: alphabet.count)] })
        let expected = (try? regex.firstMatch(in: value)) != nil
        #expect(matcher.matches(value) == expected, "\(pattern) on \(value.debugDescription)")
        checked += 1
      }
    }
    #expect(checked == 30_000)
  }

  /// Random strings of regular-expression syntax: the reader never crashes, what it accepts Swift's
  /// `Regex` accepts too (the syntax is a subset), and both agree on what it matches.
  @Test func randomSyntaxIsASubsetOfRegexAndAgreesWithIt() throws {
    var random = SeededRandom(seed: 64)
    let syntax = Array("ab()[]{}|*+?^$.\\-,:0129dwsDWSxuAzZ!=<>ipP é")
    let alphabet = Array("ab-,:019 é\n!{}[]().$^\\")
    var accepted = 0
    for _ in 0..<20_000 {
      let pattern = String((0..<random.next(below: 11)).map { _ in syntax[random.next(below: syntax.count)] })
      guard let matcher = try? FormatMatcher(pattern: pattern) else { continue }
      accepted += 1
      let regex = try #require(try? Regex(pattern), "\(pattern) is accepted here and refused by Regex")
      // A repeated group can make Regex, the reference, run for hours: not compared.
      let scalars = Array(pattern.unicodeScalars)
      if scalars.indices.dropLast().contains(where: {
        scalars[$0] == ")" && "*+?{".unicodeScalars.contains(scalars[$0 + 1])
      }) {
        continue
      }
      for _ in 0..<4 {
        let value = String((0..<random.next(below: 7)).map { _ in alphabet[random.next(below: alphabet.count)] })
        #expect(
          matcher.matches(value) == ((try? regex.firstMatch(in: value)) != nil),
          "\(pattern) on \(value.debugDescription)")
      }
    }
    #expect(accepted > 5_000)
  }

  static func randomPattern(_ random: inout SeededRandom, depth: Int) -> String {
    let atoms = ["a", "b", "c", ".", "[ab]", "[^a]", "[a-c1]", "\\d", "\\s", "\\w", "\\W", "-", "\\-", " ", "^", "$"]
    let quantifiers = ["", "", "", "*", "+", "?", "{2}", "{0,2}", "{1,}", "{,1}", "*?", "+?", "??"]
    // Regex, the reference, can run for hours on a repeated group holding a repetition (exactly
    // what the matcher under test is immune to): groups get bounded counts here.
    let groupQuantifiers = ["", "", "?", "{2}", "{0,2}", "??"]
    var result = ""
    for _ in 0..<(1 + random.next(below: 3)) {
      var atom: String
      if depth < 2 && random.next(below: 4) == 0 {
        var branches = [randomPattern(&random, depth: depth + 1)]
        while random.next(below: 3) == 0 { branches.append(randomPattern(&random, depth: depth + 1)) }
        atom = (random.next(below: 2) == 0 ? "(" : "(?:") + branches.joined(separator: "|") + ")"
      } else {
        atom = atoms[random.next(below: atoms.count)]
      }
      if atom.hasPrefix("(") {
        atom += groupQuantifiers[random.next(below: groupQuantifiers.count)]
      } else if atom != "^" && atom != "$" {
        atom += quantifiers[random.next(below: quantifiers.count)]
      }
      result += atom
    }
    return result
  }

  // MARK: - Adversarial values: linear time

  /// Each of these is quadratic or exponential for a backtracking search over 64 KiB (minutes to
  /// centuries); here each finishes at once. The time bound is a generous safety net for debug builds.
  @Test(arguments: [
    ("[a-z]+!", false), (".*x", false), ("(a|aa)+$", true), ("(a|aa)+!", false), ("^(a+)+$", true), ("^(a+)+!$", false),
    ("(a*)*b", false), ("(.*a){20}", true), ("(.*a){20}!", false), ("a*a*a*a*a*b", false), ("(a?){30}a{30}!", false),
    ("\\d+\\d*x", false), ("([a-z]+\\.)+com", false), ("(a|a)*b", false), ("((a|aa)+(b|bb)*)+$", true),
  ])
  func adversarialPatternsAreLinear(pattern: String, expected: Bool) throws {
    let value = String(repeating: "a", count: 65_536)
    let matcher = try FormatMatcher(pattern: pattern)
    let start = Date()
    #expect(matcher.matches(value) == expected)
    #expect(Date().timeIntervalSince(start) < 1, "\(pattern)")
  }

  @Test func anchoredSearchStopsWhenNoStateSurvives() throws {
    let matcher = try FormatMatcher(pattern: "^sk-[0-9]{3}-")
    let value = "xk-" + String(repeating: "1", count: 65_533)
    let start = Date()
    for _ in 0..<1_000 { #expect(!matcher.matches(value)) }
    #expect(Date().timeIntervalSince(start) < 1)
  }

  // MARK: - Refused constructs and limits

  @Test(arguments: [
    ("(?=a)b", "a look-ahead"), ("(?!a)b", "a look-ahead"), ("(?<=a)b", "a look-behind"), ("(?<!a)b", "a look-behind"),
    ("(a)\\1", "a back-reference \\1"), ("(?<n>a)\\k<n>", "a named group"), ("(?P<n>a)", "a named group"),
    ("(?>a+)b", "an atomic group"), ("a++", "a possessive quantifier"), ("a{2}+", "a possessive quantifier"),
    ("(?i)abc", "inline options"), ("(?i:a)", "inline options"), ("\\bkey\\b", "a word boundary"),
    ("\\Bx", "a word boundary"),
    ("\\p{L}", "a Unicode property"), ("a\\Z", "\\Z"), ("\\Qa.b\\E", "quoting"), ("[[:alpha:]]", "a POSIX class"),
    ("[a-z&&[^x]]", "class operation"), ("[\\w--_]", "class operation"), ("\\h", "the escape \\h"),
    ("\\N", "the escape \\N"),
    ("a{", "a '{' that does not start a quantifier"), ("x{}", "a '{' that does not start a quantifier"),
    ("(?#c)a", "a comment"), ("(*ACCEPT)", "a (*…) directive"),
  ])
  func unsupportedConstructsAreNamed(pattern: String, named: String) throws {
    let error = #expect(throws: FormatPatternError.self) { try FormatMatcher(pattern: pattern) }
    #expect(error?.kind == .unsupported, "\(pattern)")
    #expect(error?.problem.contains(named) == true, "\(pattern): \(error?.problem ?? "")")
  }

  @Test(arguments: [
    ("([a-z", 2), ("a)", 2), ("*a", 1), ("a**", 3), ("a{2}{3}", 5), ("a{3,1}", 2), ("[]a]", 1), ("[z-a]", 2),
    ("[\\d-z]", 2), ("a\\", 2), ("\\x{zz}", 1), ("\\u12", 1), ("(", 1), ("^*", 2), ("a$+", 3),
  ])
  func invalidPatternsSayWhere(pattern: String, offset: Int) throws {
    let error = #expect(throws: FormatPatternError.self) { try FormatMatcher(pattern: pattern) }
    #expect(error?.kind == .invalid, "\(pattern)")
    #expect(error?.offset == offset, "\(pattern): \(error?.problem ?? "")")
    #expect(throws: (any Error).self) { try Regex(pattern) }  // Swift's Regex refuses them too
  }

  @Test func theCompiledSizeIsBounded() throws {
    _ = try FormatMatcher(pattern: "^[0-9a-f]{1000}$")
    for pattern in ["a{2001}", "(a{100}){100}", "((a{1000}){1000}){1000}", "a{99999999999999999999}", "(a|b){0,1000}"] {
      let error = #expect(throws: FormatPatternError.self) { try FormatMatcher(pattern: pattern) }
      #expect(error?.kind == .tooLarge, "\(pattern)")
    }
    let deep = String(repeating: "(", count: 40) + "a" + String(repeating: ")", count: 40)
    #expect(throws: FormatPatternError.self) { try FormatMatcher(pattern: deep) }
    let fine = String(repeating: "(", count: 30) + "a" + String(repeating: ")", count: 30)
    #expect(try FormatMatcher(pattern: fine).matches("a"))
  }

  /// The policy reader names file, line, column, key, pattern and construct.
  @Test func refusedFormatsAreReportedAtTheirPosition() throws {
    let text = "version: 1\nenvironment: prod\nservices:\n  app:\n    keys:\n      K: { format: '^sk-(?=x)' }\n"
    let error = #expect(throws: PolicyError.self) { try PolicyParser.parse(text, file: "policies/prod.yaml") }
    #expect(
      error?.errorDescription
        == "policies/prod.yaml:6:20: format '^sk-(?=x)' of key app/K uses a look-ahead (?=…) or (?!…) at character 5, "
        + "which hotsecrets does not support (see docs/policy.md)")
    let large = text.replacingOccurrences(of: "^sk-(?=x)", with: "a{5000}")
    let tooLarge = #expect(throws: PolicyError.self) { try PolicyParser.parse(large, file: "policies/prod.yaml") }
    #expect(
      tooLarge?.errorDescription
        == "policies/prod.yaml:6:20: format 'a{5000}' of key app/K is refused: it is too large once its repetitions "
        + "are written out (over 2000 steps) (see docs/policy.md)")
  }

  /// One matcher, many threads.
  @Test func matchingConcurrentlyIsSafe() async throws {
    let rule = try FormatMatcher(pattern: "^(sb_secret_[A-Za-z0-9_-]{16,}|eyJ[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+)$")
    let results = await withTaskGroup(of: Bool.self) { group in
      for i in 0..<64 {
        group.addTask { (0..<200).allSatisfy { _ in rule.matches(i % 2 == 0 ? "sb_secret_0123456789abcdef" : "x") } }
      }
      return await group.reduce(into: [Bool]()) { $0.append($1) }
    }
    #expect(results.filter { $0 }.count == 32)
  }
}

/// SplitMix64: the same sequence for the same seed, so a failing case can be replayed.
struct SeededRandom {
  var state: UInt64

  init(seed: UInt64) { state = seed }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  mutating func next(below bound: Int) -> Int { Int(next() % UInt64(bound)) }
}
