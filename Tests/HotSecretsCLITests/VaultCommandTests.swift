import Foundation
import Testing

@Suite(.endToEnd) struct VaultCommandTests {
  @Test func passphraseLifecycle() async throws {
    let h = try CLIHarness()
    h.environment["HOTSECRETS_PASSPHRASE"] = "correct horse battery staple"
    let initResult = try await h.run(["init"])
    #expect(initResult.status == 0)
    #expect(initResult.stdout.contains("created vault vault/hotsecrets.db"))
    let attributes = try FileManager.default.attributesOfItem(atPath: h.path("vault/hotsecrets.db"))
    #expect((attributes[.posixPermissions] as? Int) == 0o600)

    let set = try await h.run(["set", "prod", "openai", "API_KEY_PROD"], stdin: "sk-live-value\n")
    #expect(set.status == 0)
    #expect(set.stdout.hasPrefix("added prod/openai/API_KEY_PROD version 1"))
    let get = try await h.run(["get", "prod", "openai", "API_KEY_PROD"])
    #expect(get.status == 0)
    #expect(get.stdoutData == Data("sk-live-value".utf8))  // exact, no newline when not a terminal
    #expect(get.stderr.isEmpty)

    let again = try await h.run(["init"])
    #expect(again.status == 2)
    #expect(again.stderr.contains("already exists"))
  }

  @Test(arguments: Backend.allCases) func setRemovesExactlyOneTrailingNewline(_ backend: Backend) async throws {
    let h = try await CLIHarness.withIdentityVault(backend)
    for (input, stored) in [
      ("a\n\n", "a\n"), ("b", "b"), ("c\r\n", "c"), ("", ""), ("multi\nline\n", "multi\nline"),
      ("  spaced  \n", "  spaced  "),
    ] {
      try #require(try await h.run(["set", "prod", "app", "K"], stdin: input).status == 0)
      #expect(try await h.run(["get", "prod", "app", "K"]).stdoutData == Data(stored.utf8))
    }
  }

  @Test(arguments: Backend.allCases) func listHistoryAndRemove(_ backend: Backend) async throws {
    let h = try await CLIHarness.withIdentityVault(backend)
    try await h.run(["set", "prod", "supabase", "SERVICE_KEY"], stdin: "one")
    try await h.run(["set", "prod", "supabase", "SERVICE_KEY"], stdin: "two")
    try await h.run(["set", "staging", "openai", "API_KEY"], stdin: "three")

    let list = try await h.run(["list"])
    #expect(list.status == 0)
    let lines = list.stdout.split(separator: "\n")
    #expect(lines.count == 3)
    #expect(lines[0].hasPrefix("ENV"))
    #expect(lines[1].contains("prod") && lines[1].contains("SERVICE_KEY") && lines[1].contains(" 2 "))

    let json = try h.json(try await h.run(["list", "prod", "--format", "json"]))
    let secrets = try #require(json["secrets"] as? [[String: Any]])
    #expect(secrets.count == 1)
    let row = secrets[0]
    #expect(
      Set(row.keys) == [
        "environment", "service", "key", "version", "created_at", "age_days", "fingerprint", "exposed_to",
      ])
    #expect((row["exposed_to"] as? [Any])?.isEmpty == true)
    #expect(row["version"] as? Int == 2)
    #expect((row["fingerprint"] as? String)?.count == 64)

    let history = try h.json(try await h.run(["history", "prod", "supabase", "SERVICE_KEY", "--format", "json"]))
    let versions = try #require(history["versions"] as? [[String: Any]])
    #expect(versions.map { $0["state"] as? String } == ["current", "previous"])
    #expect(versions.map { $0["source"] as? String } == ["set", "set"])
    #expect(history["key"] as? String == "SERVICE_KEY")

    #expect(try await h.run(["rm", "prod", "supabase", "SERVICE_KEY", "--yes"]).status == 0)
    let gone = try await h.run(["get", "prod", "supabase", "SERVICE_KEY"])
    #expect(gone.status == 2)
    #expect(gone.stderr.contains("no secret prod/supabase/SERVICE_KEY"))
    #expect(try await h.run(["list", "prod"]).stdout.contains("no secrets in prod"))
  }

  @Test func vaultLocationFromFlagEnvironmentAndRoot() async throws {
    let h = try CLIHarness()
    let id = try await h.run(["identity", "new", "--out", "me.identity"]).stdout.trimmingCharacters(
      in: .whitespacesAndNewlines)
    #expect(try await h.run(["init", "--recipient", id, "--vault", "custom/a.db"]).status == 0)
    #expect(FileManager.default.fileExists(atPath: h.path("custom/a.db")))
    #expect(try await h.run(["init", "--recipient", id], env: ["HOTSECRETS_VAULT": "b.db"]).status == 0)
    #expect(FileManager.default.fileExists(atPath: h.path("b.db")))
    try FileManager.default.createDirectory(atPath: h.path("proj"), withIntermediateDirectories: true)
    #expect(try await h.run(["init", "--recipient", id, "--root", "proj"]).status == 0)
    #expect(FileManager.default.fileExists(atPath: h.path("proj/vault/hotsecrets.db")))
    #expect(try await h.run(["list", "--root", "proj", "--identity", "me.identity"]).status == 0)
  }

  @Test func passphraseFileAndIdentityPrecedence() async throws {
    let h = try CLIHarness()
    try "file passphrase 123\n".write(toFile: h.path("pass.txt"), atomically: true, encoding: .utf8)
    #expect(try await h.run(["init", "--passphrase-file", "pass.txt"]).status == 0)
    #expect(try await h.run(["set", "prod", "app", "K", "--passphrase-file", "pass.txt"], stdin: "v").status == 0)
    // The same passphrase from the environment unlocks too.
    #expect(
      try await h.run(["get", "prod", "app", "K"], env: ["HOTSECRETS_PASSPHRASE": "file passphrase 123"]).stdout == "v")
    // An identity that is not a recipient fails clearly, without falling back.
    try await h.run(["identity", "new", "--out", "stranger.identity"])
    let r = try await h.run(["get", "prod", "app", "K", "--identity", "stranger.identity"])
    #expect(r.status == 2)
    #expect(r.stderr.contains("cannot unlock: wrong passphrase or identity"))
  }

  @Test(arguments: Backend.allCases) func recipientsAddListRemove(_ backend: Backend) async throws {
    let h = try await CLIHarness.withIdentityVault(backend)
    try await h.run(["set", "prod", "app", "K"], stdin: "v")
    let alice = try await h.run(["identity", "new", "--out", "alice.identity"]).stdout.trimmingCharacters(
      in: .whitespacesAndNewlines)
    let added = try await h.run(["recipients", "add", alice, "--name", "alice"])
    #expect(added.status == 0)
    #expect(added.stdout.contains("added recipient 2 (alice)"))
    #expect(try await h.run(["get", "prod", "app", "K", "--identity", "alice.identity"]).stdout == "v")

    let listed = try h.json(try await h.run(["recipients", "list", "--format", "json"]))
    let rows = try #require(listed["recipients"] as? [[String: Any]])
    #expect(rows.map { $0["name"] as? String } == ["ci", "alice"])
    #expect(rows.map { $0["self"] as? Bool } == [true, false])
    #expect(rows[1]["recipient"] as? String == alice)

    #expect(try await h.run(["recipients", "remove", "2", "--yes"]).status == 0)
    #expect(try await h.run(["get", "prod", "app", "K", "--identity", "alice.identity"]).status == 2)
    let last = try await h.run(["recipients", "remove", "1", "--yes"])
    #expect(last.status == 2)
    #expect(last.stderr.contains("last recipient"))
    let bad = try await h.run(["recipients", "add", "hsr1garbage"])
    #expect(bad.status == 2)
    #expect(bad.stderr.contains("invalid recipient"))
  }

  @Test(arguments: Backend.allCases) func passphraseRecipientAddedToAnIdentityVault(_ backend: Backend) async throws {
    let h = try await CLIHarness.withIdentityVault(backend)
    try await h.run(["set", "prod", "app", "K"], stdin: "v")
    let added = try await h.run(
      ["recipients", "add", "--passphrase", "--name", "break-glass"],
      env: ["HOTSECRETS_NEW_PASSPHRASE": "a long break-glass passphrase"])
    #expect(added.status == 0)
    #expect(added.stdout.contains("(break-glass)"))
    let get = try await h.run(
      ["get", "prod", "app", "K"],
      env: ["HOTSECRETS_IDENTITY": "", "HOTSECRETS_PASSPHRASE": "a long break-glass passphrase"])
    #expect(get.stdout == "v")
    #expect(try await h.run(["recipients", "add"]).status == 64)
    #expect(try await h.run(["recipients", "add", "hsr1x", "--passphrase"]).status == 64)
  }

  @Test func identityFileIsPrivateAndNeverOverwritten() async throws {
    let h = try CLIHarness()
    let first = try await h.run(["identity", "new", "--out", "id.txt"])
    #expect(first.status == 0)
    #expect(first.stdout.hasPrefix("hsr1"))
    let attributes = try FileManager.default.attributesOfItem(atPath: h.path("id.txt"))
    #expect((attributes[.posixPermissions] as? Int) == 0o600)
    let before = try String(contentsOfFile: h.path("id.txt"), encoding: .utf8)
    let second = try await h.run(["identity", "new", "--out", "id.txt"])
    #expect(second.status == 2)
    #expect(second.stderr.contains("already exists"))
    #expect(try String(contentsOfFile: h.path("id.txt"), encoding: .utf8) == before)
    #expect(try await h.run(["identity", "show", "id.txt"]).stdout == first.stdout)
  }
}
