import Foundation
import GRDB
import TestSupport
import Testing

/// Issue 13 end to end: `recipients remove` re-keys and queues what the person could read,
/// `verify` reports it, `rotate --exposed` closes it; `rekey` survives being killed.
@Suite(.endToEnd) struct OffboardingCommandTests {
  static let policy = """
    version: 1
    environment: prod
    services:
      app:
        keys:
          SESSION_SECRET: { rotate: generate, length: 48 }
          WEBHOOK_SECRET: { rotate: generate, length: 32 }
    """

  /// A vault with two keys and a teammate, bob (recipient 2), who has just been removed.
  func offboarded(_ backend: Backend = .file) async throws -> (CLIHarness, removal: CLIResult) {
    let h = try await CLIHarness.withIdentityVault(backend)
    try h.writePolicy(Self.policy)
    try #require(
      try await h.run(["set", "prod", "app", "SESSION_SECRET"], stdin: "session-secret-canary-1").status == 0)
    try #require(
      try await h.run(["set", "prod", "app", "WEBHOOK_SECRET"], stdin: "webhook-secret-canary-1").status == 0)
    let bob = try await h.run(["identity", "new", "--out", "bob.identity"])
    try #require(bob.status == 0)
    try #require(
      try await h.run([
        "recipients", "add", bob.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "--name", "bob",
      ]).status
        == 0)
    let removal = try await h.run(["recipients", "remove", "2", "--yes"])
    return (h, removal)
  }

  @Test(arguments: Backend.allCases) func removeRekeysAndVerifyRotateExposedCloseTheQueue(_ backend: Backend) async throws {
    let (h, removal) = try await offboarded(backend)
    #expect(removal.status == 0, "\(removal.stderr)")
    #expect(removal.stdout.contains("removed recipient 2 and re-keyed the vault (epoch 1, 2 versions re-encrypted"))
    #expect(removal.stdout.contains("2 versions were readable by the removed recipient"))
    #expect(
      try await h.run(["get", "prod", "app", "SESSION_SECRET"], env: ["HOTSECRETS_IDENTITY": "bob.identity"]).status
        == 2)

    // verify: a warning per exposed current value (so --strict fails), naming bob.
    let verify = try await h.run(["verify", "prod"])
    #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    #expect(verify.stdout.contains("exposed"))
    #expect(verify.stdout.contains("removed recipient 2 (bob)"))
    #expect(try await h.run(["verify", "prod", "--strict"]).status == 1)
    let json = try h.json(try await h.run(["verify", "prod", "--format", "json"]))
    let findings = try #require(json["findings"] as? [[String: Any]])
    #expect(findings.filter { $0["check"] as? String == "exposed" }.count == 2)
    #expect(findings.allSatisfy { $0["severity"] as? String == "warning" })
    // After exposed_max_days (7 by default) the finding is an error.
    let late = try await h.run(["verify", "prod", "--as-of", "2099-01-01"])
    #expect(late.status == 1)

    // list --format json carries exposed_to.
    let list = try h.json(try await h.run(["list", "prod", "--format", "json"]))
    let secrets = try #require(list["secrets"] as? [[String: Any]])
    let exposedTo = try #require(secrets.first?["exposed_to"] as? [[String: Any]])
    #expect(exposedTo.first?["recipient"] as? Int == 2)
    #expect(exposedTo.first?["name"] as? String == "bob")
    #expect(exposedTo.first?["removed_at"] is String)

    // rotate --exposed plans exactly those keys, then rotates them; the queue is empty afterwards.
    let plan = try h.json(try await h.run(["rotate", "prod", "--exposed", "--dry-run", "--format", "json"]))
    let planned = try #require(plan["plan"] as? [[String: Any]])
    #expect(planned.map { "\($0["service"]!)/\($0["key"]!)" } == ["app/SESSION_SECRET", "app/WEBHOOK_SECRET"])
    let rotated = try await h.run(["rotate", "prod", "--exposed"])
    #expect(rotated.status == 0, "\(rotated.stdout)\(rotated.stderr)")
    let clean = try await h.run(["verify", "prod", "--strict"])
    #expect(clean.status == 0, "\(clean.stdout)")
    #expect(!clean.stdout.contains("exposed"))
    let nothing = try h.json(try await h.run(["rotate", "prod", "--exposed", "--dry-run", "--format", "json"]))
    #expect((nothing["plan"] as? [Any])?.isEmpty == true)

    // The compliance bundle carries the offboarding evidence: what bob could read, and when it closed.
    let export = try await h.run(["export", "compliance", "prod", "--out", "bundle"])
    #expect(export.status == 0, "\(export.stderr)")
    let access = try String(contentsOfFile: h.path("bundle/access.csv"), encoding: .utf8)
      .split(separator: "\r\n").map(String.init)
    #expect(access[0].hasSuffix(",active_at_end,exposed_secrets,exposed_open,exposures_closed_at"))
    let bobRow = try #require(access.first { $0.hasPrefix("2,x25519,bob,") })
    #expect(bobRow.contains(",no,2,0,20"))
    let results = try #require(
      JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: h.path("bundle/policy-results.json"))))
        as? [String: Any])
    let exposures = try #require(results["exposures"] as? [[String: Any]])
    #expect(exposures.map { $0["status"] as? String } == ["closed", "closed"])
    #expect(exposures.allSatisfy { $0["closed_at"] is String && $0["name"] as? String == "bob" })
    let html = try String(contentsOfFile: h.path("bundle/report.html"), encoding: .utf8)
    #expect(html.contains("Offboarding: secrets a removed recipient could read"))
    #expect(try await h.run(["export", "verify", "bundle"]).status == 0)

    let audit = try await h.run(["audit", "verify"])
    #expect(audit.status == 0, "\(audit.stdout)\(audit.stderr)")
    let log = try await h.run(["audit", "log", "--format", "json"]).stdout
    #expect(log.contains("\"rekey\""))
    #expect(!log.contains("canary"))
  }

  @Test func rekeyCommandAndATamperedCurrentVersionIsAnIntegrityError() async throws {
    let h = try await CLIHarness.withIdentityVault()
    try #require(try await h.run(["set", "prod", "app", "KEY"], stdin: "first").status == 0)
    try #require(try await h.run(["set", "prod", "app", "KEY"], stdin: "second").status == 0)
    let rekey = try await h.run(["rekey", "--format", "json"])
    #expect(rekey.status == 0, "\(rekey.stderr)")
    let report = try h.json(rekey)
    #expect(report["epoch"] as? Int == 1)
    #expect(report["versions"] as? Int == 2)
    #expect(try await h.run(["get", "prod", "app", "KEY"]).stdout == "second")

    // A keyless writer swaps the current and previous rows: every reader refuses, naming the key.
    let queue = try DatabaseQueue(path: h.path("vault/hotsecrets.db"))
    try await queue.write { db in
      try db.execute(
        sql: "UPDATE secret_versions SET state = CASE state WHEN 'current' THEN 'previous' ELSE 'current' END")
    }
    for command in [["get", "prod", "app", "KEY"], ["list", "prod"], ["history", "prod", "app", "KEY"]] {
      let r = try await h.run(command)
      #expect(r.status == 2, "\(command)")
      #expect(r.stderr.contains("integrity check failed for prod/app/KEY"), "\(command): \(r.stderr)")
      #expect(!r.stdout.contains("first"))
    }
  }

  /// A re-key killed at several points leaves the old key everywhere or the new one everywhere.
  @Test func aKilledRekeyLeavesTheOldOrTheNewKeyNeverAMix() async throws {
    let h = try await CLIHarness.withIdentityVault()
    let lines = (0..<4000).map { "KEY_\($0)=value-\($0)-\(String(repeating: "x", count: 40))" }
    try FileManager.default.createDirectory(atPath: h.path("vault/occ/app"), withIntermediateDirectories: true)
    try (lines.joined(separator: "\n") + "\n").write(
      toFile: h.path("vault/occ/app/prod.env"), atomically: true, encoding: .utf8)
    try #require(try await h.run(["import", "prod"]).status == 0)
    let before = try await h.run(["list", "prod", "--format", "json"]).stdout

    var epochs = Set<Int>()
    // Debug build, 4,000 secrets: a re-key takes ~180 ms here, so these land before, inside and after its transaction.
    for delay in [0.01, 0.04, 0.07, 0.1, 0.13, 0.16, 0.3] {
      let child = try h.start(["rekey"], environment: ProcessInfo.processInfo.environment.merging(h.environment) { $1 })
      // Slept and killed on a thread of its own, so the kill lands when planned whatever else the pool is doing.
      await onDedicatedThread {
        usleep(useconds_t(delay * 1_000_000))
        child.signal(SIGKILL)
      }
      _ = await child.output()

      // Whatever happened, every value opens, the fingerprints are unchanged, the chain verifies.
      #expect(try await h.run(["get", "prod", "app", "KEY_3999"]).stdout.hasPrefix("value-3999-"))
      #expect(try await h.run(["list", "prod", "--format", "json"]).stdout == before)
      let audit = try await h.run(["audit", "verify"])
      #expect(audit.status == 0, "after \(delay) s: \(audit.stdout)\(audit.stderr)")
      let epoch = try await DatabaseQueue(path: h.path("vault/hotsecrets.db")).read { db in
        try Int.fetchOne(db, sql: "SELECT epoch FROM vault_meta") ?? -1
      }
      epochs.insert(epoch)
    }
    #expect(epochs.allSatisfy { $0 >= 0 })
    // Nothing was left half-done or locked: a whole re-key still runs.
    let last = try await h.run(["rekey"])
    #expect(last.status == 0, "\(last.stderr)")
    #expect(try await h.run(["get", "prod", "app", "KEY_0"]).stdout.hasPrefix("value-0-"))
  }
}
