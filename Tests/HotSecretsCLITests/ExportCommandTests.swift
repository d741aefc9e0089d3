import Foundation
import GRDB
import HotSecretsCompliance
import HotSecretsModel
import TestSupport
import Testing

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// `hotsecrets export compliance` and `export verify` end to end.
@Suite(.endToEnd) struct ExportCommandTests {
  static let files = [
    "inventory.csv", "rotations.csv", "access.csv", "reads.csv", "drills.csv", "policy-results.json", "audit.jsonl",
    "audit-verification.json", "report.html", "signer.pub", "manifest.json", "manifest.sig", "SHA256SUMS",
  ]

  static func read(_ h: CLIHarness, _ relative: String) throws -> String {
    try String(contentsOfFile: h.path(relative), encoding: .utf8)
  }

  /// CSV rows (header first) of a bundle file, split naively: the test data has no quoted commas.
  static func csv(_ h: CLIHarness, _ relative: String) throws -> [[String]] {
    try read(h, relative).split(separator: "\r\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
  }

  static func column(_ rows: [[String]], _ name: String, where key: String, is value: String) -> String? {
    guard let header = rows.first, let c = header.firstIndex(of: name), let k = header.firstIndex(of: key) else {
      return nil
    }
    return rows.dropFirst().first { $0[k] == value }?[c]
  }

  /// Sets the creation time of `service/key`'s current version (to make it overdue).
  static func backdate(_ h: CLIHarness, _ service: String, _ key: String, to time: String) throws {
    let queue = try DatabaseQueue(path: h.path("vault/hotsecrets.db"))
    try queue.write { db in
      try db.execute(
        sql: """
          UPDATE secret_versions SET created_at = ? WHERE state = 'current' AND secret_id =
            (SELECT id FROM secrets WHERE environment = 'prod' AND service = ? AND key = ?)
          """, arguments: [time, service, key])
    }
  }

  /// A vault with a successful rotation, a rolled-back one, an overdue key and a removed
  /// recipient, exported to `bundle`.
  @Test func theBundleReportsAKnownHistoryWithoutAnyValue() async throws {
    let f = try await RotateCommandTests.fixture()
    defer { f.stop() }
    let h = f.h
    let ok = try await f.rotate(["app/SESSION_SECRET"])
    #expect(ok.status == 0, "\(ok.allOutput)")
    f.fly.inject(.failRequest(number: 1, status: 422, matching: "POST /v1/apps/\(RotateCommandTests.app)/secrets"))
    let failed = try await f.rotate(["openai/API_KEY_PROD"])
    #expect(failed.status == 1, "\(failed.allOutput)")
    try Self.backdate(h, "supabase", "SERVICE_KEY", to: "2020-01-01T00:00:00Z")
    let identity = try await h.run(["identity", "new", "--out", "teammate.key"])
    #expect(identity.status == 0)
    let recipient = identity.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(try await h.run(["recipients", "add", recipient, "--name", "teammate"]).status == 0)
    #expect(try await h.run(["recipients", "remove", "2", "--yes"]).status == 0)

    let r = try await h.run(["export", "compliance", "prod", "--out", "bundle", "--format", "json"])
    #expect(r.status == 0, "\(r.allOutput)")
    let out = try h.json(r)
    #expect(out["directory"] as? String == "bundle")
    #expect(Set((out["files"] as? [String: Any])?.keys.map { $0 } ?? []) == Set(Self.files))
    let present = try FileManager.default.contentsOfDirectory(atPath: h.path("bundle"))
    #expect(Set(present) == Set(Self.files))

    // Inventory: every declared key, with the overdue one marked.
    let inventory = try Self.csv(h, "bundle/inventory.csv")
    #expect(inventory[0] == [
      "service", "key", "secret", "required", "declared", "current_version", "created_at", "age_days", "max_age_days",
      "rotation", "targets", "fingerprint_prefix", "status",
    ])
    #expect(inventory.count == 7)
    #expect(Self.column(inventory, "status", where: "key", is: "SERVICE_KEY") == "overdue")
    #expect(Self.column(inventory, "created_at", where: "key", is: "SERVICE_KEY") == "2020-01-01T00:00:00Z")
    #expect(Self.column(inventory, "status", where: "key", is: "SESSION_SECRET") == "ok")
    #expect(Self.column(inventory, "current_version", where: "key", is: "SESSION_SECRET") == "2")
    #expect(Self.column(inventory, "secret", where: "key", is: "SUPABASE_URL") == "no")
    #expect(Self.column(inventory, "max_age_days", where: "key", is: "SUPABASE_URL") == "")
    #expect(Self.column(inventory, "targets", where: "key", is: "SERVICE_KEY")
      == "fly:hotdash-production;github:hotrodan/hot-dash:production")

    // Rotations: the completed run and the rolled-back one, with their steps and who ran them.
    let rotations = try Self.csv(h, "bundle/rotations.csv")
    #expect(rotations.count == 3, "\(rotations)")
    #expect(Self.column(rotations, "result", where: "key", is: "SESSION_SECRET") == "rotated")
    #expect(Self.column(rotations, "run_result", where: "key", is: "SESSION_SECRET") == "completed")
    #expect(Self.column(rotations, "old_version", where: "key", is: "SESSION_SECRET") == "1")
    #expect(Self.column(rotations, "new_version", where: "key", is: "SESSION_SECRET") == "2")
    #expect(Self.column(rotations, "steps", where: "key", is: "SESSION_SECRET")?.hasPrefix("create;") == true)
    #expect(Self.column(rotations, "steps", where: "key", is: "SESSION_SECRET")?.contains("promote") == true)
    #expect(Self.column(rotations, "result", where: "key", is: "API_KEY_PROD") == "rolled-back")
    #expect(Self.column(rotations, "run_result", where: "key", is: "API_KEY_PROD") == "rolled-back")
    #expect(Self.column(rotations, "steps", where: "key", is: "API_KEY_PROD")?.contains("rollback") == true)
    #expect(Self.column(rotations, "ran_by", where: "key", is: "API_KEY_PROD")?.isEmpty == false)

    // Access: the vault's identity and the teammate added then removed.
    let access = try Self.csv(h, "bundle/access.csv")
    #expect(access.count == 3)
    #expect(Self.column(access, "removed_at", where: "name", is: "teammate")?.isEmpty == false)
    #expect(Self.column(access, "active_at_end", where: "name", is: "teammate") == "no")
    #expect(Self.column(access, "recipient", where: "name", is: "teammate") == recipient)

    // policy-results.json is what `verify prod --format json` prints.
    let verify = try await h.run(["verify", "prod", "--format", "json"])
    #expect(verify.status == 1)
    let stored = try Self.read(h, "bundle/policy-results.json")
    #expect(stored == verify.stdout, "\(stored)\n---\n\(verify.stdout)")

    // The controls: rotation fails (overdue key); the audit chain is intact.
    let manifest = try #require(
      try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: h.path("bundle/manifest.json"))))
        as? [String: Any])
    #expect(
      Set(manifest.keys) == [
        "format", "files", "vault_id", "environment", "period", "generated_at", "tool_version", "audit_head",
        "controls", "signer", "checksums_file",
      ])
    #expect(manifest["checksums_file"] as? String == "SHA256SUMS")
    let controls = try #require(manifest["controls"] as? [[String: Any]])
    let passed = Dictionary(uniqueKeysWithValues: controls.map { ($0["id"] as! String, $0["passed"] as! Bool) })
    #expect(passed == [
      "inventory-complete": true, "required-keys-present": true, "rotation-within-max-age": false,
      "audit-chain-intact": true, "recovery-tested": false,
    ])
    #expect(manifest["environment"] as? String == "prod")
    #expect((manifest["files"] as? [String: String])?.count == 10)

    // audit.jsonl: every entry (the period is the vault's life), ending at the signed head.
    let jsonl = try Self.read(h, "bundle/audit.jsonl").split(separator: "\n")
    #expect(jsonl.count == out["audit_entries"] as? Int)
    let last = try #require(try JSONSerialization.jsonObject(with: Data(jsonl.last!.utf8)) as? [String: Any])
    let head = try #require(manifest["audit_head"] as? [String: Any])
    #expect(last["seq"] as? Int == head["seq"] as? Int)
    #expect(last["hash"] as? String == head["hash"] as? String)
    #expect(last["action"] as? String == "export-compliance")

    // The export's checkpoint anchors that head; the chain and the checkpoints still verify.
    let checkpoints = try Self.read(h, "vault/audit-checkpoints.log").split(separator: "\n")
    #expect(checkpoints.last?.contains("seq=\(head["seq"] as? Int ?? -1) hash=\(head["hash"] as? String ?? "")") == true)
    #expect(try await h.run(["audit", "verify"]).status == 0)
    let auditVerification = try #require(
      try JSONSerialization.jsonObject(
        with: Data(contentsOf: URL(fileURLWithPath: h.path("bundle/audit-verification.json")))) as? [String: Any])
    #expect(auditVerification["intact"] as? Bool == true)
    #expect(auditVerification["authenticated"] as? Bool == true)

    // No value anywhere: the old credentials, the rotated ones, the tokens.
    var values = [
      RotateCommandTests.oldOpenAI, RotateCommandTests.oldSupabase, RotateCommandTests.oldChatwoot,
      RotateCommandTests.oldShopify, RotateCommandTests.oldSession, "admin-key-test", "fly-test-token",
    ]
    values.append(try await f.current("app", "SESSION_SECRET"))
    for file in Self.files {
      let text = try Self.read(h, "bundle/\(file)")
      for value in values { #expect(!text.contains(value), "\(file) holds a value") }
    }
    for value in values { #expect(!r.allOutput.contains(value)) }

    let checked = try await h.run(["export", "verify", "bundle", "--checkpoints", "vault/audit-checkpoints.log"])
    #expect(checked.status == 0, "\(checked.allOutput)")
    #expect(checked.stdout.hasPrefix("bundle intact: bundle: 10 files match manifest.json; signature valid"))
    #expect(checked.stdout.contains("SHA256SUMS agrees with manifest.json"))
    #expect(checked.stdout.contains("signer anchored"))
  }

  /// A small vault with a policy, exported; for the tamper and failure cases.
  static func exported(_ out: String = "bundle") async throws -> CLIHarness {
    let h = try await CLIHarness.withIdentityVault()
    try h.writePolicy(
      """
      version: 1
      environment: prod
      max_age_days: 90
      services:
        openai:
          keys:
            API_KEY_PROD: { format: '^sk-' }
        app:
          keys:
            SESSION_SECRET: { rotate: generate }
      """)
    try await h.run(["set", "prod", "openai", "API_KEY_PROD"], stdin: "sk-live-secret-value-123")
    try await h.run(["set", "prod", "app", "SESSION_SECRET"], stdin: "session-secret-value-456")
    let r = try await h.run(["export", "compliance", "prod", "--out", out])
    #expect(r.status == 0, "\(r.allOutput)")
    return h
  }

  @Test func textOutputSummarisesTheBundleAndItsControls() async throws {
    let h = try await CLIHarness.withIdentityVault()
    try await h.run(["set", "prod", "openai", "API_KEY_PROD"], stdin: "sk-live-secret-value-123")
    try h.writePolicy(
      "version: 1\nenvironment: prod\nservices:\n  openai:\n    keys:\n      API_KEY_PROD: {}\n      ORG_ID: {}\n")
    let r = try await h.run(["export", "compliance", "prod", "--out", "evidence/q4"])
    #expect(r.status == 0, "\(r.allOutput)")
    #expect(r.stdout.hasPrefix("export compliance prod: wrote evidence/q4 (13 files)"))
    // The policy sets no max_age_days: the max-age control is not applicable, neither PASS nor FAIL.
    #expect(r.stdout.contains("controls: 2 of 5 pass, 1 not applicable"))
    #expect(
      r.stdout.contains(
        "N/A   Rotation within max age (CC6.1, CC8.1): no key has a maximum age: policies/prod.yaml sets no max_age_days for a secret, nor a default"
      ))
    #expect(r.stdout.contains("  reads      0 reads of the values in the period (0 rows in reads.csv)"))
    #expect(r.stdout.contains("FAIL  All required keys present (CC6.1): 1 problem(s): openai/ORG_ID (missing)"))
    #expect(r.stdout.contains("PASS  Audit chain intact (CC7.2)"))
    #expect(r.stdout.contains("signing key created now"))
    #expect(!r.allOutput.contains("sk-live-secret-value-123"))
    let mode = try #require(
      FileManager.default.attributesOfItem(atPath: h.path("evidence/q4/report.html"))[.posixPermissions] as? Int)
    #expect(mode == 0o644)
  }

  @Test(arguments: files)
  func alteringAnyFileIsDetected(file: String) async throws {
    let h = try await Self.exported()
    #expect(try await h.run(["export", "verify", "bundle"]).status == 0)
    let path = h.path("bundle/\(file)")
    var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    // Flip one character in the middle (still text) — for base64 files, swap a letter.
    let index = bytes.count / 2
    bytes[index] = bytes[index] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
    try bytes.write(to: URL(fileURLWithPath: path))
    let r = try await h.run(["export", "verify", "bundle"])
    #expect(r.status == 1, "\(r.allOutput)")
    #expect(r.stdout.hasPrefix("bundle NOT intact: bundle"))
    switch file {
    case "manifest.json", "manifest.sig":
      #expect(r.stdout.contains("manifest.sig: "), "\(r.stdout)")
      // SHA256SUMS no longer matches it either (or, with the manifest unreadable, is not known to belong).
      #expect(r.stdout.contains("  SHA256SUMS: "), "\(r.stdout)")
    case "SHA256SUMS":
      #expect(r.stdout.contains("  SHA256SUMS"), "\(r.stdout)")
    default:
      #expect(r.stdout.contains("  \(file): altered"), "\(r.stdout)")
    }
    let json = try h.json(try await h.run(["export", "verify", "bundle", "--format", "json"]))
    #expect(json["valid"] as? Bool == false)
  }

  @Test func missingAndExtraFilesAreNamed() async throws {
    let h = try await Self.exported()
    try FileManager.default.removeItem(atPath: h.path("bundle/report.html"))
    try "note".write(toFile: h.path("bundle/notes.txt"), atomically: true, encoding: .utf8)
    let r = try await h.run(["export", "verify", "bundle", "--format", "json"])
    #expect(r.status == 1)
    let json = try h.json(r)
    #expect(json["signature_valid"] as? Bool == true)
    #expect(json["problems"] as? [String] == [
      "report.html: missing", "notes.txt: extra file, not listed in manifest.json",
    ])
  }

  @Test func aBundleSignedByAnotherVaultIsNotAnchored() async throws {
    let ours = try await Self.exported()
    let theirs = try await Self.exported()
    let ourLog = ours.path("vault/audit-checkpoints.log")
    // Self-consistent, but signed by the other vault's key.
    let r = try await theirs.run(["export", "verify", "bundle", "--checkpoints", ourLog])
    #expect(r.status == 1)
    #expect(r.stdout.contains("signer.pub: the bundle is not signed by the key of \(ourLog)"), "\(r.stdout)")
    let ourKey = try #require(try Self.read(ours, "bundle/signer.pub").split(separator: "\n").first.map(String.init))
    #expect(try await theirs.run(["export", "verify", "bundle", "--signer-key", ourKey]).status == 1)
    #expect(try await ours.run(["export", "verify", "bundle", "--signer-key", ourKey]).status == 0)
    #expect(try await ours.run(["export", "verify", "bundle", "--checkpoints", ourLog]).status == 0)
    #expect(
      try await ours.run(["export", "verify", "bundle", "--signer-key", ourKey, "--checkpoints", ourLog]).status == 64)
    #expect(try await ours.run(["export", "verify", "nowhere"]).status == 2)
  }

  @Test func symbolicLinksAndHiddenFilesInTheBundleAreProblemsNeverFollowed() async throws {
    let h = try await Self.exported()
    let fm = FileManager.default
    // A file outside the bundle with the same bytes: a link to it must still fail.
    try fm.copyItem(atPath: h.path("bundle/report.html"), toPath: h.path("outside.html"))
    try fm.removeItem(atPath: h.path("bundle/report.html"))
    try fm.createSymbolicLink(atPath: h.path("bundle/report.html"), withDestinationPath: h.path("outside.html"))
    // signer.pub pointing at the vault's identity: its content must never be echoed.
    try fm.removeItem(atPath: h.path("bundle/signer.pub"))
    try fm.createSymbolicLink(atPath: h.path("bundle/signer.pub"), withDestinationPath: h.path("ci.identity"))
    try "x".write(toFile: h.path("bundle/.hidden"), atomically: true, encoding: .utf8)
    let identity = try String(contentsOfFile: h.path("ci.identity"), encoding: .utf8)
    let secretLine = try #require(identity.split(separator: "\n").first { $0.hasPrefix("HOTSECRETS-IDENTITY") })
    for format in ["text", "json"] {
      let r = try await h.run(["export", "verify", "bundle", "--format", format, "--signer-key", "AAAA"])
      #expect(r.status == 1)
      #expect(!r.allOutput.contains(secretLine), "\(format) output leaks the linked file")
    }
    let json = try h.json(try await h.run(["export", "verify", "bundle", "--format", "json"]))
    let statuses = Dictionary(
      uniqueKeysWithValues: (json["files"] as? [[String: String]] ?? []).map { ($0["name"]!, $0["status"]!) })
    #expect(statuses["report.html"] == "not-a-regular-file")
    #expect(statuses["signer.pub"] == "not-a-regular-file")
    #expect(statuses[".hidden"] == "extra")
    #expect(json["signer"] is NSNull)
    #expect(json["signature_valid"] as? Bool == false)
  }

  @Test func aCheckpointsFileWithAForeignOrGarbageLineAnchorsNothing() async throws {
    let ours = try await Self.exported()
    let theirs = try await Self.exported()
    let log = try Self.read(ours, "vault/audit-checkpoints.log")
    let foreign = try Self.read(theirs, "vault/audit-checkpoints.log")
    // Their bundle, anchored by our log with their checkpoint line slipped in.
    try (log + foreign).write(toFile: ours.path("tampered.log"), atomically: true, encoding: .utf8)
    let r = try await theirs.run(["export", "verify", "bundle", "--checkpoints", ours.path("tampered.log")])
    #expect(r.status == 1)
    #expect(r.stdout.contains("are not all of one vault and key"), "\(r.stdout)")
    try (log + "hotsecrets-checkpoint v1 garbage\n" + foreign)
      .write(toFile: ours.path("garbage.log"), atomically: true, encoding: .utf8)
    let g = try await theirs.run(["export", "verify", "bundle", "--checkpoints", ours.path("garbage.log")])
    #expect(g.status == 1)
    #expect(g.stdout.contains("garbage.log line 2: not a validly signed checkpoint"), "\(g.stdout)")
    // A clean log of our own still anchors our bundle.
    #expect(
      try await ours.run(["export", "verify", "bundle", "--checkpoints", "vault/audit-checkpoints.log"]).status == 0)
  }

  @Test func aRefusedFolderLeavesNoAuditEntry() async throws {
    let h = try await Self.exported()
    let entries = { try h.json(try await h.run(["audit", "verify", "--format", "json"]))["entries"] as? Int }
    let before = try await entries()
    try FileManager.default.createDirectory(atPath: h.path("real"), withIntermediateDirectories: false)
    try FileManager.default.createSymbolicLink(atPath: h.path("link"), withDestinationPath: h.path("real"))
    try FileManager.default.createSymbolicLink(atPath: h.path("dangling"), withDestinationPath: h.path("nowhere"))
    for out in ["link", "dangling", "bundle"] {
      let r = try await h.run(["export", "compliance", "prod", "--out", out])
      #expect(r.status == 2, "\(out)")
    }
    #expect(try await h.run(["export", "compliance", "prod", "--out", "x", "--checkpoints", "real"]).status == 2)
    #expect(
      try await h.run(["export", "compliance", "prod", "--out", "x", "--checkpoints", "ci.identity/cp.log"]).status == 2
    )
    #expect(try await h.run(["export", "compliance", "prod", "--out", ""]).status == 64)
    for date in ["2026-02-30", "2026-13-01", "2026-04-31T00:00:00Z"] {
      let r = try await h.run(["export", "compliance", "prod", "--out", "y", "--since", date])
      #expect(r.status == 64, "\(date)")
    }
    #expect(try await entries() == before)
    let left = try FileManager.default.contentsOfDirectory(atPath: h.directory)
    #expect(!left.contains { $0.contains(".partial-") || $0 == "x" || $0 == "y" }, "\(left)")
  }

  @Test func managementTokensAreInventoriedWithoutFailingTheControl() async throws {
    let h = try await Self.exported()
    try await h.run(["set", "prod", "hotsecrets", "FLY_API_TOKEN"], stdin: "fly-token-value-123")
    try await h.run(["set", "prod", "app", "EXTRA"], stdin: "extra-value")
    try h.writePolicy(
      """
      version: 1
      environment: prod
      services:
        openai:
          keys:
            API_KEY_PROD: {}
        app:
          keys:
            SESSION_SECRET: {}
      targets:
        fly:
          - { app: dash, services: [app] }
      """)
    let r = try await h.run(["export", "compliance", "prod", "--out", "b2", "--format", "json"])
    #expect(r.status == 0, "\(r.allOutput)")
    let inventory = try Self.csv(h, "b2/inventory.csv")
    #expect(Self.column(inventory, "status", where: "key", is: "FLY_API_TOKEN") == "management")
    #expect(Self.column(inventory, "status", where: "key", is: "EXTRA") == "undeclared")
    #expect(Self.column(inventory, "targets", where: "key", is: "EXTRA") == "fly:dash")
    #expect(Self.column(inventory, "rotation", where: "key", is: "EXTRA") == "")
    let controls = try #require(try h.json(r)["controls"] as? [[String: Any]])
    #expect(controls[0]["detail"] as? String == "1 secret not declared in policies/prod.yaml: app/EXTRA")
    for file in Self.files {
      #expect(!(try Self.read(h, "b2/\(file)")).contains("fly-token-value-123"))
    }
  }

  @Test func truncatingTheAuditTrailAfterACheckpointShowsInTheNextBundle() async throws {
    let h = try await Self.exported()
    try await h.run(["get", "prod", "openai", "API_KEY_PROD"])
    try await h.run(["audit", "checkpoint"])
    let queue = try DatabaseQueue(path: h.path("vault/hotsecrets.db"))
    try await queue.write { db in
      try db.execute(sql: "DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)")
    }
    let verify = try await h.run(["audit", "verify"])
    #expect(verify.status == 1)
    #expect(verify.stdout.contains("were deleted (truncated)"))
    // The bundle is still written (exit 0): a failing control is evidence too. The export's own
    // entry now takes the deleted entry's seq, so the checkpoint names a rewrite.
    let r = try await h.run(["export", "compliance", "prod", "--out", "after", "--format", "json"])
    #expect(r.status == 0, "\(r.allOutput)")
    let controls = try #require(try h.json(r)["controls"] as? [[String: Any]])
    let audit = try #require(controls.first { $0["id"] as? String == "audit-chain-intact" })
    #expect(audit["passed"] as? Bool == false)
    #expect((audit["detail"] as? String)?.contains("no longer has the checkpointed hash") == true)
    let verification = try Self.read(h, "after/audit-verification.json")
    #expect(verification.contains("\"intact\" : false"))
    #expect(verification.contains("the chain was rewritten at or before seq"))
    #expect(try Self.read(h, "after/report.html").contains("no longer has the checkpointed hash"))
    #expect(try await h.run(["export", "verify", "after"]).status == 0)
  }

  @Test func anOccupiedFolderOrABadPeriodWritesNothing() async throws {
    let h = try await Self.exported()
    let again = try await h.run(["export", "compliance", "prod", "--out", "bundle"])
    #expect(again.status == 2)
    #expect(again.stderr.contains("bundle: is not empty; a bundle is never written over another"))
    try "x".write(toFile: h.path("afile"), atomically: true, encoding: .utf8)
    #expect(try await h.run(["export", "compliance", "prod", "--out", "afile"]).status == 2)
    let backwards = try await h.run([
      "export", "compliance", "prod", "--out", "b2", "--since", "2026-02-01", "--until", "2026-01-01",
    ])
    #expect(backwards.status == 2)
    #expect(backwards.stderr.contains("before it starts"))
    #expect(try await h.run(["export", "compliance", "prod", "--out", "b3", "--since", "yesterday"]).status == 64)
    #expect(try await h.run(["export", "compliance", "prod", "--out", "b4", "--policy", "nope.yaml"]).status == 2)
    let left = try FileManager.default.contentsOfDirectory(atPath: h.directory)
    #expect(!left.contains { $0.hasPrefix("b") && $0 != "bundle" || $0.contains(".partial-") }, "\(left)")
    // An empty folder is fine.
    try FileManager.default.createDirectory(atPath: h.path("empty"), withIntermediateDirectories: false)
    #expect(try await h.run(["export", "compliance", "prod", "--out", "empty"]).status == 0)
    #expect(try await h.run(["export", "verify", "empty"]).status == 0)
  }

  @Test func thePeriodSelectsAuditEntriesAndRotations() async throws {
    let h = try await Self.exported()
    // (A period in the future is refused: anUntilLaterThanNowIsRefusedAndWritesNothing.)
    let past = try await h.run([
      "export", "compliance", "prod", "--out", "past", "--since", "2000-01-01", "--until", "2001-01-01", "--format",
      "json",
    ])
    #expect(past.status == 0, "\(past.allOutput)")
    let period = try #require(try h.json(past)["period"] as? [String: String])
    #expect(period["since"] == "2000-01-01T00:00:00Z")
    #expect(period["until"] == "2001-01-01T23:59:59Z")
    #expect(try h.json(past)["audit_entries"] as? Int == 0)
    #expect(try Self.read(h, "past/audit.jsonl").isEmpty)
    // Access lists nobody: the vault did not exist yet.
    #expect(try Self.csv(h, "past/access.csv").count == 1)
  }

  @Test func theReportIsWellFormedAndSelfContained() async throws {
    let h = try await Self.exported()
    let html = try Self.read(h, "bundle/report.html")
    #if canImport(FoundationXML)
      #expect(throws: Never.self) { try XMLDocument(xmlString: html, options: []) }
    #endif
    #expect(!html.contains("<script"))
    #expect(html.range(of: #"(src|href)\s*=\s*["']?https?:"#, options: .regularExpression) == nil)
    #expect(!html.contains("@import"))
    #expect(html.contains("<svg"))
    for criterion in ["CC6.1", "CC7.2", "CC8.1"] { #expect(html.contains(criterion)) }
    #expect(!html.contains("sk-live-secret-value-123"))
  }

  /// What docs/compliance.md tells an auditor to run, with standard tools only.
  @Test func anAuditorChecksTheBundleWithStandardTools() async throws {
    let h = try await Self.exported()
    let dir = h.path("bundle")
    let script = """
      set -e
      cd "\(dir)"
      sha256sum --check --strict SHA256SUMS
      # SHA256SUMS is not signed: it must say what the signed manifest says.
      python3 -c 'import json; [print(h + "  " + n) for n, h in sorted(json.load(open("manifest.json"))["files"].items())]' \\
        | diff - <(grep -v -e '  manifest\\.json$' -e '  manifest\\.sig$' SHA256SUMS)
      # Ed25519 with OpenSSL: wrap the raw 32-byte key in its SubjectPublicKeyInfo DER header.
      T=$(mktemp -d)
      (printf '\\x30\\x2a\\x30\\x05\\x06\\x03\\x2b\\x65\\x70\\x03\\x21\\x00'; base64 -d signer.pub) > "$T/signer.der"
      base64 -d manifest.sig > "$T/manifest.sig.bin"
      openssl pkeyutl -verify -pubin -inkey "$T/signer.der" -keyform DER -rawin -in manifest.json -sigfile "$T/manifest.sig.bin"
      rm -r "$T"
      # The audit entries: each hash recomputed from its canonical JSON, each linked to the one before.
      python3 - <<'PY'
      import hashlib, json
      prev = None
      for line in open("audit.jsonl", encoding="utf-8"):
          e = json.loads(line)
          h, p = e.pop("hash"), e.pop("prev_hash")
          e.pop("mac")
          text = json.dumps(e, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
          assert hashlib.blake2b(bytes.fromhex(p) + text.encode(), digest_size=32).hexdigest() == h, e["seq"]
          assert prev is None or p == prev, e["seq"]
          prev = h
      head = json.load(open("manifest.json"))["audit_head"]
      assert prev == head["hash"], "the last entry is not the signed head"
      print("audit chain ok")
      PY
      """
    let ok = try await h.runProcess("/bin/bash", ["-c", script], stdin: nil, env: [:])
    #expect(ok.status == 0, "\(ok.allOutput)")
    #expect(ok.stdout.contains("Signature Verified Successfully"))
    #expect(ok.stdout.contains("audit chain ok"))
    // The same recipe catches an altered manifest.
    let handle = try #require(FileHandle(forWritingAtPath: h.path("bundle/manifest.json")))
    try handle.seekToEnd()
    try handle.write(contentsOf: Data(" ".utf8))
    try handle.close()
    let bad = try await h.runProcess("/bin/bash", ["-c", script], stdin: nil, env: [:])
    #expect(bad.status != 0)
  }

  // MARK: - Issue 17: reads, SHA256SUMS, the period's end, max age, drift

  /// `reads.csv` and the report's "Who read which secrets": per reader, the secrets (or the whole
  /// environment) read by get, run, render and live checks in the period; never a value.
  @Test func theReadsSummaryNamesWhoReadWhichSecretsWithoutAValue() async throws {
    let h = try await Self.exported("first")
    // The ci identity reads one key twice, runs a command with every key and one limited to a service,
    // and renders the mirror files; a teammate reads another key once; staging is not prod.
    #expect(try await h.run(["get", "prod", "openai", "API_KEY_PROD"]).status == 0)
    #expect(try await h.run(["get", "prod", "openai", "API_KEY_PROD"]).status == 0)
    #expect(try await h.run(["run", "prod", "--", "/bin/true"]).status == 0)
    #expect(try await h.run(["run", "prod", "--service", "app", "--", "/bin/true"]).status == 0)
    #expect(try await h.run(["render", "prod"]).status == 0)
    try await h.run(["set", "staging", "openai", "API_KEY_PROD"], stdin: "sk-staging-value-789")
    #expect(try await h.run(["get", "staging", "openai", "API_KEY_PROD"]).status == 0)
    let identity = try await h.run(["identity", "new", "--out", "teammate.key"])
    let recipient = identity.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(try await h.run(["recipients", "add", recipient, "--name", "teammate"]).status == 0)
    let teammate = try await h.run(["get", "prod", "app", "SESSION_SECRET"], env: ["HOTSECRETS_IDENTITY": "teammate.key"])
    #expect(teammate.status == 0, "\(teammate.allOutput)")

    let r = try await h.run(["export", "compliance", "prod", "--out", "bundle", "--format", "json"])
    #expect(r.status == 0, "\(r.allOutput)")
    #expect(try h.json(r)["reads"] as? Int == 5)
    let rows = try Self.csv(h, "bundle/reads.csv")
    #expect(rows[0] == ["user", "recipient", "action", "secrets", "keys", "reads", "versions", "first_at", "last_at"])
    // Both ran as this machine's user; the recipient tells them apart.
    let user = rows[1][0]
    #expect(!user.isEmpty && rows.dropFirst().allSatisfy { $0[0] == user })
    let body = rows.dropFirst().map { Array($0[1..<7]) }
    #expect(
      body == [
        ["1:ci", "get", "openai/API_KEY_PROD", "1", "2", "1"],
        ["1:ci", "run", "*", "2", "1", ""],
        ["1:ci", "run", "app/*", "1", "1", ""],
        ["1:ci", "render", "*", "2", "1", ""],
        ["2:teammate", "get", "app/SESSION_SECRET", "1", "1", "1"],
      ], "\(rows)")
    for row in rows.dropFirst() {
      #expect(row[7].hasSuffix("Z") && row[7] <= row[8], "\(row)")
    }
    // Listed and hashed like every other file, and shown in the report.
    let manifest = try #require(
      try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: h.path("bundle/manifest.json"))))
        as? [String: Any])
    #expect((manifest["files"] as? [String: String])?["reads.csv"] != nil)
    let html = try Self.read(h, "bundle/report.html")
    let section = try #require(html.range(of: "<section id=\"reads\"").map { html[$0.lowerBound...] })
    #expect(section.contains("6 reads of prod’s values by 2 readers"))
    #expect(section.contains("openai/API_KEY_PROD"))
    #expect(section.contains("2:teammate"))
    // A period before the reads holds none of them.
    let text = try await h.run([
      "export", "compliance", "prod", "--out", "early", "--since", "2000-01-01", "--until", "2001-01-01",
    ])
    #expect(text.status == 0, "\(text.allOutput)")
    #expect(text.stdout.contains("  reads      0 reads of the values in the period (0 rows in reads.csv)"))
    #expect(try Self.csv(h, "early/reads.csv").count == 1)
    // No value anywhere in the bundle.
    for file in Self.files {
      let content = try Self.read(h, "bundle/\(file)")
      for value in ["sk-live-secret-value-123", "session-secret-value-456", "sk-staging-value-789"] {
        #expect(!content.contains(value), "\(file) holds a value")
      }
    }
    #expect(try await h.run(["export", "verify", "bundle"]).status == 0)
  }

  /// A `verify --live` run is a read too: each key it probed, by name.
  @Test func liveChecksAreReads() async throws {
    let verify = VerifyCommandTests()
    let (fakes, h) = try await verify.liveFakes()
    defer { fakes.stop() }
    fakes.accept("cw9fK2xQpL", for: .chatwoot)
    #expect(try await h.run(["verify", "prod", "--live"]).status == 0)
    let r = try await h.run(["export", "compliance", "prod", "--out", "bundle"])
    #expect(r.status == 0, "\(r.allOutput)")
    let rows = try Self.csv(h, "bundle/reads.csv").dropFirst()
    let live = rows.filter { $0[2] == "verify-live" }.map { $0[3] }
    // The keys the `verify-live` entry names (the Supabase URL the check also reads is not one of them).
    #expect(
      Set(live) == [
        "openai/API_KEY_PROD", "supabase/SERVICE_KEY", "shopify/SHOPIFY_ACCESS_TOKEN", "chatwoot/API_TOKEN",
      ], "\(rows)")
    #expect(rows.allSatisfy { $0[5] == "1" })
  }

  /// `cd bundle && sha256sum -c SHA256SUMS` passes on an exported bundle and fails once a file is
  /// altered; `export verify` checks SHA256SUMS agrees with the signed manifest.
  @Test func sha256sumChecksTheBundleAndExportVerifyChecksSHA256SUMS() async throws {
    let h = try await Self.exported()
    let sums = try Self.read(h, "bundle/SHA256SUMS")
    let lines = sums.split(separator: "\n", omittingEmptySubsequences: false)
    #expect(lines.last == "")
    let listed = lines.dropLast().map { line in
      #expect(line.wholeMatch(of: /[0-9a-f]{64}  [A-Za-z0-9._-]+/) != nil, "\(line)")
      return String(line.dropFirst(66))
    }
    // Every other file of the bundle, once, sorted bytewise.
    #expect(listed == Self.files.filter { $0 != "SHA256SUMS" }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })

    let check = "cd bundle && sha256sum --check --strict SHA256SUMS"
    let ok = try await h.runProcess("/bin/bash", ["-c", check], stdin: nil, env: [:])
    #expect(ok.status == 0, "\(ok.allOutput)")
    #expect(ok.stdout.split(separator: "\n").count == Self.files.count - 1)
    #expect(ok.stdout.contains("report.html: OK"))

    // One byte of the report changed: sha256sum fails, and so does export verify.
    let report = h.path("bundle/report.html")
    let original = try Data(contentsOf: URL(fileURLWithPath: report))
    var altered = original
    altered[altered.count / 2] = altered[altered.count / 2] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
    try altered.write(to: URL(fileURLWithPath: report))
    let bad = try await h.runProcess("/bin/bash", ["-c", check], stdin: nil, env: [:])
    #expect(bad.status == 1, "\(bad.allOutput)")
    #expect(bad.stdout.contains("report.html: FAILED"))
    let verified = try await h.run(["export", "verify", "bundle"])
    #expect(verified.status == 1)
    #expect(verified.stdout.contains("  report.html: altered"))

    // SHA256SUMS rewritten to match the altered file: sha256sum is content, but the digest is not
    // the signed one, and export verify says so.
    let forged = sums.replacingOccurrences(
      of: "\(ComplianceManifest.sha256(original))  report.html", with: "\(ComplianceManifest.sha256(altered))  report.html")
    #expect(forged != sums)
    try forged.write(toFile: h.path("bundle/SHA256SUMS"), atomically: true, encoding: .utf8)
    #expect(try await h.runProcess("/bin/bash", ["-c", check], stdin: nil, env: [:]).status == 0)
    let json = try await h.run(["export", "verify", "bundle", "--format", "json"])
    #expect(json.status == 1)
    let problems = try h.json(json)["problems"] as? [String] ?? []
    #expect(problems.contains("report.html: altered (its SHA-256 is not the one in manifest.json)"))
    #expect(problems.contains("SHA256SUMS: the SHA-256 of report.html is not the one in manifest.json"))
    let statuses = Dictionary(
      uniqueKeysWithValues: (try h.json(json)["files"] as? [[String: String]] ?? []).map { ($0["name"]!, $0["status"]!) })
    #expect(statuses["SHA256SUMS"] == "altered")

    // The report restored: only SHA256SUMS is wrong now.
    try original.write(to: URL(fileURLWithPath: report))
    let sumsOnly = try await h.run(["export", "verify", "bundle"])
    #expect(sumsOnly.status == 1)
    #expect(
      sumsOnly.stdout == """
        bundle NOT intact: bundle
          SHA256SUMS: the SHA-256 of report.html is not the one in manifest.json

        """, "\(sumsOnly.stdout)")

    // A line dropped, a line for a file that is not there, a file missing from the list.
    try (sums.split(separator: "\n").filter { !$0.hasSuffix("  audit.jsonl") }.joined(separator: "\n")
      + "\n" + String(repeating: "0", count: 64) + "  notes.txt\n")
      .write(toFile: h.path("bundle/SHA256SUMS"), atomically: true, encoding: .utf8)
    let incomplete = try await h.run(["export", "verify", "bundle"])
    #expect(incomplete.status == 1)
    #expect(incomplete.stdout.contains("  SHA256SUMS: does not list audit.jsonl"))
    #expect(incomplete.stdout.contains("  SHA256SUMS: lists notes.txt, which is not a file of the bundle"))

    // Removed: the signed manifest names it, so its absence is a problem.
    try FileManager.default.removeItem(atPath: h.path("bundle/SHA256SUMS"))
    let missing = try await h.run(["export", "verify", "bundle"])
    #expect(missing.status == 1)
    #expect(missing.stdout.contains("  SHA256SUMS: missing"))
  }

  /// `--until` after the generation time is refused before anything happens: exit 2, one line
  /// naming the flag and both times, no bundle, no audit entry, no checkpoint.
  @Test func anUntilLaterThanNowIsRefusedAndWritesNothing() async throws {
    let h = try await Self.exported()
    let entries = { try h.json(try await h.run(["audit", "verify", "--format", "json"]))["entries"] as? Int }
    let before = try await entries()
    let checkpoints = try Self.read(h, "vault/audit-checkpoints.log")
    let inAnHour = HotSecretsModel.Timestamp.string(from: Date() + 3600)
    for (until, shown) in [("2099-12-31", "2099-12-31T23:59:59Z"), (inAnHour, inAnHour)] {
      let r = try await h.run(["export", "compliance", "prod", "--out", "later", "--until", until])
      #expect(r.status == 2, "\(r.allOutput)")
      #expect(r.stdout.isEmpty)
      let lines = r.stderr.split(separator: "\n")
      #expect(lines.count == 1, "\(r.stderr)")
      let line = String(lines.first ?? "")
      #expect(line.hasPrefix("hotsecrets: error: --until \(shown) is later than the generation time "), "\(line)")
      let now = try #require(line.firstMatch(of: /generation time (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) \(now\)/))
      let generated = try #require(HotSecretsModel.Timestamp.date(from: String(now.output.1)))
      #expect(abs(generated.timeIntervalSinceNow) < 120)
      #expect(line.contains("give an earlier --until, or leave it out to end the period now"))
    }
    #expect(try await entries() == before)
    #expect(try Self.read(h, "vault/audit-checkpoints.log") == checkpoints)
    let left = try FileManager.default.contentsOfDirectory(atPath: h.directory)
    #expect(!left.contains { $0.hasPrefix("later") || $0.contains(".partial-") }, "\(left)")
    // A moment ago is fine.
    let earlier = HotSecretsModel.Timestamp.string(from: Date() - 60)
    let ok = try await h.run(["export", "compliance", "prod", "--out", "earlier", "--since", "2000-01-01", "--until", earlier])
    #expect(ok.status == 0, "\(ok.allOutput)")
  }

  /// With no max_age_days anywhere the max-age control is "not applicable", not a pass; with one, it is evaluated.
  @Test(arguments: Backend.allCases) func theMaxAgeControlIsNotApplicableWithoutAnyMaxAge(_ backend: Backend) async throws {
    let h = try await CLIHarness.withIdentityVault(backend)
    try await h.run(["set", "prod", "openai", "API_KEY_PROD"], stdin: "sk-live-secret-value-123")
    try h.writePolicy("version: 1\nenvironment: prod\nservices:\n  openai:\n    keys:\n      API_KEY_PROD: {}\n")
    let r = try await h.run(["export", "compliance", "prod", "--out", "none", "--format", "json"])
    #expect(r.status == 0, "\(r.allOutput)")
    let control = { (out: [String: Any]) in
      (out["controls"] as? [[String: Any]])?.first { $0["id"] as? String == "rotation-within-max-age" }
    }
    let na = try #require(control(try h.json(r)))
    #expect(na["status"] as? String == "not-applicable")
    #expect(na["passed"] as? Bool == true)  // nothing fails; `status` tells it from a pass
    let manifest = try #require(
      try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: h.path("none/manifest.json"))))
        as? [String: Any])
    #expect(control(manifest)?["status"] as? String == "not-applicable")
    let html = try Self.read(h, "none/report.html")
    #expect(html.contains("<tr class=\"na\"><td><span class=\"pill pill-na\">– NOT APPLICABLE</span></td><td class=\"title\">Rotation within max age</td>"))
    #expect(html.contains("3 of 5 controls pass; 1 not applicable"))
    #expect(html.contains("Not applicable: no key has a max age"))
    #expect(try await h.run(["export", "verify", "none"]).status == 0)

    // A max age on one key (or a default) makes it a real check again.
    try h.writePolicy(
      "version: 1\nenvironment: prod\nservices:\n  openai:\n    keys:\n      API_KEY_PROD: { max_age_days: 30 }\n")
    let evaluated = try #require(
      control(try h.json(try await h.run(["export", "compliance", "prod", "--out", "one", "--format", "json"]))))
    #expect(evaluated["status"] as? String == "pass")
    #expect(evaluated["detail"] as? String == "no secret is older than its maximum age")
  }

  /// Drift between the mirror files and the vault is shown apart from the controls (it fails none)
  /// and stays in the policy results as `verify` reports it.
  @Test func driftIsShownApartFromTheControls() async throws {
    let h = try await Self.exported()
    let html = try Self.read(h, "bundle/report.html")
    #expect(html.contains("<section id=\"drift\"><h2>Mirror drift <span class=\"muted\">(not a control)</span></h2>"))
    #expect(html.contains("Not checked: there was no mirror folder where the bundle was made."))

    #expect(try await h.run(["render", "prod"]).status == 0)
    let clean = try await h.run(["export", "compliance", "prod", "--out", "clean"])
    #expect(clean.status == 0)
    #expect(try Self.read(h, "clean/report.html").contains("None: the files in <span class=\"mono\">vault/occ</span> match the vault."))

    try "API_KEY_PROD=sk-live-edited-in-the-file-999\n".write(
      toFile: h.path("vault/occ/openai/prod.env"), atomically: true, encoding: .utf8)
    // A restore drill in the period: every control can pass.
    let drill = try await h.run(["drill"])
    #expect(drill.status == 0, "\(drill.allOutput)")
    let r = try await h.run(["export", "compliance", "prod", "--out", "drifted", "--format", "json"])
    #expect(r.status == 0, "\(r.allOutput)")
    let controls = try #require(try h.json(r)["controls"] as? [[String: Any]])
    #expect(controls.map { $0["id"] as? String } == [
      "inventory-complete", "required-keys-present", "rotation-within-max-age", "audit-chain-intact", "recovery-tested",
    ])
    let drills = try Self.read(h, "drifted/drills.csv").split(separator: "\r\n")
    #expect(drills.count == 2)
    #expect(drills.first == "time,user,recipient,result,backup_sha256,backup_created_at,failed_checks,values_decrypted")
    #expect(drills.last?.contains(",passed,") == true)
    #expect(try Self.read(h, "drifted/report.html").contains("<section id=\"drills\"><h2>Restore drills"))
    #expect(controls.allSatisfy { $0["passed"] as? Bool == true }, "\(controls)")
    let results = try Self.read(h, "drifted/policy-results.json")
    #expect(results.contains("\"check\" : \"drift\""))
    let report = try Self.read(h, "drifted/report.html")
    let drift = try #require(report.range(of: "<section id=\"drift\"").map { report[$0.lowerBound...] })
    #expect(drift.contains("1 key differs between <span class=\"mono\">vault/occ</span> and the vault."))
    #expect(drift.contains("<td>openai</td><td class=\"mono\">API_KEY_PROD</td><td class=\"msg\">the file&#39;s value changed"))
    #expect(!report.contains("sk-live-edited-in-the-file-999"))
  }
}
