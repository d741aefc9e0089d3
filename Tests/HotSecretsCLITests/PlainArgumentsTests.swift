import ArgumentParser
import Foundation
import Testing

@testable import HotSecretsCLI

/// The plain grammars of the hot leaf commands (`PlainParsable`) against argument-parser's own
/// model of each command: same names, and the same command values for every plain invocation.
@Suite struct PlainArgumentsTests {
  static let leaves: [(name: String, type: any PlainParsable.Type, positionals: [String])] = [
    ("list", HotSecrets.List.self, ["prod"]),
    ("get", HotSecrets.GetValue.self, ["prod", "openai", "API_KEY"]),
    ("status", HotSecrets.Status.self, ["prod"]),
    ("render", HotSecrets.Render.self, ["prod"]),
    ("verify", HotSecrets.Verify.self, ["prod"]),
  ]

  /// Long option and flag names, and the positional count, from argument-parser's help model.
  func model(_ type: any PlainParsable.Type) throws -> (options: Set<String>, flags: Set<String>, positionals: Int) {
    let json = try JSONSerialization.jsonObject(with: Data(type._dumpHelp().utf8)) as? [String: Any]
    let arguments = try #require((json?["command"] as? [String: Any])?["arguments"] as? [[String: Any]])
    var options = Set<String>(), flags = Set<String>(), positionals = 0
    for argument in arguments {
      let names = (argument["names"] as? [[String: String]] ?? []).filter { $0["kind"] == "long" }.compactMap {
        $0["name"].map { "--" + $0 }
      }
      switch argument["kind"] as? String {
      case "option": options.formUnion(names)
      case "flag": flags.formUnion(names.filter { $0 != "--help" && $0 != "--version" })
      default: positionals += 1
      }
    }
    return (options, flags, positionals)
  }

  @Test(arguments: leaves.map(\.name))
  func grammarMatchesArgumentParser(name: String) throws {
    let leaf = try #require(Self.leaves.first { $0.name == name })
    let model = try model(leaf.type)
    #expect(Set(leaf.type.plainOptions) == model.options)
    #expect(Set(leaf.type.plainFlags) == model.flags)
    #expect(leaf.positionals.count <= model.positionals)
  }

  /// Both parsers read the same invocation to the same value (compared by its full reflection,
  /// which includes every property wrapper's parsed state).
  func expectSameParse(_ leaf: any PlainParsable.Type, _ arguments: [String]) throws {
    let plainParse = leaf.parsePlain(arguments)
    let plain = try #require(plainParse, "not plain: \(arguments)")
    let parsed = try leaf.parseAsRoot(arguments)
    #expect(String(reflecting: plain) == String(reflecting: parsed), "\(arguments)")
  }

  @Test(arguments: leaves.map(\.name))
  func plainInvocationsParseAsArgumentParserParsesThem(name: String) throws {
    let leaf = try #require(Self.leaves.first { $0.name == name })
    try expectSameParse(leaf.type, leaf.positionals)
    // Every option and flag, alone and all together, in both orders around the positionals.
    var units: [[String]] = []
    for option in leaf.type.plainOptions {
      let value = option == "--format" ? "json" : option == "--timeout" ? "2.5" : "v-\(option.dropFirst(2))"
      try expectSameParse(leaf.type, leaf.positionals + [option, value])
      try expectSameParse(leaf.type, [option, value] + leaf.positionals)
      units.append([option, value])
    }
    for flag in leaf.type.plainFlags {
      try expectSameParse(leaf.type, leaf.positionals + [flag])
      units.append([flag])
    }
    try expectSameParse(leaf.type, units.flatMap { $0 } + leaf.positionals)
    try expectSameParse(leaf.type, leaf.positionals + units.reversed().flatMap { $0 })
  }

  @Test func anythingUnusualIsLeftToArgumentParser() {
    let notPlain: [[String]] = [
      ["prod", "--help"], ["-h"], ["prod", "--format=json"], ["prod", "--format", "yaml"], ["prod", "--nope"],
      ["prod", "--policy"], ["prod", "--policy", "a", "--policy", "b"], ["prod", "--strict", "--strict"],
      ["prod", "--timeout", "soon"], ["prod", "--", "x"], ["prod", "--from", "-x"], ["prod", "extra"], [],
    ]
    for arguments in notPlain {
      #expect(HotSecrets.Verify.parsePlain(arguments) == nil, "\(arguments)")
    }
    #expect(HotSecrets.GetValue.parsePlain(["prod", "openai"]) == nil)
    #expect(HotSecrets.List.parsePlain(["prod", "staging"]) == nil)
    #expect(HotSecrets.parsePlain("history", ["prod", "openai", "API_KEY"]) == nil)
  }
}
