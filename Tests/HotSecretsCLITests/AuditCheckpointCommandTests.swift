import Foundation
import GRDB
import Testing

@Suite(.endToEnd) struct AuditCheckpointCommandTests {
  static let linePattern =
    #"^hotsecrets-checkpoint v1 seq=[1-9][0-9]* hash=[0-9a-f]{64} time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ vault=[0-9a-f-]{36} key=[A-Za-z0-9+/]{43}= sig=[A-Za-z0-9+/]{86}==$"#

  func lines(_ h: CLIHarness, _ relative: String = "vault/audit-checkpoints.log") throws -> [String] {
    try String(contentsOfFile: h.path(relative), encoding: .utf8).split(separator: "\n").map(String.init)
  }

  func headSeq(_ h: CLIHarness) async throws -> Int {
    try #require(try h.json(try await h.run(["audit", "verify", "--format", "json"]))["head_seq"] as? Int)
  }

  @Test func checkpointAppendsOneSignedLineAndVerifyChecksIt() async throws {
    let h = try await CLIHarness.withIdentityVault()
    try await h.run(["set", "prod", "openai", "API_KEY_PROD"], stdin: "v1")

    let first = try await h.run(["audit", "checkpoint"])
    #expect(first.status == 0, "\(first.allOutput)")
    #expect(first.stdout.hasPrefix("created the vault's signing key "))
    #expect(first.stdout.contains("checkpoint: seq 4 hash "))
    #expect(first.stdout.contains(" appended to vault/audit-checkpoints.log"))
    let mode = try #require(
      FileManager.default.attributesOfItem(atPath: h.path("vault/audit-checkpoints.log"))[.posixPermissions] as? Int)
    #expect(mode == 0o644)

    try await h.run(["get", "prod", "openai", "API_KEY_PROD"])
    let second = try h.json(try await h.run(["audit", "checkpoint", "--format", "json"]))
    #expect(
      Set(second.keys) == [
        "seq", "hash", "time", "vault_id", "public_key", "signature", "line", "file", "signing_key_created",
      ])
    #expect(second["seq"] as? Int == 5)
    #expect(second["signing_key_created"] as? Bool == false)
    #expect(second["file"] as? String == "vault/audit-checkpoints.log")

    let written = try lines(h)
    #expect(written.count == 2)
    #expect(written[1] == second["line"] as? String)
    for line in written { #expect(line.wholeMatch(of: try Regex(Self.linePattern)) != nil, "\(line)") }

    let log = try h.json(try await h.run(["audit", "log", "--format", "json"]))
    let entries = try #require(log["entries"] as? [[String: Any]])
    // The key's creation is audited; checkpoints themselves are not.
    #expect(entries.map { $0["action"] as? String } == ["init", "recipient-add", "set", "signing-key-create", "get"])
    #expect(entries[3]["detail"] as? [String: String] == ["public_key": second["public_key"] as? String ?? ""])

    let ok = try await h.run(["audit", "verify"])
    #expect(ok.status == 0)
    #expect(ok.stdout.hasPrefix("audit chain intact: 5 entries"))
    #expect(ok.stdout.contains("checkpoints: 2 verified (vault/audit-checkpoints.log)"))
    let okJSON = try h.json(try await h.run(["audit", "verify", "--format", "json"]))
    #expect(
      Set(okJSON.keys) == [
        "intact", "entries", "first_bad_seq", "reason", "head_seq", "head_hash", "authenticated", "checkpoints",
        "checkpoint_error",
      ])
    #expect(okJSON["intact"] as? Bool == true)
    #expect(okJSON["checkpoints"] as? Int == 2)
    #expect(okJSON["checkpoint_error"] is NSNull)
    let anonymous = try h.json(
      try await h.run(["audit", "verify", "--format", "json"], env: ["HOTSECRETS_IDENTITY": ""]))
    #expect(anonymous["authenticated"] as? Bool == false)
    #expect(anonymous["checkpoints"] as? Int == 2)
  }

  @Test(arguments: Backend.allCases) func withoutAFileThereAreNoCheckpoints(_ backend: Backend) async throws {
    let h = try await CLIHarness.withIdentityVault(backend)
    let text = try await h.run(["audit", "verify"])
    #expect(text.status == 0)
    #expect(text.stdout.contains("checkpoints: 0 verified"))
    let json = try h.json(try await h.run(["audit", "verify", "--format", "json"]))
    #expect(json["checkpoints"] as? Int == 0)
    #expect(json["checkpoint_error"] is NSNull)
  }

  @Test func truncationAfterACheckpointFailsNamingTheLine() async throws {
    let h = try await CLIHarness.withIdentityVault()
    try await h.run(["set", "prod", "app", "A"], stdin: "1")
    #expect(try await h.run(["audit", "checkpoint"]).status == 0)
    try await h.run(["set", "prod", "app", "B"], stdin: "2")
    try await h.run(["set", "prod", "app", "C"], stdin: "3")
    #expect(try await h.run(["audit", "checkpoint"]).status == 0)
    let head = try await headSeq(h)
    #expect(head == 6)

    let queue = try DatabaseQueue(path: h.path("vault/hotsecrets.db"))
    try await queue.write { db in try db.execute(sql: "DELETE FROM audit_log WHERE seq > 5") }
    for env in [[:], ["HOTSECRETS_IDENTITY": ""]] {
      let broken = try await h.run(["audit", "verify"], env: env)
      #expect(broken.status == 1)
      #expect(
        broken.stdout
          == "audit checkpoint failed: vault/audit-checkpoints.log line 2: checkpointed seq 6 is not in the audit chain, which ends at seq 5: the entries after seq 5 were deleted (truncated) (1 checkpoint before it verified)\n"
      )
      let json = try h.json(try await h.run(["audit", "verify", "--format", "json"], env: env))
      #expect(json["intact"] as? Bool == false)
      #expect(json["checkpoints"] as? Int == 1)
      #expect(json["first_bad_seq"] as? Int == 6)
      #expect((json["checkpoint_error"] as? String)?.hasPrefix("vault/audit-checkpoints.log line 2: ") == true)
      #expect(json["reason"] as? String == json["checkpoint_error"] as? String)
    }
  }

  @Test func aTamperedLineFailsNamingTheLine() async throws {
    let h = try await CLIHarness.withIdentityVault()
    #expect(try await h.run(["audit", "checkpoint"]).status == 0)
    try await h.run(["set", "prod", "app", "A"], stdin: "1")
    #expect(try await h.run(["audit", "checkpoint"]).status == 0)
    var written = try lines(h)
    written[1] = written[1].replacingOccurrences(of: "seq=4 ", with: "seq=3 ")
    try (written.joined(separator: "\n") + "\n").write(
      toFile: h.path("vault/audit-checkpoints.log"), atomically: true, encoding: .utf8)
    let r = try await h.run(["audit", "verify"])
    #expect(r.status == 1)
    #expect(r.stdout.contains("vault/audit-checkpoints.log line 2: the signature does not verify"))
  }

  @Test func anotherVaultsCheckpointIsRefused() async throws {
    let h = try await CLIHarness.withIdentityVault()
    let other = try await CLIHarness.withIdentityVault()
    #expect(try await other.run(["audit", "checkpoint"]).status == 0)
    try FileManager.default.createDirectory(atPath: h.path("vault"), withIntermediateDirectories: true)
    try FileManager.default.copyItem(
      atPath: other.path("vault/audit-checkpoints.log"), toPath: h.path("vault/audit-checkpoints.log"))
    let r = try await h.run(["audit", "verify", "--format", "json"])
    #expect(r.status == 1)
    let json = try h.json(r)
    #expect((json["checkpoint_error"] as? String)?.contains("line 1: the checkpoint is for vault ") == true)
  }

  @Test func theFileIsUnderRootWhereverTheVaultIsAndCanBeOverridden() async throws {
    let h = try await CLIHarness.withIdentityVault()
    try FileManager.default.createDirectory(atPath: h.path("elsewhere"), withIntermediateDirectories: true)
    try FileManager.default.moveItem(atPath: h.path("vault/hotsecrets.db"), toPath: h.path("elsewhere/v.db"))
    try FileManager.default.createDirectory(atPath: h.path("project"), withIntermediateDirectories: true)
    let args = ["--root", "project", "--vault", "elsewhere/v.db"]
    #expect(try await h.run(["audit", "checkpoint"] + args).status == 0)
    #expect(FileManager.default.fileExists(atPath: h.path("project/vault/audit-checkpoints.log")))
    #expect(!FileManager.default.fileExists(atPath: h.path("elsewhere/audit-checkpoints.log")))
    #expect(try await h.run(["audit", "checkpoint", "--checkpoints", "anchors.log"] + args).status == 0)
    #expect(try lines(h, "anchors.log").count == 1)
    let json = try h.json(try await h.run(["audit", "verify", "--format", "json"] + args))
    #expect(json["checkpoints"] as? Int == 1)
    let both = try h.json(
      try await h.run(["audit", "verify", "--format", "json", "--checkpoints", "anchors.log"] + args))
    #expect(both["checkpoints"] as? Int == 1)
    let missing = try h.json(
      try await h.run(["audit", "verify", "--format", "json", "--checkpoints", "none.log"] + args))
    #expect(missing["checkpoints"] as? Int == 0)
    #expect(missing["intact"] as? Bool == true)
  }

  @Test func checkpointNeedsTheVaultUnlocked() async throws {
    let h = try await CLIHarness.withIdentityVault()
    let r = try await h.run(["audit", "checkpoint"], env: ["HOTSECRETS_IDENTITY": ""])
    #expect(r.status == 2)
    #expect(!FileManager.default.fileExists(atPath: h.path("vault/audit-checkpoints.log")))
  }

  @Test func rotateAppendsACheckpoint() async throws {
    let h = try await CLIHarness.withIdentityVault()
    try h.writePolicy(
      """
      version: 1
      environment: prod
      services:
        app:
          keys:
            SESSION_SECRET: { rotate: generate }
      """)
    try await h.run(["set", "prod", "app", "SESSION_SECRET"], stdin: "old-session-secret-value-123456")
    let dry = try await h.run(["rotate", "prod", "app/SESSION_SECRET", "--dry-run"])
    #expect(dry.status == 0, "\(dry.allOutput)")
    #expect(!FileManager.default.fileExists(atPath: h.path("vault/audit-checkpoints.log")))

    let r = try await h.run(["rotate", "prod", "app/SESSION_SECRET"])
    #expect(r.status == 0, "\(r.allOutput)")
    let head = try await headSeq(h)
    #expect(r.stderr.contains("rotate prod: audit checkpoint: seq \(head) appended to vault/audit-checkpoints.log"))
    let written = try lines(h)
    #expect(written.count == 1)
    #expect(written[0].contains(" seq=\(head) "))
    let json = try h.json(try await h.run(["audit", "verify", "--format", "json"]))
    #expect(json["intact"] as? Bool == true)
    #expect(json["checkpoints"] as? Int == 1)
  }

  @Test func rotateStillSucceedsWhenTheCheckpointCannotBeWritten() async throws {
    let h = try await CLIHarness.withIdentityVault()
    try h.writePolicy(
      """
      version: 1
      environment: prod
      services:
        app:
          keys:
            SESSION_SECRET: { rotate: generate }
      """)
    try await h.run(["set", "prod", "app", "SESSION_SECRET"], stdin: "old-session-secret-value-123456")
    // A folder where the file should be: the open fails.
    try FileManager.default.createDirectory(
      atPath: h.path("vault/audit-checkpoints.log"), withIntermediateDirectories: true)
    let r = try await h.run(["rotate", "prod", "app/SESSION_SECRET"])
    #expect(r.status == 0, "\(r.allOutput)")
    #expect(r.stderr.contains("warning: the audit checkpoint was not written to vault/audit-checkpoints.log"))
  }
}
