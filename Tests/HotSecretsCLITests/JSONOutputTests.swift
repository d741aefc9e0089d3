import Foundation
import TestSupport
import Testing

/// `--format json` where a command's output is data: get, set, rm, identity; audit details as
/// objects; empty arrays as `[]`.
@Suite(.endToEnd) struct JSONOutputTests {
  @Test(arguments: Backend.allCases) func getSetRmAndIdentityPrintJSON(_ backend: Backend) async throws {
    let h = try await CLIHarness.withIdentityVault(backend)
    let set = try await h.run(["set", "prod", "openai", "API_KEY", "--format", "json"], stdin: "sk-json-canary")
    #expect(set.status == 0)
    let setJSON = try h.json(set)
    #expect(setJSON["outcome"] as? String == "added")
    #expect(setJSON["version"] as? Int == 1)
    #expect((setJSON["fingerprint"] as? String)?.count == 64)
    #expect(!set.allOutput.contains("sk-json-canary"))
    let again = try h.json(try await h.run(["set", "prod", "openai", "API_KEY", "--format", "json"], stdin: "sk-json-canary"))
    #expect(again["outcome"] as? String == "unchanged")

    let get = try h.json(try await h.run(["get", "prod", "openai", "API_KEY", "--format", "json"]))
    #expect(get["value"] as? String == "sk-json-canary")
    #expect(get["version"] as? Int == 1)
    #expect(get["fingerprint"] as? String == setJSON["fingerprint"] as? String)
    #expect(get["service"] as? String == "openai")
    // Text output is the value's bytes, exactly, as before.
    #expect(try await h.run(["get", "prod", "openai", "API_KEY"]).stdout == "sk-json-canary")

    let rm = try h.json(try await h.run(["rm", "prod", "openai", "API_KEY", "--yes", "--format", "json"]))
    #expect(rm["removed"] as? Bool == true)
    #expect(rm["versions"] as? Int == 1)

    let identity = try h.json(try await h.run(["identity", "new", "--out", "keys/other.identity", "--format", "json"]))
    let recipient = try #require(identity["recipient"] as? String)
    #expect(recipient.hasPrefix("hsr1"))
    #expect(identity["file"] as? String == "keys/other.identity")
    let shown = try h.json(try await h.run(["identity", "show", "keys/other.identity", "--format", "json"]))
    #expect(shown["recipient"] as? String == recipient)
  }

  @Test(arguments: Backend.allCases) func auditDetailsAreObjectsAndEmptyArraysAreBrackets(_ backend: Backend) async throws {
    let h = try await CLIHarness.withIdentityVault(backend)
    try await h.run(["set", "prod", "openai", "API_KEY"], stdin: "sk-1")
    try await h.run(["run", "prod", "--", "/bin/true"])
    let log = try h.json(try await h.run(["audit", "log", "--format", "json"]))
    let entries = try #require(log["entries"] as? [[String: Any]])
    let run = try #require(entries.first { $0["action"] as? String == "run" })
    let detail = try #require(run["detail"] as? [String: Any])
    #expect(detail["command"] as? String == "true")
    #expect(detail["keys"] as? Int == 1)
    // And the chain still verifies: the hash covers the stored text, not this rendering.
    #expect(try await h.run(["audit", "verify"]).status == 0)

    try FileManager.default.createDirectory(atPath: h.path("vault/occ"), withIntermediateDirectories: true)
    try await h.run(["render", "prod"])
    let status = try await h.run(["status", "prod", "--format", "json"])
    #expect(status.status == 0)
    #expect(status.stdout.contains("\"added\" : []"))
    #expect(status.stdout.contains("\"warnings\" : []"))
    #expect(!status.stdout.contains("[\n\n"))
  }

  /// One-character paths (Foundation's deletingLastPathComponent crashed on them).
  @Test(arguments: Backend.allCases) func oneCharacterPathsWork(_ backend: Backend) async throws {
    let h = try await CLIHarness.withIdentityVault(backend)
    #expect(try await h.run(["identity", "new", "--out", "x"]).status == 0)
    try h.writePolicy("version: 1\nenvironment: prod\nservices:\n  app:\n    keys:\n      K: {required: false}\n")
    let export = try await h.run(["export", "compliance", "prod", "--out", "b"])
    #expect(export.status == 0, "\(export.allOutput)")
    #expect(FileManager.default.fileExists(atPath: h.path("b/manifest.json")))
  }

}
