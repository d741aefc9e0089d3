import Foundation
import Testing

@testable import HotSecretsCompliance
@testable import HotSecretsModel
@testable import HotSecretsOperations
@testable import HotSecretsPolicy
@testable import HotSecretsVault
@testable import RemoteAPIs
@testable import VaultSQLite

#if canImport(FoundationXML)
  import FoundationXML
#endif

@Suite struct ComplianceReportHTMLTests {
  static let hostile = "<script>alert(1)</script> & \"Bob's\""

  static func row(
    _ service: String, _ key: String, age: Int?, max: Int?, status: InventoryRow.Status, declared: Bool = true,
    version: Int? = 1
  ) -> InventoryRow {
    InventoryRow(
      service: service, key: key, declared: declared, secret: true, required: declared, version: version,
      createdAt: version == nil ? nil : "2026-08-01T10:00:00Z", ageDays: age, maxAgeDays: max,
      rotation: declared ? "provider" : "-", targets: version == nil ? [] : ["fly:dash-prod", "github:acme/dash:prod"],
      fingerprintPrefix: version == nil ? nil : "0123456789abcdef", status: status)
  }

  static let defaultReads = [
    ReadRow(
      user: "alice", recipient: "1:admin", action: .get, secrets: ["openai/OPENAI_API_KEY"], keys: 1, reads: 3,
      versions: [2, 3], firstAt: "2026-09-02T08:00:00Z", lastAt: "2026-11-02T08:00:00Z"),
    ReadRow(
      user: "ci", recipient: "2:" + hostile, action: .run, secrets: ["*"], keys: 5, reads: 40, versions: [],
      firstAt: "2026-09-01T01:00:00Z", lastAt: "2026-11-30T01:00:00Z"),
  ]

  static func evidence(
    inventory: [InventoryRow]? = nil, audit: AuditChain.Verification? = nil, rotationCopies: Int = 1,
    access: [AccessRow]? = nil, reads: [ReadRow] = defaultReads, extraFindings: [VerifyReportJSON.FindingJSON] = [],
    mirrorChecked: String? = nil
  ) -> ComplianceEvidence {
    let inventory =
      inventory ?? [
        row("openai", "OPENAI_API_KEY", age: 120, max: 90, status: .overdue),
        row("supabase", "SUPABASE_SERVICE_ROLE_KEY", age: 80, max: 90, status: .dueSoon),
        row("shopify", "SHOPIFY_API_SECRET", age: 10, max: 180, status: .ok),
        row("chatwoot", "CHATWOOT_TOKEN", age: nil, max: 90, status: .missing, version: nil),
        row("legacy", "OLD_TOKEN", age: 400, max: nil, status: .undeclared, declared: false),
      ]
    let rotations = [
      RotationRow(
        run: 7, service: "openai", key: "OPENAI_API_KEY", mode: "openai", startedAt: "2026-10-01T09:00:00Z",
        finishedAt: "2026-10-01T09:00:05Z", result: "failed", runResult: "failed", oldVersion: 3, newVersion: nil,
        steps: ["plan", "create", "test"], ranBy: "ci", recipient: "2:ci", oldCredential: "kept",
        error: "provider said " + hostile),
      RotationRow(
        run: 8, service: "supabase", key: "SUPABASE_SERVICE_ROLE_KEY", mode: "supabase",
        startedAt: "2026-10-02T09:00:00Z", finishedAt: "2026-10-02T09:01:00Z", result: "rolled-back",
        runResult: "rolled-back", oldVersion: 4, newVersion: 5, steps: ["plan", "create", "test", "push", "verify"],
        ranBy: "alice", recipient: nil, oldCredential: nil, error: "fly rejected the update"),
      RotationRow(
        run: 9, service: "shopify", key: "SHOPIFY_API_SECRET", mode: "shopify", startedAt: "2026-11-20T09:00:00Z",
        finishedAt: "2026-11-20T09:00:30Z", result: "rotated", runResult: "completed", oldVersion: 1, newVersion: 2,
        steps: ["plan", "create", "test", "push", "verify", "promote", "revoke"], ranBy: "alice", recipient: "1:alice",
        oldCredential: "revoked", error: nil),
    ]
    let defaultAccess = [
      AccessRow(
        id: 1, kind: "passphrase", name: "admin", recipient: nil, addedAt: "2026-01-01T00:00:00Z", addedBy: nil,
        removedAt: nil, removedBy: nil),
      AccessRow(
        id: 2, kind: "x25519", name: hostile, recipient: "hsr1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq",
        addedAt: "2026-02-01T00:00:00Z", addedBy: "admin", removedAt: "2026-09-01T00:00:00Z", removedBy: "admin"),
    ]
    let findings = [
      VerifyReportJSON.FindingJSON(
        service: "chatwoot", key: "CHATWOOT_TOKEN", check: "missing", severity: "error",
        message: "required key is not in the vault"),
      VerifyReportJSON.FindingJSON(
        service: "openai", key: "OPENAI_API_KEY", check: "max-age", severity: "warning", message: "120 days old"),
    ] + extraFindings
    return ComplianceEvidence(
      environment: "prod", vaultID: "vault-1234", generatedAt: "2026-11-30T12:00:00Z",
      period: CompliancePeriod(since: "2026-09-01T00:00:00Z", until: "2026-11-30T12:00:00Z"),
      policyFile: "policies/prod.yaml", inventory: inventory,
      rotations: Array(repeating: rotations, count: rotationCopies).flatMap { $0 }, access: access ?? defaultAccess,
      policyResults: VerifyReportJSON(
        environment: "prod", policy: "policies/prod.yaml", passed: false, findings: findings,
        summary: .init(passed: 40, failed: 1, warnings: 1)),
      auditVerification: audit
        ?? AuditChain.Verification(
          intact: true, entries: 321, firstBadSeq: nil, reason: nil, headSeq: 321,
          headHash: String(repeating: "ab", count: 32),
          authenticated: true, checkpoints: 3),
      checkpointsFile: "audit/checkpoints", auditHead: AuditHead(seq: 321, hash: String(repeating: "ab", count: 32)),
      auditJSONL: [], auditEntriesInPeriod: 42, reads: reads, mirrorChecked: mirrorChecked)
  }

  /// A chain broken at seq 7 (the reason holds markup), with a checkpoint that does not verify.
  static let brokenAudit = AuditChain.Verification(
    intact: false, entries: 12, firstBadSeq: 7, reason: "hash does not match <edited> & \"more\"", headSeq: nil,
    headHash: nil, authenticated: false, checkpoints: 1, checkpointError: "audit/checkpoints line 2: bad signature")

  static func large(_ count: Int, rotationCopies: Int = 1) -> ComplianceEvidence {
    let rows = (0..<count).map { i in
      let age = (i * 7) % 500
      let max = [30, 90, 180, 365][i % 4]
      let status: InventoryRow.Status = age > max ? .overdue : age > max - 14 ? .dueSoon : .ok
      return row("svc\(i % 37)", "KEY_\(i)", age: age, max: max, status: status)
    }
    return evidence(inventory: rows, rotationCopies: rotationCopies)
  }

  /// The text of one section, from its opening tag to its closing one.
  static func section(_ id: String, in html: String) -> Substring {
    guard let start = html.range(of: "<section id=\"\(id)\"") else { return "" }
    let end = html.range(of: "</section>", range: start.upperBound..<html.endIndex)?.upperBound ?? html.endIndex
    return html[start.lowerBound..<end]
  }

  static func occurrences(of needle: String, in text: some StringProtocol) -> Int {
    text.components(separatedBy: needle).count - 1
  }

  /// Whether `text` is well-formed XML. On Linux XMLDocument parses in recovery mode and
  /// XMLParser's `parse()` can return true after an error, so errors are counted.
  static func isWellFormedXML(_ text: String) -> Bool {
    final class ErrorCounter: NSObject, XMLParserDelegate {
      var errors = 0
      func parser(_ parser: XMLParser, parseErrorOccurred parseError: any Error) { errors += 1 }
      func parser(_ parser: XMLParser, validationErrorOccurred validationError: any Error) { errors += 1 }
    }
    let parser = XMLParser(data: Data(text.utf8))
    let counter = ErrorCounter()
    parser.delegate = counter
    return parser.parse() && parser.parserError == nil && counter.errors == 0
  }

  @Test func parsesAsXML() throws {
    let html = ComplianceReportHTML.render(Self.evidence(), toolVersion: "1.2.3", verifyCommand: "hotsecrets export verify DIR")
    #expect(html.hasPrefix("<!DOCTYPE html>\n"))
    #expect(html.contains("<meta charset=\"utf-8\" />"))
    #expect(Self.isWellFormedXML(html))
    let document = try XMLDocument(xmlString: html, options: [])
    #expect(document.rootElement()?.name == "html")
    let bars = try document.nodes(forXPath: "//*[local-name()='rect'][starts-with(@class, 'bar ')]")
    #expect(bars.count == 4)
    #expect(try document.nodes(forXPath: "//*[local-name()='svg']").count == 1)
    #expect(try document.nodes(forXPath: "//*[local-name()='svg']/@viewBox").count == 1)
    #expect(try document.nodes(forXPath: "//*[local-name()='svg']/@role").first?.stringValue == "img")
    #expect(try document.nodes(forXPath: "//*[local-name()='svg']/*[local-name()='title']").count == 1)
    #expect(try document.nodes(forXPath: "//section").count == 11)
  }

  @Test func theXMLCheckIsStrict() {
    #expect(Self.isWellFormedXML("<!DOCTYPE html>\n<html><p>a<br /></p></html>"))
    #expect(!Self.isWellFormedXML("<!DOCTYPE html>\n<html><p>a<br></p></html>"))
    #expect(!Self.isWellFormedXML("<html><p title=x>a</p></html>"))
    #expect(!Self.isWellFormedXML("<html><p>a&nbsp;b</p></html>"))
  }

  @Test func usesOnlyTheFiveXMLEntities() {
    let html = ComplianceReportHTML.render(Self.evidence(), toolVersion: "1.2.3", verifyCommand: "hotsecrets export verify DIR")
    var rest = html[...]
    while let amp = rest.firstIndex(of: "&") {
      let tail = rest[amp...]
      let ok = ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"].contains { tail.hasPrefix($0) }
      #expect(ok, "unexpected entity at \(tail.prefix(12))")
      rest = rest[rest.index(after: amp)...]
    }
  }

  @Test func isInertAndSelfContained() {
    let html = ComplianceReportHTML.render(Self.evidence(), toolVersion: "1.2.3", verifyCommand: "hotsecrets export verify DIR").lowercased()
    #expect(!html.contains("<script"))
    #expect(!html.contains("@import"))
    #expect(!html.contains("url("))
    #expect(!html.contains("<img"))
    #expect(!html.contains("<link"))
    for attribute in ["src=", "href="] {
      var rest = html[...]
      while let found = rest.range(of: attribute) {
        let value = rest[found.upperBound...].prefix(10)
        #expect(!value.contains("http:") && !value.contains("https:") && !value.contains("//"))
        rest = rest[found.upperBound...]
      }
    }
  }

  @Test func escapesHostileText() {
    let html = ComplianceReportHTML.render(Self.evidence(), toolVersion: "<b>1</b>", verifyCommand: "hotsecrets export verify DIR")
    #expect(!html.contains("<script>"))
    #expect(!html.contains("alert(1)</script>"))
    #expect(!html.contains("<b>1</b>"))
    #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Bob&#39;s&quot;"))
    #expect(Self.section("rotations", in: html).contains("provider said &lt;script&gt;"))
    #expect(Self.section("access", in: html).contains("&lt;script&gt;"))
    #expect(html.contains("hotsecrets &lt;b&gt;1&lt;/b&gt;"))
  }

  @Test func replacesCharactersXMLForbids() {
    let rows = [Self.row("a\u{0}b", "K\u{1B}[31m\u{FFFF}", age: 1, max: 2, status: .ok)]
    let html = ComplianceReportHTML.render(Self.evidence(inventory: rows), toolVersion: "1", verifyCommand: "hotsecrets export verify DIR")
    #expect(!html.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
    #expect(html.contains("a\u{FFFD}b"))
    #expect(Self.isWellFormedXML(html))
  }

  @Test func hasEverySectionInOrderWithItsCriteria() {
    let html = ComplianceReportHTML.render(Self.evidence(), toolVersion: "1.2.3", verifyCommand: "hotsecrets export verify DIR")
    let headings = [
      "Compliance report — prod", "Controls", "Secret ages vs max age", "Overdue secrets", "Rotation history",
      "Access", "Who read which secrets", "Policy results", "Mirror drift", "Audit trail", "Inventory",
      "Verifying this bundle",
    ]
    var position = html.startIndex
    for heading in headings {
      let found = html.range(of: heading, range: position..<html.endIndex)
      #expect(found != nil, "\(heading) missing or out of order")
      if let found { position = found.upperBound }
    }
    let criteria: [(String, [String])] = [
      ("ages", ["CC6.1", "CC8.1"]), ("overdue", ["CC6.1", "CC8.1"]), ("rotations", ["CC8.1"]),
      ("access", ["CC6.1"]), ("reads", ["CC6.1", "CC7.2"]), ("policy", ["CC6.1", "CC7.2"]), ("audit", ["CC7.2"]),
      ("inventory", ["CC6.1"]),
      ("controls", ["CC6.1", "CC7.2", "CC8.1"]),
    ]
    for (id, expected) in criteria {
      let section = Self.section(id, in: html)
      let heading = section.prefix { $0 != "\n" }.components(separatedBy: "</h2>").first ?? ""
      for c in expected {
        #expect(heading.contains("class=\"crit\"") && heading.contains(">\(c)</span>"), "\(id) \(c)")
      }
    }
    #expect(html.contains("hotsecrets export verify DIR"))
    #expect(html.contains("manifest.sig") && html.contains("signer.pub") && html.contains("sha256sum -c SHA256SUMS"))
    // Mirror drift is context, not a control: no criterion badge.
    #expect(!Self.section("drift", in: html).contains("class=\"crit\""))
    #expect(html.contains("2026-09-01T00:00:00Z → 2026-11-30T12:00:00Z"))
    #expect(html.contains("seq 321 · <span class=\"mono\" title=\"abab"))
  }

  @Test func failingControlsSayFail() {
    let html = ComplianceReportHTML.render(Self.evidence(), toolVersion: "1.2.3", verifyCommand: "hotsecrets export verify DIR")
    let controls = Self.section("controls", in: html)
    #expect(controls.contains("1 of 5 controls pass"))
    #expect(Self.occurrences(of: "✘ FAIL", in: controls) == 4)
    #expect(Self.occurrences(of: "✔ PASS", in: controls) == 1)
    #expect(Self.occurrences(of: "<tr class=\"fail\">", in: controls) == 4)
    #expect(controls.contains("legacy/OLD_TOKEN"))
  }

  @Test func brokenAuditChainShowsTheReason() {
    let html = ComplianceReportHTML.render(Self.evidence(audit: Self.brokenAudit), toolVersion: "1", verifyCommand: "hotsecrets export verify DIR")
    let audit = Self.section("audit", in: html)
    #expect(audit.contains("✘ BROKEN"))
    #expect(audit.contains("at seq 7: hash does not match &lt;edited&gt; &amp; &quot;more&quot;"))
    #expect(audit.contains("audit/checkpoints line 2: bad signature"))
    #expect(audit.contains("Entries in the period</th><td>42"))
    #expect(Self.section("controls", in: html).contains("0 of 5 controls pass"))
  }

  @Test func listsOverdueRotationsAccessAndFindings() {
    let html = ComplianceReportHTML.render(Self.evidence(), toolVersion: "1.2.3", verifyCommand: "hotsecrets export verify DIR")
    let overdue = Self.section("overdue", in: html)
    #expect(overdue.contains("OPENAI_API_KEY"))
    #expect(!overdue.contains("SUPABASE_SERVICE_ROLE_KEY"))
    let rotations = Self.section("rotations", in: html)
    #expect(rotations.contains("✘ failed"))
    #expect(rotations.contains("↺ rolled-back"))
    #expect(Self.occurrences(of: "<tr class=\"bad\">", in: rotations) == 2)
    #expect(rotations.contains("plan → create → test → push → verify → promote → revoke"))
    #expect(rotations.contains("v1 → v2"))
    let access = Self.section("access", in: html)
    #expect(access.contains("hsr1qqqqqqqqqqqq…"))
    #expect(access.contains("<tr class=\"removed\">"))
    #expect(access.contains("✘ 2026-09-01T00:00:00Z"))
    let policy = Self.section("policy", in: html)
    #expect(policy.contains("40 checks passed, 1 failed, 1 warning."))
    #expect(policy.contains("required key is not in the vault"))
    let inventory = Self.section("inventory", in: html)
    #expect(inventory.contains("5 keys: 1 ok, 1 due soon, 1 overdue, 1 missing, 1 undeclared."))
    #expect(Self.occurrences(of: "</tr>\n", in: inventory) == 5)
  }

  @Test func emptySectionsSaySo() {
    let ok = Self.row("shopify", "SHOPIFY_API_SECRET", age: 10, max: 180, status: .ok)
    let base = Self.evidence(inventory: [ok])
    let evidence = ComplianceEvidence(
      environment: base.environment, vaultID: base.vaultID, generatedAt: base.generatedAt, period: base.period,
      policyFile: base.policyFile, inventory: [ok], rotations: [], access: [],
      policyResults: VerifyReportJSON(
        environment: "prod", policy: "policies/prod.yaml", passed: true, findings: [],
        summary: .init(passed: 5, failed: 0, warnings: 0)),
      auditVerification: base.auditVerification, checkpointsFile: base.checkpointsFile, auditHead: base.auditHead,
      auditJSONL: [], auditEntriesInPeriod: 0)
    let html = ComplianceReportHTML.render(evidence, toolVersion: "1", verifyCommand: "hotsecrets export verify DIR")
    #expect(Self.section("controls", in: html).contains("4 of 5 controls pass"))
    #expect(Self.section("overdue", in: html).contains("None"))
    #expect(Self.section("rotations", in: html).contains("No rotation in this period."))
    #expect(
      Self.section("reads", in: html).contains(
        "No value of prod was read in this period (no get, run, render or live-check entry in the audit trail)."))
    #expect(Self.section("policy", in: html).contains("No findings."))
    #expect(Self.section("drift", in: html).contains("Not checked: there was no mirror folder"))
  }

  @Test func readsListEachReaderActionAndScope() {
    let html = ComplianceReportHTML.render(Self.evidence(), toolVersion: "1", verifyCommand: "hotsecrets export verify DIR")
    let reads = Self.section("reads", in: html)
    #expect(reads.contains("43 reads of prod’s values by 2 readers"))
    #expect(Self.occurrences(of: "</tr>", in: reads) == 3)  // header and two rows
    #expect(reads.contains("<td class=\"mono\">openai/OPENAI_API_KEY</td>"))
    #expect(reads.contains("<td>v2, v3</td>"))
    #expect(reads.contains("2:&lt;script&gt;"))
    #expect(!reads.contains("<script>"))
  }

  /// Drift findings get their own section, apart from the controls, which they do not change.
  @Test func driftIsShownApartAndChangesNoControl() {
    let drift = VerifyReportJSON.FindingJSON(
      service: "openai", key: "OPENAI_API_KEY", check: "drift", severity: "error",
      message: "the file's value changed since the last import or render")
    let plain = Self.evidence(mirrorChecked: "vault/occ")
    let drifted = Self.evidence(extraFindings: [drift], mirrorChecked: "vault/occ")
    #expect(drifted.controls == plain.controls)
    let html = ComplianceReportHTML.render(drifted, toolVersion: "1", verifyCommand: "hotsecrets export verify DIR")
    let section = Self.section("drift", in: html)
    #expect(section.contains("(not a control)"))
    #expect(section.contains("is mapped to no control"))
    #expect(section.contains("1 key differs between <span class=\"mono\">vault/occ</span> and the vault."))
    #expect(
      section.contains(
        "<tr><td>openai</td><td class=\"mono\">OPENAI_API_KEY</td><td class=\"msg\">the file&#39;s value changed since the last import or render</td></tr>"
      ))
    // Still in the policy results, as `verify` reports it.
    #expect(Self.section("policy", in: html).contains("<td>drift</td>"))
    let clean = ComplianceReportHTML.render(plain, toolVersion: "1", verifyCommand: "hotsecrets export verify DIR")
    #expect(
      Self.section("drift", in: clean).contains(
        "None: the files in <span class=\"mono\">vault/occ</span> match the vault."))
  }

  /// No key with a max age: the control is not applicable (neither PASS nor FAIL) and the overdue
  /// section says why.
  @Test func theMaxAgeControlCanBeNotApplicable() {
    let rows = [
      Self.row("openai", "OPENAI_API_KEY", age: 120, max: nil, status: .ok),
      Self.row("legacy", "OLD_TOKEN", age: 400, max: nil, status: .undeclared, declared: false),
    ]
    let evidence = Self.evidence(inventory: rows)
    let control = evidence.controls[2]
    #expect(control.id == "rotation-within-max-age")
    #expect(control.status == .notApplicable && control.passed)
    let html = ComplianceReportHTML.render(evidence, toolVersion: "1", verifyCommand: "hotsecrets export verify DIR")
    let controls = Self.section("controls", in: html)
    #expect(controls.contains("✘ 1 of 5 controls pass; 1 not applicable"))
    #expect(controls.contains("<tr class=\"na\"><td><span class=\"pill pill-na\">– NOT APPLICABLE</span></td>"))
    #expect(Self.occurrences(of: "✘ FAIL", in: controls) == 3)
    #expect(Self.section("overdue", in: html).contains("Not applicable: no key has a max age"))
  }

  @Test func chartHasOneBarPerAgedRowWithItsMaxAge() {
    let html = ComplianceReportHTML.render(Self.evidence(), toolVersion: "1.2.3", verifyCommand: "hotsecrets export verify DIR")
    let chart = Self.section("ages", in: html)
    #expect(Self.occurrences(of: "<rect class=\"bar ", in: chart) == 4)
    #expect(Self.occurrences(of: "<rect class=\"bar bar-over\"", in: chart) == 1)
    #expect(Self.occurrences(of: "<rect class=\"bar bar-due\"", in: chart) == 1)
    #expect(Self.occurrences(of: "<line class=\"max\"", in: chart) == 3)
    #expect(chart.contains(">openai/OPENAI_API_KEY</text>"))
    #expect(chart.contains(">120 / 90 d · overdue</text>"))
    #expect(!chart.contains("CHATWOOT_TOKEN"))
    #expect(!chart.contains("Showing"))
    // 400 days with a longest max age of 180: cut at 360 and marked, not squashing the others.
    #expect(chart.contains("cut off at 360 days"))
    #expect(chart.contains(">400 d · no max · undeclared</text>"))
  }

  @Test func chartIsCappedForLargeInventories() {
    let evidence = Self.large(1_000)
    let html = ComplianceReportHTML.render(evidence, toolVersion: "1.2.3", verifyCommand: "hotsecrets export verify DIR")
    let chart = Self.section("ages", in: html)
    #expect(Self.occurrences(of: "<rect class=\"bar ", in: chart) == ComplianceReportHTML.chartLimit)
    #expect(
      chart.contains("Showing 50 of 1000</strong>, the closest to or past their max age; full list in inventory.csv"))
    // In two SVGs of 25 keys, each of which prints whole on a page.
    #expect(Self.occurrences(of: "<svg ", in: chart) == 2)
    #expect(chart.contains("(keys 26–50 of 50)</title>"))
    // The charted rows are the 50 with the highest age / max age.
    let ratios = evidence.inventory.map { Double($0.ageDays!) / Double($0.maxAgeDays!) }.sorted(by: >)
    let threshold = ratios[ComplianceReportHTML.chartLimit - 1]
    for row in evidence.inventory where Double(row.ageDays!) / Double(row.maxAgeDays!) > threshold {
      #expect(chart.contains(">\(row.service)/\(row.key)</text>"))
    }
    // The inventory still lists every row.
    #expect(Self.occurrences(of: "</tr>\n", in: Self.section("inventory", in: html)) == 1_000)
    #expect(Self.isWellFormedXML(html))
  }

  /// report.html is a file of a signed bundle that auditors compare: the same evidence gives the
  /// same bytes, however the page's writer changes. The digests (as the manifest lists them) pin
  /// two whole pages; the fragments show each kind of table byte for byte. A change to the page on
  /// purpose updates them.
  @Test func bytesArePinned() throws {
    let html = ComplianceReportHTML.render(Self.evidence(), toolVersion: "1.2.3", verifyCommand: "hotsecrets export verify DIR")
    #expect(
      ComplianceManifest.sha256(Array(html.utf8)) == "4ecb9ee87d0625ee7a9c7eb66d3cbe122dde3460cda586d31c5691b7f7ef1800")
    #expect(
      html.contains(
        #"""
        <table class="meta"><tbody><tr><th>Environment</th><td>prod</td><th>Period</th><td class="t">\#
        2026-09-01T00:00:00Z → 2026-11-30T12:00:00Z</td></tr><tr><th>Vault</th><td class="mono">vault-1234</td>\#
        <th>Generated</th><td class="t">2026-11-30T12:00:00Z</td></tr><tr><th>Policy</th><td class="mono">\#
        policies/prod.yaml</td><th>Tool</th><td>hotsecrets 1.2.3</td></tr><tr><th>Audit head</th>\#
        <td colspan="3">seq 321 · <span class="mono" title="\#(String(repeating: "ab", count: 32))">abababababab\#
        </span></td></tr></tbody></table></header>
        """#))
    #expect(
      html.contains(
        #"""
        <table class="overdue"><thead><tr><th>Service</th><th>Key</th><th class="num">Version</th><th>Created</th>\#
        <th class="num">Age (d)</th><th class="num">Max age (d)</th><th class="num">Over by (d)</th><th>Rotation</th>\#
        </tr></thead><tbody><tr class="bad"><td>openai</td><td class="mono">OPENAI_API_KEY</td><td class="num">1</td>\#
        <td class="t">2026-08-01T10:00:00Z</td><td class="num">120</td><td class="num">90</td><td class="num">30</td>\#
        <td>provider</td></tr></tbody></table></section>
        """#))
    #expect(
      html.contains(
        #"""
        <div class="wide"><table class="inv"><thead><tr><th>Service</th><th>Key</th><th>Secret</th><th>Required</th>\#
        <th>Version</th><th>Created</th><th>Age (d)</th><th>Max age (d)</th><th>Rotation</th><th>Targets</th>\#
        <th>Fingerprint</th><th>Status</th></tr></thead><tbody>
        <tr class="bad"><td>openai</td><td>OPENAI_API_KEY</td><td>yes</td><td>yes</td><td>1</td>\#
        <td>2026-08-01T10:00:00Z</td><td>120</td><td>90</td><td>provider</td><td>fly:dash-prod, github:acme/dash:prod</td>\#
        <td>0123456789abcdef</td><td>✘ overdue</td></tr>
        """#))
    #expect(
      html.contains(
        #"""
        <tr class="bad"><td>chatwoot</td><td>CHATWOOT_TOKEN</td><td>yes</td><td>yes</td><td>–</td><td>–</td><td>–</td>\#
        <td>90</td><td>provider</td><td>–</td><td>–</td><td>✘ missing</td></tr>
        <tr class="bad">
        """#))

    let hostileName = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Bob&#39;s&quot;"
    #expect(
      html.contains(
        #"""
        <div class="wide"><table class="reads"><thead><tr><th>Reader</th><th>Action</th><th>Secrets</th>\#
        <th class="num">Keys</th><th class="num">Reads</th><th>Versions</th><th>First</th><th>Last</th></tr></thead>\#
        <tbody><tr><td>alice<br /><span class="muted mono">1:admin</span></td><td class="t">get</td>\#
        <td class="mono">openai/OPENAI_API_KEY</td><td class="num">1</td><td class="num">3</td><td>v2, v3</td>\#
        <td class="t">2026-09-02T08:00:00Z</td><td class="t">2026-11-02T08:00:00Z</td></tr><tr><td>ci<br />\#
        <span class="muted mono">2:\#(hostileName)</span></td><td class="t">run</td><td class="mono">*</td>\#
        <td class="num">5</td><td class="num">40</td><td>–</td><td class="t">2026-09-01T01:00:00Z</td>\#
        <td class="t">2026-11-30T01:00:00Z</td></tr></tbody></table></div></section>
        """#))

    let brokenHTML = ComplianceReportHTML.render(Self.evidence(audit: Self.brokenAudit), toolVersion: "1", verifyCommand: "hotsecrets export verify DIR")
    #expect(
      ComplianceManifest.sha256(Array(brokenHTML.utf8))
        == "60d74ce69ce98c402c44b42faaff696174fd8867e538cb0130c128d0e7e4126a")
    #expect(
      brokenHTML.contains(
        #"""
        <table class="facts"><tbody><tr><th>Chain</th><td class="err"><span class="pill pill-fail">✘ BROKEN</span> \#
        at seq 7: hash does not match &lt;edited&gt; &amp; &quot;more&quot;</td></tr><tr><th>Entries checked</th>\#
        <td>12</td></tr><tr><th>Authenticated</th><td>no: hashes and links only (a chain rewritten with recomputed \#
        hashes would go unnoticed)</td></tr><tr><th>Checkpoints verified</th><td>1 in <span class="mono">\#
        audit/checkpoints</span></td></tr><tr class="bad"><th>Checkpoint error</th><td class="err">✘ \#
        audit/checkpoints line 2: bad signature</td></tr><tr><th>Entries in the period</th><td>42</td></tr><tr>\#
        <th>Head</th><td>seq 321 · <span class="mono hash">\#(String(repeating: "ab", count: 32))</span></td></tr>\#
        </tbody></table></section>
        """#))

    // Offboarding: one exposure still open, one closed by a rotation.
    var removed = Self.evidence().access[1]
    let exposure = Exposure(recipientID: removed.id, name: removed.name, removedAt: removed.removedAt!)
    removed.exposures = [
      ExposureRecord(
        exposure: exposure, address: try SecretAddress(environment: "prod", service: "openai", key: "OPENAI_API_KEY"),
        versions: [1, 2], currentVersion: 2, closedAt: nil),
      ExposureRecord(
        exposure: exposure,
        address: try SecretAddress(environment: "prod", service: "shopify", key: "SHOPIFY_API_SECRET"),
        versions: [1], currentVersion: 2, closedAt: "2026-11-20T09:00:00Z"),
    ]
    let exposed = ComplianceReportHTML.render(Self.evidence(access: [removed]), toolVersion: "1", verifyCommand: "hotsecrets export verify DIR")
    let name = "2 &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Bob&#39;s&quot;"
    #expect(
      exposed.contains(
        #"""
        </h3><div class="wide"><table class="exposures"><thead><tr><th>Recipient</th><th>Removed</th><th>Secret</th>\#
        <th>Versions readable</th><th>Status</th></tr></thead><tbody><tr class="overdue"><td>\#(name)</td>\#
        <td class="t">2026-09-01T00:00:00Z</td><td class="mono">openai/OPENAI_API_KEY</td><td>1, 2</td>\#
        <td>✘ open: rotate it</td></tr><tr><td>\#(name)</td><td class="t">2026-09-01T00:00:00Z</td>\#
        <td class="mono">shopify/SHOPIFY_API_SECRET</td><td>1</td><td>✔ rotated 2026-11-20T09:00:00Z</td></tr>\#
        </tbody></table></div></section>
        """#))
  }
}
