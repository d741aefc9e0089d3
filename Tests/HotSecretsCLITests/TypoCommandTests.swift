import Foundation
import TestSupport
import Testing

@testable import HotSecretsCLI

/// A mistyped environment fails loudly, with the environments there are and the closest one.
@Suite(.endToEnd) struct TypoCommandTests {
  @Test func anEnvironmentWithNoSecretsAndNoPolicyIsAnError() async throws {
    let h = try await CLIHarness.withIdentityVault()
    try #require(try await h.run(["set", "prod", "openai", "API_KEY"], stdin: "sk-1").status == 0)
    try #require(try await h.run(["set", "staging", "openai", "API_KEY"], stdin: "sk-2").status == 0)
    let expected = "hotsecrets: error: no environment 'prdo' (environments: prod, staging); did you mean 'prod'?"
    for arguments in [
      ["run", "prdo", "--", "/usr/bin/env"], ["status", "prdo"], ["list", "prdo"], ["get", "prdo", "openai", "API_KEY"],
      ["history", "prdo", "openai", "API_KEY"], ["rm", "prdo", "openai", "API_KEY"], ["render", "prdo"],
    ] {
      let r = try await h.run(arguments)
      #expect(r.status == 2, "\(arguments): \(r.allOutput)")
      #expect(r.stderr.contains(expected), "\(arguments): \(r.stderr)")
      #expect(r.stdout.isEmpty, "\(arguments): \(r.stdout)")
    }
    // Nothing was run, rendered or audited for it.
    #expect(!FileManager.default.fileExists(atPath: h.path("vault/occ")))
    let log = try await h.run(["audit", "log", "--format", "json"])
    #expect(!log.stdout.contains("prdo"))
    // An environment with a policy but no secrets yet is one.
    try h.writePolicy("version: 1\nenvironment: dev\nservices:\n  app:\n    keys:\n      K: {}\n", environment: "dev")
    #expect(try await h.run(["list", "dev"]).status == 0)
    let far = try await h.run(["status", "qa"])
    #expect(far.stderr.contains("no environment 'qa' (environments: dev, prod, staging)"), "\(far.stderr)")
    #expect(!far.stderr.contains("did you mean"))
  }

  @Test func theClosestNameIsAtMostTwoEditsAway() {
    let names = ["prod", "staging", "dev"]
    #expect(Suggestion.closest(to: "prdo", among: names) == "prod")
    #expect(Suggestion.closest(to: "stagign", among: names) == "staging")
    #expect(Suggestion.closest(to: "Prod", among: names) == "prod")
    #expect(Suggestion.closest(to: "qa", among: names) == nil)
    #expect(Suggestion.closest(to: "production", among: names) == nil)
    #expect(Suggestion.editDistance(Array("abc"), Array("acb")) == 1)
  }
}
