import Foundation
import Sodium
import Testing

@testable import HotSecretsCompliance
@testable import HotSecretsModel
@testable import HotSecretsOperations
@testable import HotSecretsPolicy
@testable import HotSecretsVault
@testable import RemoteAPIs
@testable import VaultSQLite

@Suite struct ComplianceTests {
  static let policyText = """
    version: 1
    environment: prod
    max_age_days: 90
    services:
      openai:
        keys:
          API_KEY: { rotate: provider }
      supabase:
        keys:
          SUPABASE_URL: { secret: false }
          SERVICE_KEY: { max_age_days: 30 }
          DATABASE_URL: {}
      app:
        keys:
          OPTIONAL: { required: false }
    targets:
      fly:
        - { app: dash, services: [openai, app] }
      github:
        - { repository: o/r, environment: production, services: [openai] }
    """

  static let day: TimeInterval = 86_400

  func export(
    _ vault: TestVault, since: Date? = nil, until: Date? = nil, out: String = "bundle", policy text: String = policyText
  ) async throws -> ComplianceExport.Result {
    let policy = try PolicyParser.parse(text, file: "policies/prod.yaml")
    return try await ComplianceExport(
      session: vault.session, policy: policy,
      options: .init(
        since: since, until: until, mirrorDirectory: nil,
        checkpointsFile: vault.scratch.file("vault/audit-checkpoints.log"), toolVersion: "test",
        verifyCommand: "hotsecrets export verify DIR")
    ).write(to: vault.scratch.file(out))
  }

  func rows(_ vault: TestVault, _ file: String, in out: String = "bundle") throws -> [[String]] {
    try String(contentsOfFile: vault.scratch.file("\(out)/\(file)"), encoding: .utf8)
      .split(separator: "\r\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
  }

  @Test func inventoryStatusesFollowAgesAndThePolicy() async throws {
    let clock = Clock(Date(timeIntervalSince1970: 1_750_000_000))
    let vault = try TestVault(now: { clock.now })
    for (service, key) in [("openai", "API_KEY"), ("supabase", "SUPABASE_URL"), ("supabase", "SERVICE_KEY")] {
      try vault.session.set(address("prod", service, key), value: bytes("value-\(key)"))
    }
    clock.advance(days: 40)
    try vault.session.set(address("prod", "openai", "UNDECLARED"), value: bytes("u"))
    clock.advance(days: 40)  // API_KEY: 80 days of 90 (due soon); SERVICE_KEY: 80 of 30 (overdue)
    let result = try await export(vault)
    #expect(result.inventoryRows == 6)
    let inventory = try rows(vault, "inventory.csv")
    let status = Dictionary(uniqueKeysWithValues: inventory.dropFirst().map { ("\($0[0])/\($0[1])", $0[12]) })
    #expect(
      status == [
        "openai/API_KEY": "due-soon", "supabase/SUPABASE_URL": "ok", "supabase/SERVICE_KEY": "overdue",
        "supabase/DATABASE_URL": "missing", "app/OPTIONAL": "absent", "openai/UNDECLARED": "undeclared",
      ])
    let apiKey = try #require(inventory.first { $0[1] == "API_KEY" })
    #expect(apiKey == [
      "openai", "API_KEY", "yes", "yes", "yes", "1", "2025-06-15T15:06:40Z", "80", "90", "provider",
      "fly:dash;github:o/r:production", apiKey[11], "due-soon",
    ])
    #expect(apiKey[11].count == 16)
    let controls = Dictionary(uniqueKeysWithValues: result.manifest.controls.map { ($0.id, $0.passed) })
    #expect(
      controls == [
        "inventory-complete": false, "required-keys-present": false, "rotation-within-max-age": false,
        "audit-chain-intact": true, "recovery-tested": false,
      ])
    #expect(result.manifest.controls[2].detail == "1 secret past their maximum age: supabase/SERVICE_KEY")
  }

  @Test func thePeriodSelectsEntriesAndRecipients() async throws {
    let clock = Clock(Date(timeIntervalSince1970: 1_750_000_000))
    var vault = try TestVault(now: { clock.now })
    let start = clock.now
    try vault.session.set(address("prod", "openai", "API_KEY"), value: bytes("v1"))
    clock.advance(days: 10)
    let teammate = try Identity.generate()
    let added = try vault.session.addRecipient(.x25519(teammate.recipient), name: "teammate")
    clock.advance(days: 10)
    vault.session = try vault.session.removeRecipient(id: added.id).session
    clock.advance(days: 10)
    // Day 5 to day 15: the teammate was added in it; the set on day 0 is outside.
    let result = try await export(vault, since: start + 5 * Self.day, until: start + 15 * Self.day)
    #expect(result.auditEntriesInPeriod == 1)
    let lines = try String(contentsOfFile: vault.scratch.file("bundle/audit.jsonl"), encoding: .utf8)
      .split(separator: "\n")
    #expect(lines.count == 1)
    #expect(lines[0].contains("\"action\":\"recipient-add\""))
    let access = try rows(vault, "access.csv")
    #expect(access.count == 3)
    #expect(access[2][2] == "teammate")
    #expect(access[2][5] == "tester (recipient 1:test)")
    #expect(access[2][7] == "tester (recipient 1:test)")
    #expect(access[2][8] == "yes")  // removed on day 20, after the period's end
    // After the removal, only the first recipient had access.
    let later = try await export(vault, since: start + 25 * Self.day, out: "later")
    #expect(try rows(vault, "access.csv", in: "later").count == 2)
    #expect(later.manifest.period.since == "2025-07-10T15:06:40Z")
    // Both ends are inclusive, to the second.
    let exact = try await export(vault, since: start, until: start, out: "exact")
    #expect(exact.auditEntriesInPeriod == 3)  // init, recipient-add, set: all at `start`
    let before = try await export(vault, since: start - 10, until: start - 1, out: "before")
    #expect(before.auditEntriesInPeriod == 0)
  }

  @Test func auditLinesAreTheHashedTextPlusTheHashes() throws {
    let entry = AuditEntry(
      seq: 7, time: "2026-01-01T00:00:00Z", actorUser: "ann \"o\" ü", actorRecipient: "1", action: "set",
      subject: "prod/a/B", version: 2, fingerprint: "ab", detail: "{\"k\":\"v\\n\"}",
      prevHash: String(repeating: "0", count: 64), hash: "11", mac: "22")
    let line = AuditScan.jsonLine(entry)
    #expect(line.hasSuffix("}\n"))
    let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    #expect(object["hash"] as? String == "11")
    #expect(object["mac"] as? String == "22")
    #expect(object["prev_hash"] as? String == entry.prevHash)
    #expect(object["detail"] as? String == entry.detail)
    // Without the three hash fields, the line is exactly the canonical text the chain hashes.
    let stripped = line.replacingOccurrences(
      of: ",\"hash\":\"11\",\"mac\":\"22\",\"prev_hash\":\"\(entry.prevHash)\"", with: "")
    #expect(stripped == entry.canonicalText + "\n")
  }

  @Test func csvQuotesAndDefusesFormulas() {
    var csv = CSV(header: ["a", "b", "c", "d"])
    csv.row([.text("x,y"), .text("say \"hi\"\nbye"), .text("=SUM(A1)"), .number(nil)])
    csv.row([.text("-1"), .yesNo(true), .text(nil), .number(42)])
    #expect(csv.text == "a,b,c,d\r\n\"x,y\",\"say \"\"hi\"\"\nbye\",'=SUM(A1),\r\n'-1,yes,,42\r\n")
  }

  @Test func theVerifierReadsNothingOutsideTheBundle() throws {
    let scratch = try ScratchDirectory()
    let dir = scratch.file("b")
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try "secret".write(toFile: scratch.file("outside"), atomically: true, encoding: .utf8)
    let manifest = """
      {"format":"hotsecrets-compliance-v1","files":{"../outside":"\(ComplianceManifest.sha256(Array("secret".utf8)))"},
       "vault_id":"v","environment":"prod","period":{"since":"a","until":"b"},"generated_at":"t","tool_version":"x",
       "audit_head":{"seq":1,"hash":"h"},"controls":[],"signer":"k"}
      """
    try manifest.write(toFile: dir + "/manifest.json", atomically: true, encoding: .utf8)
    let result = BundleVerifier.verify(directory: dir)
    #expect(!result.valid)
    #expect(result.files.isEmpty)
    #expect(result.problems.contains("manifest.json: lists '../outside', which is not a plain file name"))
    #expect(result.problems.contains("manifest.sig: missing"))
    #expect(BundleVerifier.verify(directory: scratch.file("none")).problems == ["\(scratch.file("none")): not a folder"])
  }

  @Test func aWholeBundleVerifiesAndItsCheckpointAnchorsIt() async throws {
    let vault = try TestVault()
    try vault.session.set(address("prod", "openai", "API_KEY"), value: bytes("sk-secret-value"))
    let result = try await export(vault)
    let dir = vault.scratch.file("bundle")
    #expect(BundleVerifier.verify(directory: dir).valid)
    #expect(BundleVerifier.verify(directory: dir, anchor: .signerKey(result.manifest.signer)).anchored == true)
    #expect(
      BundleVerifier.verify(
        directory: dir, anchor: .checkpoints(path: vault.scratch.file("vault/audit-checkpoints.log"))
      ).valid)
    #expect(result.checkpoint?.seq == result.manifest.auditHead.seq)
    // The checkpoint written by the export verifies with the chain.
    let audit = try vault.session.verifyAudit(checkpoints: vault.scratch.file("vault/audit-checkpoints.log"))
    #expect(audit.intact && audit.checkpoints == 1)
    let files = try FileManager.default.contentsOfDirectory(atPath: dir)
    #expect(files.count == 13)
    for file in files {
      let text = try String(contentsOfFile: dir + "/" + file, encoding: .utf8)
      #expect(!text.contains("sk-secret-value"), "\(file)")
    }
    // Nothing else is left next to the bundle.
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: vault.scratch.path).filter { $0.contains("partial") }
        .isEmpty)
  }

  /// The period's reads of the environment, by reader, action and what was read: gets by secret
  /// (with the versions read), run and render by scope (with the most keys one handed out), live
  /// checks by the keys they name. Reads of other environments and outside the period are left out.
  @Test func readsSummariseTheAuditTrailByReader() async throws {
    let clock = Clock(Date(timeIntervalSince1970: 1_750_000_000))
    let vault = try TestVault(now: { clock.now })
    try vault.session.set(address("prod", "openai", "API_KEY"), value: bytes("sk-one"))
    try vault.session.set(address("prod", "app", "OPTIONAL"), value: bytes("opt"))
    try vault.session.set(address("staging", "openai", "API_KEY"), value: bytes("sk-staging"))
    _ = try vault.session.get(address("prod", "openai", "API_KEY"))  // before the period
    clock.advance(days: 1)
    let start = clock.now
    _ = try vault.session.get(address("prod", "openai", "API_KEY"))
    _ = try vault.session.get(address("staging", "openai", "API_KEY"))
    try vault.session.set(address("prod", "openai", "API_KEY"), value: bytes("sk-two"))
    clock.advance(days: 1)
    _ = try vault.session.get(address("prod", "openai", "API_KEY"))
    _ = try vault.session.currentValues(environment: "prod", action: .run, detail: ["command": .string("./server")])
    _ = try vault.session.currentValues(environment: "prod", services: ["app"], action: .run)
    try vault.session.set(address("prod", "supabase", "SERVICE_KEY"), value: bytes("sb-key"))
    clock.advance(days: 1)
    _ = try vault.session.currentValues(environment: "prod", action: .run)
    _ = try vault.session.currentValues(environment: "prod", action: .render, detail: ["to": .string("vault/occ")])
    _ = try vault.session.currentValues(environment: "staging", action: .render)
    try vault.session.recordLiveProbes(
      environment: "prod",
      [
        (ServiceKey(service: "openai", key: "API_KEY"), .openAI(apiKey: "sk-two")),
        (ServiceKey(service: "supabase", key: "DATABASE_URL"), .tcp(url: "postgres://db.example:5432/x")),
      ])
    let end = clock.now
    clock.advance(days: 1)
    _ = try vault.session.get(address("prod", "openai", "API_KEY"))  // after the period

    let result = try await export(vault, since: start, until: end)
    #expect(result.readRows == 6)
    #expect(result.reads == 8)
    let day = { (n: Int) in Timestamp.string(from: start + Double(n) * Self.day) }
    #expect(
      try rows(vault, "reads.csv") == [
        ["user", "recipient", "action", "secrets", "keys", "reads", "versions", "first_at", "last_at"],
        ["tester", "1:test", "get", "openai/API_KEY", "1", "2", "1;2", day(0), day(1)],
        ["tester", "1:test", "run", "*", "3", "2", "", day(1), day(2)],
        ["tester", "1:test", "run", "app/*", "1", "1", "", day(1), day(1)],
        ["tester", "1:test", "render", "*", "3", "1", "", day(2), day(2)],
        ["tester", "1:test", "verify-live", "openai/API_KEY", "1", "1", "", day(2), day(2)],
        ["tester", "1:test", "verify-live", "supabase/DATABASE_URL", "1", "1", "", day(2), day(2)],
      ])
    let csv = try String(contentsOfFile: vault.scratch.file("bundle/reads.csv"), encoding: .utf8)
    for value in ["sk-one", "sk-two", "sk-staging", "sb-key", "opt", "postgres://"] { #expect(!csv.contains(value)) }
  }

  @Test func readsCSVQuotesAndDefusesWhatTheAuditTrailHolds() {
    let row = ReadRow(
      user: "=cmd|' /C calc'!A0", recipient: "3:a,b", action: .run, secrets: ["app/*", "web/*"], keys: 4, reads: 2,
      versions: [], firstAt: "2026-01-01T00:00:00Z", lastAt: "2026-01-02T00:00:00Z")
    #expect(
      ComplianceTables.reads([row])
        == "user,recipient,action,secrets,keys,reads,versions,first_at,last_at\r\n"
        + "'=cmd|' /C calc'!A0,\"3:a,b\",run,app/*;web/*,4,2,,2026-01-01T00:00:00Z,2026-01-02T00:00:00Z\r\n")
  }

  /// An end of the period after the generation time: refused before anything is written or audited.
  @Test func anUntilAfterTheGenerationTimeIsRefusedBeforeAnythingIsWritten() async throws {
    let clock = Clock(Date(timeIntervalSince1970: 1_750_000_000))
    let vault = try TestVault(now: { clock.now })
    try vault.session.set(address("prod", "openai", "API_KEY"), value: bytes("v1"))
    let entries = try vault.session.verifyAudit(checkpoints: vault.scratch.file("none.log")).entries
    await #expect(throws: ComplianceError.periodEndsLater(until: "2025-06-15T15:06:41Z", generatedAt: "2025-06-15T15:06:40Z")) {
      try await export(vault, until: clock.now + 1)
    }
    #expect(try vault.session.verifyAudit(checkpoints: vault.scratch.file("none.log")).entries == entries)
    #expect(!FileManager.default.fileExists(atPath: vault.scratch.file("bundle")))
    #expect(!FileManager.default.fileExists(atPath: vault.scratch.file("vault/audit-checkpoints.log")))
    #expect(try FileManager.default.contentsOfDirectory(atPath: vault.scratch.path) == ["vault"])
    // To the second: the generation time itself is a valid end.
    #expect(try await export(vault, until: clock.now).manifest.period.until == "2025-06-15T15:06:40Z")
  }

  /// The max-age control has nothing to evaluate when no key has a maximum age: a default that
  /// applies only to non-secrets counts as none.
  @Test func theMaxAgeControlIsNotApplicableWithoutAMaxAge() async throws {
    let vault = try TestVault()
    try vault.session.set(address("prod", "supabase", "SUPABASE_URL"), value: bytes("https://x.supabase.co"))
    let policy = """
      version: 1
      environment: prod
      max_age_days: 90
      services:
        supabase:
          keys:
            SUPABASE_URL: { secret: false }
      """
    let result = try await export(vault, policy: policy)
    let control = try #require(result.manifest.controls.first { $0.id == "rotation-within-max-age" })
    #expect(control.status == .notApplicable)
    #expect(control.passed)
    #expect(control.detail == "no key has a maximum age: policies/prod.yaml sets no max_age_days for a secret, nor a default")
    // (No drill ran in the period: that control fails, whatever the max age.)
    #expect(
      result.manifest.controls.filter { $0.id != control.id && $0.id != "recovery-tested" }.allSatisfy { $0.status == .pass })
    // With the default applying to a secret, it is evaluated.
    let evaluated = try await export(vault, out: "b2")
    #expect(evaluated.manifest.controls.first { $0.id == "rotation-within-max-age" }?.status == .pass)
  }

  /// Controls of a manifest written before `status` existed read as passed or failed.
  @Test func controlsWithoutAStatusReadAsPassOrFail() throws {
    let decode = { (passed: Bool) in
      try JSONDecoder().decode(
        ComplianceControl.self,
        from: Data(#"{"id":"x","title":"X","criteria":["CC6.1"],"passed":\#(passed),"detail":"d"}"#.utf8))
    }
    #expect(try decode(true).status == .pass)
    #expect(try decode(false).status == .fail)
    let na = ComplianceControl(id: "x", title: "X", criteria: [], status: .notApplicable, detail: "d")
    let text = String(decoding: try StableJSON.encode(na), as: UTF8.self)
    #expect(text.contains("\"status\" : \"not-applicable\"") && text.contains("\"passed\" : true"))
    #expect(try JSONDecoder().decode(ComplianceControl.self, from: Data(text.utf8)) == na)
  }

  /// SHA256SUMS is what `sha256sum` writes: `<hex>  <name>` lines sorted bytewise; the parser reads
  /// back exactly that and nothing malformed.
  @Test func sha256sumsIsWhatSha256sumWrites() {
    let a = String(repeating: "a", count: 64)
    let b = String(repeating: "b", count: 64)
    let text = ComplianceManifest.sha256sums([("report.html", a), ("SIGNER", b), ("audit.jsonl", a), ("audit-x", b)])
    #expect(text == "\(b)  SIGNER\n\(b)  audit-x\n\(a)  audit.jsonl\n\(a)  report.html\n")
    let parsed = ComplianceManifest.parseSHA256Sums(Array(text.utf8))
    #expect(parsed.map { $0?.name } == ["SIGNER", "audit-x", "audit.jsonl", "report.html"])
    #expect(parsed.map { $0?.sha256 } == [b, b, a, a])
    #expect(ComplianceManifest.parseSHA256Sums(Array("\(a) *binary.bin\n".utf8)).first??.name == "binary.bin")
    for bad in ["\(a) x", "\(a)\tx", "\(a.uppercased())  x", "\(a.dropLast())  x", "", "\(a)  "] {
      let parsed = ComplianceManifest.parseSHA256Sums(Array((bad + "\n").utf8))
      #expect(parsed.count == 1 && parsed[0] == nil, "\(bad)")
    }
  }

  /// A bundle written before SHA256SUMS existed (no `checksums_file` in its manifest) still
  /// verifies; a SHA256SUMS added to it is an extra file, as before.
  @Test func aBundleWithoutChecksumsFileStillVerifies() async throws {
    let vault = try TestVault()
    try vault.session.set(address("prod", "openai", "API_KEY"), value: bytes("sk-secret-value"))
    _ = try await export(vault)
    let dir = vault.scratch.file("bundle")
    let manifest = try JSONDecoder().decode(
      ComplianceManifest.self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/manifest.json")))
    #expect(manifest.checksumsFile == "SHA256SUMS")
    // Re-signed as an older version would have written it.
    let key = try Ed25519.generate()
    let signer = Base64.encode(key.publicKey)
    var files = manifest.files
    files["signer.pub"] = ComplianceManifest.sha256(Array((signer + "\n").utf8))
    let old = ComplianceManifest(
      format: manifest.format, files: files, vaultID: manifest.vaultID, environment: manifest.environment,
      period: manifest.period, generatedAt: manifest.generatedAt, toolVersion: manifest.toolVersion,
      auditHead: manifest.auditHead, controls: manifest.controls, signer: signer)
    let bytes = Array(try StableJSON.encode(old)) + [10]
    #expect(!String(decoding: bytes, as: UTF8.self).contains("checksums_file"))
    try Data(bytes).write(to: URL(fileURLWithPath: dir + "/manifest.json"))
    try (Base64.encode(try Ed25519.sign(bytes, secretKey: key.secretKey)) + "\n")
      .write(toFile: dir + "/manifest.sig", atomically: true, encoding: .utf8)
    try (signer + "\n").write(toFile: dir + "/signer.pub", atomically: true, encoding: .utf8)
    let sums = dir + "/SHA256SUMS"
    let kept = try String(contentsOfFile: sums, encoding: .utf8)
    try FileManager.default.removeItem(atPath: sums)
    let result = BundleVerifier.verify(directory: dir)
    #expect(result.valid, "\(result.problems)")
    #expect(!result.files.contains { $0.name == "SHA256SUMS" })
    try kept.write(toFile: sums, atomically: true, encoding: .utf8)
    #expect(BundleVerifier.verify(directory: dir).problems == ["SHA256SUMS: extra file, not listed in manifest.json"])
  }
}
