import Foundation
import TestSupport
import Testing

/// `hotsecrets backup`, `restore` and `drill` end to end.
@Suite(.endToEnd) struct BackupCommandTests {
  static let value = "sk-live-BackupCanary-0123456789"

  static func vault(_ backend: Backend = .file) async throws -> CLIHarness {
    let h = try await CLIHarness.withIdentityVault(backend)
    try #require(try await h.run(["set", "prod", "openai", "API_KEY_PROD"], stdin: "sk-live-old-version-000000").status == 0)
    try #require(try await h.run(["set", "prod", "openai", "API_KEY_PROD"], stdin: value).status == 0)
    try h.writePolicy(
      """
      version: 1
      environment: prod
      services:
        openai:
          keys:
            API_KEY_PROD: { format: '^sk-live-' }
      """)
    try #require(try await h.run(["audit", "checkpoint"]).status == 0)
    return h
  }

  func checks(_ h: CLIHarness, _ r: CLIResult) throws -> [String: Bool] {
    let document = try h.json(r)
    let list = try #require(document["checks"] as? [[String: Any]])
    return Dictionary(uniqueKeysWithValues: list.map { ($0["name"] as! String, $0["passed"] as! Bool) })
  }

  @Test(arguments: Backend.allCases) func aBackupDrillsCleanAndRestores(_ backend: Backend) async throws {
    let h = try await Self.vault(backend)
    let made = try await h.run(["backup", "--out", "backups/one.db", "--format", "json"])
    #expect(made.status == 0, "\(made.allOutput)")
    let manifest = try h.json(made)
    #expect(manifest["source"] as? String == (backend == .file ? "file" : "postgresql"))
    #expect(FileManager.default.fileExists(atPath: h.path("backups/one.db.manifest")))
    // The manifest's hash is the file's, as sha256sum computes it.
    let sum = try await h.runProcess("/usr/bin/sha256sum", [h.path("backups/one.db")], stdin: nil, env: [:])
    #expect(sum.stdout.hasPrefix(manifest["sha256"] as! String))
    // Never overwritten.
    #expect(try await h.run(["backup", "--out", "backups/one.db"]).status == 2)

    let drill = try await h.run(["drill", "--from", "backups/one.db", "--format", "json"])
    #expect(drill.status == 0, "\(drill.allOutput)")
    let passed = try checks(h, drill)
    for name in ["manifest signature", "signing key", "size", "sha256", "vault id", "audit head", "counts", "values decrypt", "audit chain", "verify prod"] {
      #expect(passed[name] == true, "\(name): \(drill.stdout)")
    }
    #expect(try h.json(drill)["values_decrypted"] as? Int == 2)  // both versions
    // A fresh backup drilled: verify compared with the live vault.
    let fresh = try await h.run(["drill"])
    #expect(fresh.status == 0, "\(fresh.allOutput)")
    #expect(fresh.stdout.contains("verify prod         the same result as on the live vault"), "\(fresh.stdout)")
    #expect(!drill.allOutput.contains(Self.value) && !fresh.allOutput.contains(Self.value))
    // Each drill is audited in the live vault, with the backup's hash.
    let log = try h.json(try await h.run(["audit", "log", "--format", "json"]))
    let drills = (log["entries"] as? [[String: Any]])?.filter { $0["action"] as? String == "drill" } ?? []
    #expect(drills.count == 2)
    #expect((drills.first?["detail"] as? [String: Any])?["backup_sha256"] as? String == manifest["sha256"] as? String)
    #expect((drills.first?["detail"] as? [String: Any])?["result"] as? String == "passed")

    // Restore to a new file: the same vault, opened with the same identity.
    let restored = try await h.run(["restore", "backups/one.db", "--to", h.path("restored/vault.db")])
    #expect(restored.status == 0, "\(restored.allOutput)")
    let get = try await h.run(["get", "prod", "openai", "API_KEY_PROD"], env: ["HOTSECRETS_VAULT": h.path("restored/vault.db")])
    #expect(get.stdout.trimmingCharacters(in: .newlines) == Self.value)
    let again = try await h.run(["restore", "backups/one.db", "--to", h.path("restored/vault.db")])
    #expect(again.status == 2)

    // A stored backup still drills after later checkpoints (they are past its head).
    try #require(try await h.run(["set", "prod", "app", "LATER"], stdin: "a-later-value-123456").status == 0)
    try #require(try await h.run(["audit", "checkpoint"]).status == 0)
    let older = try await h.run(["drill", "--from", "backups/one.db"])
    #expect(older.status == 0, "\(older.allOutput)")
    #expect(older.stdout.contains("verify prod         not compared: the live vault changed since the backup"), "\(older.stdout)")
    // Without a checkpoints file the signer cannot be checked: refused unless asked for.
    let elsewhere = try await h.run(
      ["restore", "backups/one.db", "--to", h.path("r2.db"), "--checkpoints", h.path("no-such.log")])
    #expect(elsewhere.status == 2)
    #expect(elsewhere.stderr.contains("--trust-manifest-key"), "\(elsewhere.stderr)")
    #expect(!FileManager.default.fileExists(atPath: h.path("r2.db")))
    let trusted = try await h.run(
      ["restore", "backups/one.db", "--to", h.path("r2.db"), "--checkpoints", h.path("no-such.log"), "--trust-manifest-key"])
    #expect(trusted.status == 0, "\(trusted.allOutput)")
  }

  @Test func tamperedTruncatedAndForeignBackupsFailTheDrillNamingWhat() async throws {
    let h = try await Self.vault()
    try #require(try await h.run(["backup", "--out", "b.db"]).status == 0)
    let original = try Data(contentsOf: URL(fileURLWithPath: h.path("b.db")))
    let manifest = try Data(contentsOf: URL(fileURLWithPath: h.path("b.db.manifest")))
    func variant(_ name: String, bytes: Data, manifest: Data) throws {
      try bytes.write(to: URL(fileURLWithPath: h.path(name)))
      try manifest.write(to: URL(fileURLWithPath: h.path(name + ".manifest")))
    }
    // One byte changed in the copy.
    var flipped = original
    flipped[flipped.count / 2] ^= 0xFF
    try variant("flipped.db", bytes: flipped, manifest: manifest)
    let tampered = try await h.run(["drill", "--from", "flipped.db", "--format", "json"])
    #expect(tampered.status == 1)
    #expect(try checks(h, tampered)["sha256"] == false)
    // Truncated.
    try variant("short.db", bytes: original.prefix(4096), manifest: manifest)
    let truncated = try await h.run(["drill", "--from", "short.db", "--format", "json"])
    #expect(truncated.status == 1)
    #expect(try checks(h, truncated)["size"] == false)
    // The manifest edited to match a forged copy: its signature fails.
    var edited = try #require(try JSONSerialization.jsonObject(with: manifest) as? [String: Any])
    edited["sha256"] = String(repeating: "0", count: 64)
    try variant("edited.db", bytes: original, manifest: try JSONSerialization.data(withJSONObject: edited))
    let forged = try await h.run(["drill", "--from", "edited.db", "--format", "json"])
    #expect(forged.status == 1)
    #expect(try checks(h, forged)["manifest signature"] == false)
    // Another vault's backup, validly signed by its own key.
    let other = try await Self.vault()
    try #require(try await other.run(["backup", "--out", "other.db"]).status == 0)
    try FileManager.default.copyItem(atPath: other.path("other.db"), toPath: h.path("other.db"))
    try FileManager.default.copyItem(atPath: other.path("other.db.manifest"), toPath: h.path("other.db.manifest"))
    let foreign = try await h.run(["drill", "--from", "other.db", "--format", "json"])
    #expect(foreign.status == 1)
    #expect(try checks(h, foreign)["signing key"] == false)
    #expect(foreign.stdout.contains("a foreign or forged backup"))
    // restore refuses the same backups, and writes nothing.
    let refused = try await h.run(["restore", "other.db", "--to", h.path("nowhere.db")])
    #expect(refused.status == 1)
    #expect(!FileManager.default.fileExists(atPath: h.path("nowhere.db")))
    // The failed drills are audited as failed, naming the checks.
    let log = try h.json(try await h.run(["audit", "log", "--format", "json"]))
    let failed = (log["entries"] as? [[String: Any]])?.filter {
      $0["action"] as? String == "drill" && ($0["detail"] as? [String: Any])?["result"] as? String == "failed"
    }
    #expect(failed?.count == 4)
  }

  @Test func aDrillRunsWhileAnotherProcessWrites() async throws {
    let h = try await Self.vault()
    let writer = Task {
      for i in 0..<15 {
        _ = try await h.run(["set", "prod", "app", "K\(i)"], stdin: "value-number-\(i)-abcdef")
      }
    }
    var results: [CLIResult] = []
    for _ in 0..<3 { results.append(try await h.run(["drill"])) }
    try await writer.value
    for r in results { #expect(r.status == 0, "\(r.allOutput)") }
    #expect(try await h.run(["audit", "verify"]).status == 0)
  }
}
