import Foundation
import GRDB
import Testing

@Suite(.endToEnd) struct AuditCommandTests {
  @Test func logAndVerifyEndToEnd() async throws {
    let h = try await CLIHarness.withIdentityVault()
    try await h.run(["set", "prod", "openai", "API_KEY_PROD"], stdin: "v1")
    try await h.run(["get", "prod", "openai", "API_KEY_PROD"])
    let log = try h.json(try await h.run(["audit", "log", "--format", "json"]))
    let entries = try #require(log["entries"] as? [[String: Any]])
    #expect(entries.map { $0["action"] as? String } == ["init", "recipient-add", "set", "get"])
    let set = entries[2]
    #expect(
      Set(set.keys) == [
        "seq", "time", "actor", "action", "subject", "version", "fingerprint", "detail", "prev_hash", "hash", "mac",
      ])
    #expect((set["actor"] as? [String: Any])?["recipient"] as? String == "1:ci")
    #expect(set["subject"] as? String == "prod/openai/API_KEY_PROD")

    let ok = try await h.run(["audit", "verify"])
    #expect(ok.status == 0)
    #expect(ok.stdout.hasPrefix("audit chain intact: 4 entries"))
    let okJSON = try h.json(try await h.run(["audit", "verify", "--format", "json"]))
    #expect(okJSON["intact"] as? Bool == true)
    #expect(okJSON["entries"] as? Int == 4)
    #expect(okJSON["authenticated"] as? Bool == true)
    let anonymous = try h.json(
      try await h.run(["audit", "verify", "--format", "json"], env: ["HOTSECRETS_IDENTITY": ""]))
    #expect(anonymous["intact"] as? Bool == true)
    #expect(anonymous["authenticated"] as? Bool == false)

    let queue = try DatabaseQueue(path: h.path("vault/hotsecrets.db"))
    try await queue.write { db in try db.execute(sql: "UPDATE audit_log SET action = 'set' WHERE seq = 4") }
    let broken = try await h.run(["audit", "verify"])
    #expect(broken.status == 1)
    #expect(broken.stdout.contains("audit chain broken at seq 4"))
    let brokenJSON = try h.json(try await h.run(["audit", "verify", "--format", "json"]))
    #expect(brokenJSON["intact"] as? Bool == false)
    #expect(brokenJSON["first_bad_seq"] as? Int == 4)
  }

  @Test(arguments: Backend.allCases) func limitShowsTheNewestEntries(_ backend: Backend) async throws {
    let h = try await CLIHarness.withIdentityVault(backend)
    try await h.run(["set", "prod", "app", "K"], stdin: "v")
    let r = try await h.run(["audit", "log", "--limit", "1"])
    #expect(r.stdout.split(separator: "\n").count == 2)
    #expect(r.stdout.contains("set"))
  }
}

@Suite(.endToEnd) struct ConcurrencyTests {
  @Test(arguments: Backend.allCases) func twoProcessesWritingAtOnceLoseNoUpdate(_ backend: Backend) async throws {
    let h = try await CLIHarness.withIdentityVault(backend)
    let perWriter = 12
    let script = """
      for i in $(seq 1 \(perWriter)); do printf "$1-$i" | "$0" set prod app COUNTER >/dev/null || exit 1; done
      """
    async let a = h.runProcess("/bin/sh", ["-c", script, CLIHarness.binary, "a"], stdin: nil, env: [:])
    async let b = h.runProcess("/bin/sh", ["-c", script, CLIHarness.binary, "b"], stdin: nil, env: [:])
    let statuses = [(try? await a)?.status ?? -1, (try? await b)?.status ?? -1]
    #expect(statuses == [0, 0])
    let history = try h.json(try await h.run(["history", "prod", "app", "COUNTER", "--format", "json"]))
    let versions = try #require(history["versions"] as? [[String: Any]])
    #expect(versions.count == 2 * perWriter)
    #expect(versions.map { $0["version"] as? Int } == Array((1...(2 * perWriter)).reversed()))
    #expect(try await h.run(["audit", "verify"]).status == 0)
  }

  @Test func aWriterHeldTooLongGivesVaultIsBusy() async throws {
    let h = try await CLIHarness.withIdentityVault()
    // The writer's transaction spans two accesses (begun here, rolled back after the run), so that no thread
    // waits inside one for the binary.
    var configuration = Configuration()
    configuration.allowsUnsafeTransactions = true
    let queue = try DatabaseQueue(path: h.path("vault/hotsecrets.db"), configuration: configuration)
    try await queue.writeWithoutTransaction { db in try db.execute(sql: "BEGIN IMMEDIATE") }
    let r = try await h.run(["set", "prod", "app", "K"], stdin: "v", env: ["HOTSECRETS_BUSY_TIMEOUT": "0.3"])
    #expect(r.status == 2)
    #expect(r.stderr.contains("vault is busy"))
    try await queue.writeWithoutTransaction { db in try db.execute(sql: "ROLLBACK") }
    #expect(try await h.run(["set", "prod", "app", "K"], stdin: "v").status == 0)
  }
}
