import Testing
import Yams

@testable import HotSecretsModel
@testable import HotSecretsPolicy
@testable import HotSecretsVault
@testable import VaultSQLite

/// `YAMLComposer` against Yams' own composer (`Yams.compose` with the basic resolver, what the
/// policy reader used before): the same tree, the same positions, and errors at the same places.
@Suite struct PolicyYAMLTests {
  /// Policy-shaped documents and YAML features a policy file might use.
  static let documents: [String] = [
    "version: 1\nenvironment: prod\n",
    "a: {b: 1, c: [x, 'y', \"z\"]}\n",
    "services:\n  app:\n    keys:\n      K: {}\n      L:\n      M: ~\n",
    "k: &a {x: 1}\nm: *a\nlist: [*a, *a]\n",
    "block: |\n  line one\n  line two\nfolded: >\n  a\n  b\n",
    "'quoted key': 1\n\"double\": \"esc\\t\\u00e9\"\n",
    "tagged: !!str 123\nplain: 0x1F\nbool: yes\n",
    "- a\n- - b\n  - c\n- {d: e}\n",
    "---\nk: v\n...\n",
    "# comment only before\nk: v # trailing\n",
    "k: 'it''s'\nu: \"\\u263A\"\n",
    "? complex\n: value\n",
    "k: [\n  a,\n  b\n]\n",
  ]

  /// Documents both must refuse, at the same position.
  static let invalid: [String] = [
    "k: [\n", "k: {a: 1\n", "k: v\n  bad: indent\n", "k: *missing\n", "a: 1\n---\nb: 2\n", "k: \"unterminated\n",
    "- a\nb: c\n", "k: v\nk: w\n", "{a: 1, b: 2, a: 3}\n", "\tk: v\n", "k: @reserved\n",
  ]

  /// A comparable rendering of a Yams node: kind, text, 1-based position, children.
  static func describe(_ node: Node) -> String {
    let at = node.mark.map { "@\($0.line):\($0.column)" } ?? "@?"
    switch node {
    case .scalar(let scalar): return "s(\(scalar.string))\(at)"
    case .mapping(let mapping):
      return "m\(at){" + mapping.map { "\(describe($0.key))=\(describe($0.value))" }.joined(separator: ",") + "}"
    case .sequence(let sequence): return "q\(at)[" + sequence.map(describe).joined(separator: ",") + "]"
    case .alias: return "alias\(at)"
    }
  }

  static func describe(_ node: YAMLNode) -> String {
    let at = "@\(node.position.line):\(node.position.column)"
    switch node.content {
    case .scalar(let text): return "s(\(text))\(at)"
    case .mapping(let pairs):
      return "m\(at){" + pairs.map { "\(describe($0.key))=\(describe($0.value))" }.joined(separator: ",") + "}"
    case .sequence(let items): return "q\(at)[" + items.map(describe).joined(separator: ",") + "]"
    }
  }

  @Test(arguments: documents)
  func buildsTheSameTreeAsYams(text: String) throws {
    let ours = try YAMLComposer.compose(text)
    let theirs = try Yams.compose(yaml: text, .basic)
    #expect(ours.map(Self.describe) == theirs.map(Self.describe))
  }

  @Test(arguments: invalid)
  func refusesWhatYamsRefusesAtTheSamePlace(text: String) throws {
    var theirs: (line: Int, column: Int)?
    do {
      _ = try Yams.compose(yaml: text, .basic)
      Issue.record("Yams accepted \(text.debugDescription)")
    } catch let error as YamlError {
      switch error {
      case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
        theirs = (mark.line, mark.column)
      case .duplicatedKeysInMapping(_, let context): theirs = (context.mark.line, context.mark.column)
      default: break
      }
    }
    do {
      _ = try YAMLComposer.compose(text)
      Issue.record("YAMLComposer accepted \(text.debugDescription)")
    } catch let failure as YAMLComposer.Failure {
      #expect(failure.position?.line == theirs?.line, "\(text.debugDescription): \(failure.problem)")
      #expect(failure.position?.column == theirs?.column, "\(text.debugDescription): \(failure.problem)")
      #expect(failure.problem.hasPrefix("invalid YAML: ") || failure.problem.hasPrefix("duplicate key "))
    }
  }

  @Test func keysDifferingOnlyByTagAreDuplicates() {
    // Yams compares resolved tags and let these through; the policy reader then took the last value.
    #expect(throws: YAMLComposer.Failure.self) { try YAMLComposer.compose("a: 1\n!!str a: 2\n") }
  }

  @Test func nestingIsBounded() throws {
    let deep = String(repeating: "[", count: 200) + String(repeating: "]", count: 200) + "\n"
    do {
      _ = try YAMLComposer.compose(deep)
      Issue.record("accepted 200 levels")
    } catch let failure as YAMLComposer.Failure {
      #expect(failure.problem == "invalid YAML: nested more than \(YAMLComposer.maxDepth) levels deep")
      #expect(failure.position == SourcePosition(line: 1, column: YAMLComposer.maxDepth + 1))
    }
    let ok = String(repeating: "[", count: 60) + String(repeating: "]", count: 60) + "\n"
    #expect(try YAMLComposer.compose(ok) != nil)
  }

  @Test func emptyAndCommentOnlyTextHasNoDocument() throws {
    #expect(try YAMLComposer.compose("") == nil)
    #expect(try YAMLComposer.compose("# nothing\n\n") == nil)
  }
}
