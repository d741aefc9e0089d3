import HotSecretsOperations
import HotSecretsPolicy
import HotSecretsVault
import RemoteAPIs

/// report.html of a compliance bundle: one page for an auditor and a security lead, in report order
/// (header, controls, age chart, overdue secrets, rotation history, access, reads, policy results,
/// mirror drift, audit trail, inventory, how to verify the bundle), each section badged with the
/// SOC 2 criteria it supports (mirror drift, context rather than evidence of a control, with none).
///
/// The page is self-contained and inert: inline CSS and inline SVG (the age chart, in pieces of 25
/// keys so that each prints whole on a page), no script, no link to anything outside the file. It is XHTML-compatible (every element closed, attributes quoted,
/// only the entities `&amp; &lt; &gt; &quot; &#39;`), so an XML parser reads it. Every piece of
/// data passes through one escaping function; characters XML forbids become U+FFFD. It prints
/// the model's fields and nothing else (the model holds no secret value). Equal evidence gives
/// equal bytes.
enum ComplianceReportHTML {
  /// Keys the age chart shows at most: the ones closest to or past their maximum age. The full
  /// list is the inventory (the section and inventory.csv).
  static let chartLimit = 50
  /// Keys per SVG of the chart: each is short enough to print whole on one page.
  private static let chartChunk = 25

  /// The whole page. Renders 1,000 inventory rows and 100 rotations in a few milliseconds.
  /// `verifyCommand` is the command that checks a bundle (`DIR` standing for its folder), shown to
  /// the auditor in the footer.
  static func render(_ evidence: ComplianceEvidence, toolVersion: String, verifyCommand: String) -> String {
    var page = Page()
    page.html.reserveCapacity(
      24_000 + evidence.inventory.count * 420 + evidence.rotations.count * 520 + evidence.access.count * 360
        + evidence.reads.count * 360 + evidence.policyResults.findings.count * 320
        + min(evidence.inventory.count, chartLimit) * 620)
    let controls = evidence.controls
    head(evidence, &page)
    header(evidence, toolVersion: toolVersion, &page)
    controlsSection(controls, &page)
    ageChart(evidence.inventory, &page)
    overdue(evidence.overdue, maxAgeApplies: evidence.maxAgeApplies, &page)
    rotations(evidence.rotations, &page)
    access(evidence.access, periodEnd: evidence.period.until, &page)
    reads(evidence.reads, environment: evidence.environment, &page)
    drills(evidence.drills, &page)
    policy(evidence.policyResults, &page)
    drift(evidence, &page)
    audit(evidence, &page)
    inventory(evidence.inventory, &page)
    footer(evidence, toolVersion: toolVersion, verifyCommand: verifyCommand, &page)
    page.raw("</main></body></html>\n")
    return page.html
  }

  // MARK: - Sections

  private static func head(_ e: ComplianceEvidence, _ p: inout Page) {
    p.raw("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\" />")
    p.raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\" />")
    p.raw("<meta name=\"generator\" content=\"hotsecrets\" /><title>Compliance report — ")
    p.text(e.environment)
    p.raw("</title><style>")
    p.raw(style)
    p.raw("</style></head><body><main>\n")
  }

  private static func header(_ e: ComplianceEvidence, toolVersion: String, _ p: inout Page) {
    p.raw("<header><h1>Compliance report — ")
    p.text(e.environment)
    p.raw("</h1><p class=\"sub\">Secrets inventory, rotation, access and audit evidence for SOC 2 ")
    p.raw("CC6.1, CC7.2, CC8.1 and A1.3.</p>")
    p.table("meta") { t in
      t.row([
        .label("Environment"), .text(e.environment), .label("Period"),
        .custom("t") { p in
          p.text(e.period.since)
          p.raw(" → ")
          p.text(e.period.until)
        },
      ])
      t.row([.label("Vault"), .text(e.vaultID, "mono"), .label("Generated"), .text(e.generatedAt, "t")])
      t.row([
        .label("Policy"), .text(e.policyFile, "mono"), .label("Tool"),
        .custom { p in
          p.raw("hotsecrets ")
          p.text(toolVersion)
        },
      ])
      t.row([
        .label("Audit head"),
        .custom(colspan: 3) { p in
          p.raw("seq ")
          p.int(e.auditHead.seq)
          p.raw(" · <span class=\"mono\" title=\"")
          p.text(e.auditHead.hash)
          p.raw("\">")
          p.text(String(e.auditHead.hash.prefix(12)))
          p.raw("</span>")
        },
      ])
    }
    p.raw("</header>\n")
  }

  private static func controlsSection(_ controls: [ComplianceControl], _ p: inout Page) {
    var criteria: [String] = []
    for control in controls {
      for c in control.criteria where !criteria.contains(c) { criteria.append(c) }
    }
    p.raw("<section id=\"controls\"><h2>Controls")
    badges(criteria.sorted(), &p)
    p.raw("</h2>")
    let applicable = controls.count(where: { $0.status != .notApplicable })
    let passing = controls.count(where: { $0.status == .pass })
    p.raw(passing == applicable ? "<p class=\"overall ok\">" : "<p class=\"overall bad\">")
    p.raw(passing == applicable ? "✔ " : "✘ ")
    p.int(passing)
    p.raw(" of ")
    p.int(controls.count)
    p.raw(" controls pass")
    if applicable < controls.count {
      p.raw("; ")
      p.int(controls.count - applicable)
      p.raw(" not applicable")
    }
    p.raw("</p>")
    p.table("controls", columns: ["Result", "Control", "Detail", "Criteria"]) { t in
      for control in controls {
        let (cls, pill): (Markup, Markup) =
          switch control.status {
          case .pass: ("pass", "<span class=\"pill pill-pass\">✔ PASS</span>")
          case .fail: ("fail", "<span class=\"pill pill-fail\">✘ FAIL</span>")
          case .notApplicable: ("na", "<span class=\"pill pill-na\">– NOT APPLICABLE</span>")
          }
        t.row(
          class: cls,
          [
            .markup(pill), .text(control.title, "title"), .text(control.detail),
            .text(control.criteria.joined(separator: ", "), "t"),
          ])
      }
    }
    p.raw("</section>\n")
  }

  /// Chart geometry, in SVG user units (the chart scales to the page width).
  private enum Chart {
    static let width = 1000
    static let labelRight = 250
    static let plotX = 260
    static let plotWidth = 520
    static let valueX = 796
    static let top = 8
    static let rowHeight = 22
    static let barHeight = 14
    static let axisHeight = 26
    static let labelLimit = 38
  }

  /// An inventory row with an age, and its age / max age (-1 without a max age).
  private typealias AgedRow = (row: InventoryRow, age: Int, ratio: Double)

  private static func ageChart(_ inventory: [InventoryRow], _ p: inout Page) {
    p.raw("<section id=\"ages\"><h2>Secret ages vs max age")
    badges(["CC6.1", "CC8.1"], &p)
    p.raw("</h2>")
    var aged: [AgedRow] = []
    aged.reserveCapacity(inventory.count)
    for row in inventory {
      guard let age = row.ageDays else { continue }
      let ratio: Double
      if let max = row.maxAgeDays {
        ratio = max > 0 ? Double(age) / Double(max) : Double(age) + 1
      } else {
        ratio = -1
      }
      aged.append((row, age, ratio))
    }
    if aged.isEmpty {
      p.raw("<p class=\"none\">No key has an age: the vault holds none of the keys.</p></section>\n")
      return
    }
    aged.sort {
      if $0.ratio != $1.ratio { return $0.ratio > $1.ratio }
      if $0.age != $1.age { return $0.age > $1.age }
      if $0.row.service != $1.row.service { return $0.row.service < $1.row.service }
      return $0.row.key < $1.row.key
    }
    let shown = aged.prefix(chartLimit)
    p.raw("<p class=\"note\">")
    if aged.count > shown.count {
      p.raw("<strong>Showing ")
      p.int(shown.count)
      p.raw(" of ")
      p.int(aged.count)
      p.raw("</strong>, the closest to or past their max age; full list in inventory.csv and in the Inventory ")
      p.raw("section below. ")
    } else {
      p.raw("Every key the vault holds, the closest to or past its max age first. ")
    }
    p.raw("Bar: days since the current version was created. Line: the key’s max age.</p>")

    var longestMax = 0
    var longest = 1
    for item in shown {
      longestMax = max(longestMax, item.row.maxAgeDays ?? 0)
      longest = max(longest, item.age, item.row.maxAgeDays ?? 0)
    }
    // One key years past its max age must not squash every other bar: cut the scale at twice the
    // longest max age and mark the bars that go past it.
    let capped = longestMax > 0 && longest > 2 * longestMax
    let domain = capped ? 2 * longestMax : longest
    let step = tickStep(domain)
    let end = (domain + step - 1) / step * step

    p.raw("<p class=\"legend\"><span class=\"sw sw-ok\"></span>ok <span class=\"sw sw-due\"></span>due soon ")
    p.raw("(max age within 14 days) <span class=\"sw sw-over\"></span>overdue <span class=\"sw sw-none\"></span>")
    p.raw("no max age <span class=\"sw-max\"></span>max age")
    if capped {
      p.raw(" · ▸ cut off at ")
      p.int(end)
      p.raw(" days (the number on the right is exact)")
    }
    p.raw("</p>")
    var first = 0
    while first < shown.count {
      let rows = shown[(shown.startIndex + first)..<min(shown.startIndex + first + chartChunk, shown.endIndex)]
      chartSVG(rows, first: first, total: shown.count, end: end, step: step, &p)
      first += rows.count
    }
    p.raw("</section>\n")
  }

  /// One SVG of the age chart, with its own axis: a printed page holds a whole one.
  private static func chartSVG(
    _ rows: ArraySlice<AgedRow>, first: Int, total: Int, end: Int, step: Int, _ p: inout Page
  ) {
    let x = { (days: Int) -> Int in Chart.plotX + min(days, end) * Chart.plotWidth / end }
    let plotBottom = Chart.top + rows.count * Chart.rowHeight
    let height = plotBottom + Chart.axisHeight
    p.raw("<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-labelledby=\"age-chart-")
    p.int(first + 1)
    p.raw("\" viewBox=\"0 0 ")
    p.int(Chart.width)
    p.raw(" ")
    p.int(height)
    p.raw("\" width=\"")
    p.int(Chart.width)
    p.raw("\" height=\"")
    p.int(height)
    p.raw("\"><title id=\"age-chart-")
    p.int(first + 1)
    p.raw("\">Age of each secret’s current version against its max age, in days (")
    if rows.count == total {
      p.int(total)
      p.raw(total == 1 ? " key)</title>" : " keys)</title>")
    } else {
      p.raw("keys ")
      p.int(first + 1)
      p.raw("–")
      p.int(first + rows.count)
      p.raw(" of ")
      p.int(total)
      p.raw(")</title>")
    }

    // Grid and axis.
    var tick = 0
    while tick <= end {
      let tx = x(tick)
      p.raw("<line class=\"grid\" x1=\"")
      p.int(tx)
      p.raw("\" x2=\"")
      p.int(tx)
      p.raw("\" y1=\"")
      p.int(Chart.top)
      p.raw("\" y2=\"")
      p.int(plotBottom)
      p.raw("\" /><text class=\"tick\" text-anchor=\"middle\" x=\"")
      p.int(tx)
      p.raw("\" y=\"")
      p.int(plotBottom + 16)
      p.raw("\">")
      p.int(tick)
      p.raw(tick == end ? " d</text>" : "</text>")
      tick += step
    }

    for (i, item) in rows.enumerated() {
      let row = item.row
      let y = Chart.top + i * Chart.rowHeight
      let barY = y + (Chart.rowHeight - Chart.barHeight) / 2
      let (kind, suffix): (Markup, Markup) =
        switch (row.status, row.maxAgeDays) {
        case (.overdue, _): ("over", " · overdue")
        case (.dueSoon, _): ("due", " · due soon")
        case (.undeclared, nil): ("none", " · undeclared")
        case (_, nil): ("none", "")
        default: ("ok", "")
        }
      var label = row.service + "/" + row.key
      p.raw("<g><title>")
      p.text(label)
      p.raw(": ")
      p.int(item.age)
      p.raw(" days old, max age ")
      if let max = row.maxAgeDays {
        p.int(max)
        p.raw(" days")
      } else {
        p.raw("none")
      }
      p.raw(" (")
      p.text(row.status.rawValue)
      p.raw(")</title><text class=\"lbl\" text-anchor=\"end\" x=\"")
      p.int(Chart.labelRight)
      p.raw("\" y=\"")
      p.int(barY + 11)
      p.raw("\">")
      if label.count > Chart.labelLimit { label = String(label.prefix(Chart.labelLimit - 1)) + "…" }
      p.text(label)
      p.raw("</text><rect class=\"bar bar-")
      p.raw(kind)
      p.raw("\" x=\"")
      p.int(Chart.plotX)
      p.raw("\" y=\"")
      p.int(barY)
      p.raw("\" width=\"")
      p.int(max(x(item.age) - Chart.plotX, 1))
      p.raw("\" height=\"")
      p.int(Chart.barHeight)
      p.raw("\" />")
      if item.age > end {
        p.raw("<path class=\"bar-")
        p.raw(kind)
        p.raw("\" d=\"M")
        p.int(Chart.plotX + Chart.plotWidth)
        p.raw(" ")
        p.int(barY - 2)
        p.raw("l9 ")
        p.int(Chart.barHeight / 2 + 2)
        p.raw("l-9 ")
        p.int(Chart.barHeight / 2 + 2)
        p.raw("z\" />")
      }
      if let max = row.maxAgeDays {
        let mx = x(max)
        p.raw("<line class=\"max\" x1=\"")
        p.int(mx)
        p.raw("\" x2=\"")
        p.int(mx)
        p.raw("\" y1=\"")
        p.int(y + 1)
        p.raw("\" y2=\"")
        p.int(y + Chart.rowHeight - 1)
        p.raw("\" />")
      }
      p.raw("<text class=\"val val-")
      p.raw(kind)
      p.raw("\" x=\"")
      p.int(Chart.valueX)
      p.raw("\" y=\"")
      p.int(barY + 11)
      p.raw("\">")
      p.int(item.age)
      if let max = row.maxAgeDays {
        p.raw(" / ")
        p.int(max)
        p.raw(" d")
      } else {
        p.raw(" d · no max")
      }
      p.raw(suffix)
      p.raw("</text></g>")
    }
    p.raw("</svg>")
  }

  private static func overdue(_ rows: [InventoryRow], maxAgeApplies: Bool, _ p: inout Page) {
    p.raw("<section id=\"overdue\"><h2>Overdue secrets")
    badges(["CC6.1", "CC8.1"], &p)
    p.raw("</h2>")
    if !maxAgeApplies {
      p.raw("<p class=\"none\">Not applicable: no key has a max age (the policy sets no max_age_days for a ")
      p.raw("secret, nor a default).</p></section>\n")
      return
    }
    if rows.isEmpty {
      p.raw("<p class=\"none\">None: no secret is older than its max age.</p></section>\n")
      return
    }
    p.raw("<p class=\"overall bad\">✘ ")
    p.int(rows.count)
    p.raw(rows.count == 1 ? " secret is" : " secrets are")
    p.raw(" past the max age.</p>")
    let columns: [Column] = [
      "Service", "Key", .num("Version"), "Created", .num("Age (d)"), .num("Max age (d)"), .num("Over by (d)"),
      "Rotation",
    ]
    p.table("overdue", columns: columns) { t in
      for row in rows {
        let over: Int? = if let age = row.ageDays, let max = row.maxAgeDays { age - max } else { nil }
        t.row(
          class: "bad",
          [
            .text(row.service), .text(row.key, "mono"), .int(row.version, "num"), .text(row.createdAt, "t"),
            .int(row.ageDays, "num"), .int(row.maxAgeDays, "num"), .int(over, "num"), .text(row.rotation),
          ])
      }
    }
    p.raw("</section>\n")
  }

  private static func rotations(_ rows: [RotationRow], _ p: inout Page) {
    p.raw("<section id=\"rotations\"><h2>Rotation history")
    badges(["CC8.1"], &p)
    p.raw("</h2>")
    if rows.isEmpty {
      p.raw("<p class=\"none\">No rotation in this period.</p></section>\n")
      return
    }
    var runs = Set<Int64>()
    var bad = 0
    for row in rows {
      runs.insert(row.run)
      if row.result == "failed" || row.result == "rolled-back" { bad += 1 }
    }
    p.raw(bad == 0 ? "<p class=\"summary\">" : "<p class=\"summary bad\">")
    p.int(rows.count)
    p.raw(rows.count == 1 ? " key in " : " keys in ")
    p.int(runs.count)
    p.raw(runs.count == 1 ? " run" : " runs")
    if bad > 0 {
      p.raw("; ✘ ")
      p.int(bad)
      p.raw(" failed or rolled back")
    }
    p.raw(".</p>")
    let columns: [Column] = [
      "Run", "Key", "Started<br />finished", "Result", "Version", "Steps", "Ran by", "Old credential", "Error",
    ]
    p.table("rotations", columns: columns, wide: true) { t in
      for row in rows {
        let (result, mark): (Markup?, Markup) =
          switch row.result {
          case "failed": ("bad", "✘ ")
          case "rolled-back": ("bad", "↺ ")
          case "rotated": (nil, "✔ ")
          default: ("warn", "… ")
          }
        t.row(
          class: result,
          [
            .custom("t") { p in
              p.raw("#")
              p.int(row.run)
              p.raw("<br /><span class=\"muted\">")
              p.text(row.runResult)
              p.raw("</span>")
            },
            .custom { p in
              p.raw("<span class=\"mono\">")
              p.text(row.service)
              p.raw("/")
              p.text(row.key)
              p.raw("</span><br /><span class=\"muted\">")
              p.text(row.mode)
              p.raw("</span>")
            },
            .custom("t") { p in
              p.text(row.startedAt)
              p.raw("<br /><span class=\"muted\">")
              if let finished = row.finishedAt { p.text(finished) } else { p.raw("not finished") }
              p.raw("</span>")
            },
            .custom("res t") { p in
              p.raw(mark)
              p.text(row.result)
            },
            .custom("t") { p in
              p.version(row.oldVersion)
              p.raw(" → ")
              p.version(row.newVersion)
            },
            .text(row.steps.isEmpty ? "–" : row.steps.joined(separator: " → "), "steps"),
            .custom { p in
              p.text(row.ranBy)
              if let recipient = row.recipient {
                p.raw("<br /><span class=\"muted mono\">")
                p.text(recipient)
                p.raw("</span>")
              }
            },
            .text(row.oldCredential), .text(row.error, "err"),
          ])
      }
    }
    p.raw("</section>\n")
  }

  private static func access(_ rows: [AccessRow], periodEnd: String, _ p: inout Page) {
    p.raw("<section id=\"access\"><h2>Access")
    badges(["CC6.1"], &p)
    p.raw("</h2>")
    if rows.isEmpty {
      p.raw("<p class=\"none\">No recipient could unlock the vault in this period.</p></section>\n")
      return
    }
    let removed = rows.count(where: { !$0.isActive(at: periodEnd) })
    p.raw("<p class=\"summary\">")
    p.int(rows.count)
    p.raw(rows.count == 1 ? " recipient" : " recipients")
    p.raw(" could unlock the vault during the period; ")
    p.int(rows.count - removed)
    p.raw(" still can, ")
    p.int(removed)
    p.raw(" removed.</p>")
    let columns: [Column] = [.num("Id"), "Kind", "Name", "Recipient", "Added", "Added by", "Removed", "Removed by"]
    p.table("access", columns: columns, wide: true) { t in
      for row in rows {
        t.row(
          class: row.removedAt == nil ? nil : "removed",
          [
            .int(row.id, "num"), .text(row.kind), .text(row.name),
            .custom("mono") { p in
              if let recipient = row.recipient {
                if recipient.count > 16 {
                  p.raw("<span title=\"")
                  p.text(recipient)
                  p.raw("\">")
                  p.text(String(recipient.prefix(16)) + "…")
                  p.raw("</span>")
                } else {
                  p.text(recipient)
                }
              } else {
                p.raw("–")
              }
            },
            .text(row.addedAt, "t"), .text(row.addedBy),
            .custom("t") { p in
              if let at = row.removedAt {
                p.raw("✘ ")
                p.text(at)
              } else {
                p.raw("–")
              }
            },
            .text(row.removedBy),
          ])
      }
    }
    exposures(rows, &p)
    p.raw("</section>\n")
  }

  /// Offboarding evidence: each secret a removed recipient could have read, and whether it was
  /// rotated since (only rotation takes back what was readable).
  private static func exposures(_ rows: [AccessRow], _ p: inout Page) {
    let exposed = rows.filter { $0.removedAt != nil && !$0.exposures.isEmpty }
    guard !exposed.isEmpty else { return }
    p.raw("<h3 id=\"exposures\">Offboarding: secrets a removed recipient could read")
    badges(["CC6.2", "CC6.3"], &p)
    p.raw("</h3>")
    let columns: [Column] = ["Recipient", "Removed", "Secret", "Versions readable", "Status"]
    p.table("exposures", columns: columns, wide: true) { t in
      for row in exposed {
        for exposure in row.exposures {
          t.row(
            class: exposure.isOpen ? "overdue" : nil,
            [
              .text("\(row.id) \(row.name)"), .text(row.removedAt, "t"),
              .text("\(exposure.address.service)/\(exposure.address.key)", "mono"),
              .text(exposure.versions.map(String.init).joined(separator: ", ")),
              .custom { p in
                if exposure.isOpen {
                  p.raw("✘ open: rotate it")
                } else if let closed = exposure.closedAt {
                  p.raw("✔ rotated ")
                  p.text(closed)
                } else {
                  p.raw("secret removed")
                }
              },
            ])
        }
      }
    }
  }

  /// Who read values of the environment in the period: one row per reader, action and what was
  /// read (reads.csv), never a value.
  private static func reads(_ rows: [ReadRow], environment: String, _ p: inout Page) {
    p.raw("<section id=\"reads\"><h2>Who read which secrets")
    badges(["CC6.1", "CC7.2"], &p)
    p.raw("</h2>")
    if rows.isEmpty {
      p.raw("<p class=\"none\">No value of ")
      p.text(environment)
      p.raw(" was read in this period (no get, run, render or live-check entry in the audit trail).</p>")
      p.raw("</section>\n")
      return
    }
    var readers = Set<String>()
    var total = 0
    for row in rows {
      readers.insert(row.user + "\u{0}" + (row.recipient ?? ""))
      total += row.reads
    }
    p.raw("<p class=\"summary\">")
    p.int(total)
    p.raw(total == 1 ? " read of " : " reads of ")
    p.text(environment)
    p.raw("’s values by ")
    p.int(readers.count)
    p.raw(readers.count == 1 ? " reader" : " readers")
    p.raw(" (user and recipient), from the audit trail. <span class=\"mono\">*</span> is every key of the ")
    p.raw("environment; Keys is the most one read handed out.</p>")
    let columns: [Column] = [
      "Reader", "Action", "Secrets", .num("Keys"), .num("Reads"), "Versions", "First", "Last",
    ]
    p.table("reads", columns: columns, wide: true) { t in
      for row in rows {
        t.row([
          .custom { p in
            p.text(row.user)
            if let recipient = row.recipient {
              p.raw("<br /><span class=\"muted mono\">")
              p.text(recipient)
              p.raw("</span>")
            }
          },
          .text(row.action.rawValue, "t"), .text(row.secrets.joined(separator: ", "), "mono"),
          .int(row.keys, "num"), .int(row.reads, "num"),
          .text(row.versions.isEmpty ? "–" : row.versions.map { "v\($0)" }.joined(separator: ", ")),
          .text(row.firstAt, "t"), .text(row.lastAt, "t"),
        ])
      }
    }
    p.raw("</section>\n")
  }

  /// The restore drills of the period (drills.csv): backups proven to restore.
  private static func drills(_ rows: [DrillRow], _ p: inout Page) {
    p.raw("<section id=\"drills\"><h2>Restore drills")
    badges(["A1.3"], &p)
    p.raw("</h2>")
    if rows.isEmpty {
      p.raw("<p class=\"none\">No restore drill in this period (no drill entry in the audit trail).</p></section>\n")
      return
    }
    p.raw("<p class=\"summary\">Each drill restored a backup to a temporary place, checked its signed manifest, ")
    p.raw("decrypted every stored value, verified the audit chain and compared the policy check with the live vault.</p>")
    let columns: [Column] = ["Time", "By", "Result", "Backup (SHA-256)", "Backup taken", "Failed checks", .num("Values")]
    p.table("drills", columns: columns, wide: true) { t in
      for row in rows {
        t.row([
          .text(row.time, "t"), .text(row.user + (row.recipient.map { " (\($0))" } ?? "")),
          .text(row.result, row.result == "passed" ? "ok" : "bad"),
          .text(row.backupSHA256.map { String($0.prefix(16)) + "…" } ?? "–", "mono"),
          .text(row.backupCreatedAt ?? "–", "t"),
          .text(row.failedChecks.isEmpty ? "–" : row.failedChecks.joined(separator: ", ")),
          .int(row.valuesDecrypted ?? 0, "num"),
        ])
      }
    }
    p.raw("</section>\n")
  }

  private static func policy(_ results: VerifyReportJSON, _ p: inout Page) {
    p.raw("<section id=\"policy\"><h2>Policy results")
    badges(["CC6.1", "CC7.2"], &p)
    p.raw("</h2>")
    p.raw(results.passed ? "<p class=\"overall ok\">✔ PASSED" : "<p class=\"overall bad\">✘ FAILED")
    p.raw("</p><p class=\"summary\"><span class=\"mono\">verify ")
    p.text(results.environment)
    p.raw("</span> against <span class=\"mono\">")
    p.text(results.policy)
    p.raw("</span> at export time (no network checks): ")
    p.int(results.summary.passed)
    p.raw(" checks passed, ")
    p.int(results.summary.failed)
    p.raw(" failed, ")
    p.int(results.summary.warnings)
    p.raw(results.summary.warnings == 1 ? " warning.</p>" : " warnings.</p>")
    if results.findings.isEmpty {
      p.raw("<p class=\"none\">No findings.</p></section>\n")
      return
    }
    p.table("findings", columns: ["Service", "Key", "Check", "Severity", "Message"]) { t in
      for finding in results.findings {
        let severity: Markup? =
          switch finding.severity {
          case "error": "bad"
          case "warning": "warn"
          default: nil
          }
        t.row(
          class: severity,
          [
            .text(finding.service), .text(finding.key, "mono"), .text(finding.check), .text(finding.severity, "sev"),
            .text(finding.message, "msg"),
          ])
      }
    }
    p.raw("</section>\n")
  }

  /// The policy results' drift findings, apart from the controls: the mirror is a plaintext
  /// working copy on the machine that made the bundle, so what it shows is context, not a control
  /// of the environment (docs/compliance.md, "Mirror drift").
  private static func drift(_ e: ComplianceEvidence, _ p: inout Page) {
    p.raw("<section id=\"drift\"><h2>Mirror drift <span class=\"muted\">(not a control)</span></h2>")
    p.raw("<p class=\"note\">The mirror is the git-ignored plaintext working copy of the secrets on the machine ")
    p.raw("that made this bundle. Deployments and rotations take values from the vault, never from the mirror, ")
    p.raw("so a difference says what has not yet been taken into the vault (a file edit, not yet in the audit ")
    p.raw("trail) or not yet written out to the files; it says nothing about what runs in production and is ")
    p.raw("mapped to no control. The same findings are in the policy results above.</p>")
    guard let folder = e.mirrorChecked else {
      p.raw("<p class=\"none\">Not checked: there was no mirror folder where the bundle was made.</p></section>\n")
      return
    }
    let findings = e.drift
    if findings.isEmpty {
      p.raw("<p class=\"none\">None: the files in <span class=\"mono\">")
      p.text(folder)
      p.raw("</span> match the vault.</p></section>\n")
      return
    }
    p.raw("<p class=\"summary\">")
    p.int(findings.count)
    p.raw(findings.count == 1 ? " key differs" : " keys differ")
    p.raw(" between <span class=\"mono\">")
    p.text(folder)
    p.raw("</span> and the vault.</p>")
    p.table("drift", columns: ["Service", "Key", "Difference"]) { t in
      for finding in findings {
        t.row([.text(finding.service), .text(finding.key, "mono"), .text(finding.message, "msg")])
      }
    }
    p.raw("</section>\n")
  }

  private static func audit(_ e: ComplianceEvidence, _ p: inout Page) {
    let v = e.auditVerification
    p.raw("<section id=\"audit\"><h2>Audit trail")
    badges(["CC7.2"], &p)
    p.raw("</h2>")
    p.table("facts") { t in
      if v.intact {
        t.fact(
          "Chain",
          .custom { p in
            p.raw("<span class=\"pill pill-pass\">✔ INTACT</span> hashes, links")
            p.raw(v.authenticated ? " and MACs check" : " check")
          })
      } else {
        t.fact(
          "Chain",
          .custom("err") { p in
            p.raw("<span class=\"pill pill-fail\">✘ BROKEN</span> ")
            if let seq = v.firstBadSeq {
              p.raw("at seq ")
              p.int(seq)
              p.raw(": ")
            }
            p.optionalText(v.reason)
          })
      }
      t.fact("Entries checked", .int(v.entries))
      t.fact(
        "Authenticated",
        .markup(
          v.authenticated
            ? "yes: every entry’s MAC was checked with the vault’s key"
            : "no: hashes and links only (a chain rewritten with recomputed hashes would go unnoticed)"))
      t.fact(
        "Checkpoints verified",
        .custom { p in
          p.int(v.checkpoints)
          p.raw(" in <span class=\"mono\">")
          p.text(e.checkpointsFile)
          p.raw("</span>")
        })
      if let error = v.checkpointError {
        t.fact(
          "Checkpoint error",
          .custom("err") { p in
            p.raw("✘ ")
            p.text(error)
          }, class: "bad")
      }
      t.fact("Entries in the period", .int(e.auditEntriesInPeriod))
      t.fact(
        "Head",
        .custom { p in
          p.raw("seq ")
          p.int(e.auditHead.seq)
          p.raw(" · <span class=\"mono hash\">")
          p.text(e.auditHead.hash)
          p.raw("</span>")
        })
    }
    p.raw("</section>\n")
  }

  private static func inventory(_ rows: [InventoryRow], _ p: inout Page) {
    p.raw("<section id=\"inventory\"><h2>Inventory")
    badges(["CC6.1"], &p)
    p.raw("</h2><p class=\"summary\">")
    p.int(rows.count)
    p.raw(rows.count == 1 ? " key" : " keys")
    var counts = [Int](repeating: 0, count: InventoryRow.Status.allCases.count)
    for row in rows { counts[InventoryRow.Status.allCases.firstIndex(of: row.status)!] += 1 }
    for (i, status) in InventoryRow.Status.allCases.enumerated() where counts[i] > 0 {
      p.raw(i == 0 ? ": " : ", ")
      p.int(counts[i])
      p.raw(" ")
      p.raw(statusWord(status, marked: false))
    }
    p.raw(".</p>")
    if rows.isEmpty {
      p.raw("<p class=\"none\">The policy declares no key and the vault holds none.</p></section>\n")
      return
    }
    // Compact rows (the inventory is the evidence and may run to thousands): column alignment
    // and fonts come from the table's CSS, not from per-cell classes.
    let columns: [Column] = [
      "Service", "Key", "Secret", "Required", "Version", "Created", "Age (d)", "Max age (d)", "Rotation", "Targets",
      "Fingerprint", "Status",
    ]
    p.table("inv", columns: columns, wide: true, lines: true) { t in
      for row in rows {
        t.row(
          class: rowClass(row.status),
          [
            .text(row.service), .text(row.key), .markup(row.secret ? "yes" : "no"),
            .markup(row.required ? "yes" : "no"),
            .int(row.version), .text(row.createdAt), .int(row.ageDays), .int(row.maxAgeDays), .text(row.rotation),
            .text(row.targets.isEmpty ? "–" : row.targets.joined(separator: ", ")), .text(row.fingerprintPrefix),
            .markup(statusWord(row.status, marked: true)),
          ])
      }
    }
    p.raw("</section>\n")
  }

  private static func footer(_ e: ComplianceEvidence, toolVersion: String, verifyCommand: String, _ p: inout Page) {
    p.raw("<footer id=\"verify\"><h2>Verifying this bundle</h2><p>This page is one file of a signed bundle. ")
    p.raw("To check that no file of the bundle was changed, run</p><pre>")
    p.text(verifyCommand)
    p.raw("</pre>")
    p.raw("<p>on the bundle’s folder. Without hotsecrets: <code>sha256sum -c SHA256SUMS</code> in the bundle’s ")
    p.raw("folder checks every file; check that its digests are the ones listed in <code>manifest.json</code>, ")
    p.raw("then check the Ed25519 signature in ")
    p.raw("<code>manifest.sig</code> over <code>manifest.json</code> with the public key in <code>signer.pub</code> ")
    p.raw("(docs/compliance.md shows the commands).</p><p class=\"muted\">Generated by hotsecrets ")
    p.text(toolVersion)
    p.raw(" at ")
    p.text(e.generatedAt)
    p.raw(" for vault <span class=\"mono\">")
    p.text(e.vaultID)
    p.raw("</span>. No secret value is in this bundle: names, versions, dates, fingerprint prefixes and the ")
    p.raw("audit trail only.</p></footer>\n")
  }

  // MARK: - Pieces

  private static func badges(_ criteria: [String], _ p: inout Page) {
    p.raw("<span class=\"crits\">")
    for c in criteria {
      p.raw("<span class=\"crit\" title=\"SOC 2 ")
      p.text(c)
      switch c {
      case "CC6.1": p.raw(": logical access security")
      case "CC7.2": p.raw(": monitoring of system components")
      case "CC8.1": p.raw(": change management")
      case "A1.3": p.raw(": recovery plan testing")
      default: break
      }
      p.raw("\">")
      p.text(c)
      p.raw("</span>")
    }
    p.raw("</span>")
  }

  /// A status as the page words it; `marked` puts ✘ before the ones a control fails on.
  private static func statusWord(_ status: InventoryRow.Status, marked: Bool) -> Markup {
    switch status {
    case .ok: "ok"
    case .dueSoon: "due soon"
    case .overdue: marked ? "✘ overdue" : "overdue"
    case .missing: marked ? "✘ missing" : "missing"
    case .absent: "absent"
    case .undeclared: marked ? "✘ undeclared" : "undeclared"
    case .management: "management token"
    }
  }

  /// The class of an inventory row (none for ok).
  private static func rowClass(_ status: InventoryRow.Status) -> Markup? {
    switch status {
    case .ok: nil
    case .dueSoon: "warn"
    case .overdue, .missing, .undeclared: "bad"
    case .absent, .management: "muted"
    }
  }

  /// A round step for the age axis: at most about six ticks.
  private static func tickStep(_ domain: Int) -> Int {
    for step in [1, 2, 5, 10, 15, 20, 30, 60, 90, 180, 365, 730, 1825, 3650] where domain <= step * 6 {
      return step
    }
    return (domain + 5) / 6
  }

  /// Markup written by this file: only string literals convert to it, so data cannot reach the page
  /// without `Page.text`.
  private struct Markup: ExpressibleByStringLiteral {
    let value: String
    init(stringLiteral value: String) { self.value = value }
  }

  private struct Page {
    var html = ""

    mutating func raw(_ markup: Markup) { html.append(markup.value) }

    mutating func int<I: BinaryInteger>(_ n: I) { html.append(String(n)) }

    mutating func optionalInt(_ n: Int?) {
      if let n { html.append(String(n)) } else { html.append("–") }
    }

    /// `v3`, or `–` when there is none.
    mutating func version(_ n: Int?) {
      if let n { html.append("v" + String(n)) } else { html.append("–") }
    }

    mutating func optionalText(_ s: String?) {
      if let s { text(s) } else { html.append("–") }
    }

    /// The one escaping function: `& < > " '` become entities (safe in text and in quoted
    /// attributes); characters XML 1.0 forbids (controls other than tab and line breaks, U+FFFE,
    /// U+FFFF) become U+FFFD.
    mutating func text(_ s: String) {
      // Fast path: most names need nothing. 0xEF leads the UTF-8 of U+F000…U+FFFF, U+FFFE/U+FFFF among them.
      let plain = !s.utf8.contains { byte in
        switch byte {
        case 0x09, 0x0A, 0x0D: false
        case 0..<0x20, 0x22, 0x26, 0x27, 0x3C, 0x3E, 0xEF: true
        default: false
        }
      }
      if plain {
        html.append(s)
        return
      }
      for scalar in s.unicodeScalars {
        switch scalar {
        case "&": html.append("&amp;")
        case "<": html.append("&lt;")
        case ">": html.append("&gt;")
        case "\"": html.append("&quot;")
        case "'": html.append("&#39;")
        case "\t", "\n", "\r": html.unicodeScalars.append(scalar)
        case _ where scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF:
          html.append("\u{FFFD}")
        default: html.unicodeScalars.append(scalar)
        }
      }
    }

    /// `<table class="…">` with a header row of `columns` (none for a facts table), the rows `body`
    /// writes, and the closing tags. `wide` puts the table in a `<div class="wide">` that scrolls
    /// sideways; `lines` puts a line break after the header and after each row.
    mutating func table(
      _ cls: Markup, columns: [Column] = [], wide: Bool = false, lines: Bool = false, _ body: (inout Rows) -> Void
    ) {
      if wide { raw("<div class=\"wide\">") }
      open("<table>", "<table", class: cls)
      if !columns.isEmpty {
        raw("<thead><tr>")
        for column in columns {
          open("<th>", "<th", class: column.cls)
          raw(column.header)
          raw("</th>")
        }
        raw("</tr></thead>")
      }
      raw(lines ? "<tbody>\n" : "<tbody>")
      var rows = Rows(lines: lines)
      swap(&self, &rows.page)
      body(&rows)
      swap(&self, &rows.page)
      raw(wide ? "</tbody></table></div>" : "</tbody></table>")
    }

    /// A start tag: `bare` (`<td>`) when there is no attribute, else `start` (`<td`), ` class="…"` and
    /// ` colspan="…"` as given, and `>`. A bare tag is one append: the inventory has thousands of cells.
    mutating func open(_ bare: Markup, _ start: Markup, class cls: Markup? = nil, colspan: Int? = nil) {
      guard cls != nil || colspan != nil else { return raw(bare) }
      raw(start)
      if let cls {
        raw(" class=\"")
        raw(cls)
        raw("\"")
      }
      if let colspan {
        raw(" colspan=\"")
        int(colspan)
        raw("\"")
      }
      raw(">")
    }
  }

  // MARK: - Tables

  /// A column of a table: its header (markup: a name, at most a `<br />`) and the header cell's
  /// class. The cells of the column carry their own classes.
  private struct Column: ExpressibleByStringLiteral {
    let header: Markup
    let cls: Markup?

    init(_ header: Markup, class cls: Markup? = nil) {
      self.header = header
      self.cls = cls
    }

    init(stringLiteral value: String) { self.init(Markup(stringLiteral: value)) }

    /// A column of numbers (right-aligned).
    static func num(_ header: Markup) -> Column { Column(header, class: "num") }
  }

  /// One cell of a row: a `<td>` (a `<th>` for a label) with an optional class, holding escaped
  /// text, markup this file wrote, or what a closure writes with the page's own functions.
  private struct Cell {
    enum Content {
      case text(String)
      case markup(Markup)
      case written((inout Page) -> Void)
    }

    var label = false
    var cls: Markup?
    var colspan: Int?
    let content: Content

    /// Escaped text; `–` for nil.
    static func text(_ s: String?, _ cls: Markup? = nil) -> Cell {
      Cell(cls: cls, content: s.map { .text($0) } ?? .markup("–"))
    }

    /// A number; `–` for nil.
    static func int<I: BinaryInteger>(_ n: I?, _ cls: Markup? = nil) -> Cell {
      Cell(cls: cls, content: n.map { .text(String($0)) } ?? .markup("–"))
    }

    static func markup(_ markup: Markup, _ cls: Markup? = nil) -> Cell { Cell(cls: cls, content: .markup(markup)) }

    /// The `<th>` that names a row of a facts table.
    static func label(_ markup: Markup) -> Cell { Cell(label: true, content: .markup(markup)) }

    /// A cell of several pieces: `write` writes them between the tags.
    static func custom(_ cls: Markup? = nil, colspan: Int? = nil, _ write: @escaping (inout Page) -> Void) -> Cell {
      Cell(cls: cls, colspan: colspan, content: .written(write))
    }
  }

  /// The rows of a table being written (`Page.table`): the page itself for that time.
  private struct Rows {
    var page = Page()
    /// A line break after each row.
    let lines: Bool

    mutating func row(class cls: Markup? = nil, _ cells: [Cell]) {
      page.open("<tr>", "<tr", class: cls)
      for cell in cells {
        page.open(cell.label ? "<th>" : "<td>", cell.label ? "<th" : "<td", class: cell.cls, colspan: cell.colspan)
        switch cell.content {
        case .text(let s): page.text(s)
        case .markup(let markup): page.raw(markup)
        case .written(let write): write(&page)
        }
        page.raw(cell.label ? "</th>" : "</td>")
      }
      page.raw(lines ? "</tr>\n" : "</tr>")
    }

    /// A row of a facts table: `<th>label</th>` and the value's cell.
    mutating func fact(_ label: Markup, _ value: Cell, class cls: Markup? = nil) {
      row(class: cls, [.label(label), value])
    }
  }

  private static let style: Markup = """
    :root{color-scheme:light}
    *{box-sizing:border-box}
    html{background:#fff}
    body{margin:0;padding:28px 32px 40px;color:#1f2933;background:#fff;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans","Liberation Sans",sans-serif;-webkit-print-color-adjust:exact;print-color-adjust:exact}
    main{max-width:1240px;margin:0 auto}
    h1{font-size:26px;line-height:1.2;margin:0 0 4px}
    h2{font-size:18px;margin:34px 0 10px;padding-bottom:5px;border-bottom:2px solid #d9e2ec;break-after:avoid}
    p{margin:6px 0}
    .sub{color:#52606d;margin:0 0 14px}
    .crits{margin-left:10px;vertical-align:middle}
    .crit{display:inline-block;margin-right:5px;padding:1px 7px;border:1px solid #9fb3c8;border-radius:10px;background:#eef3f8;color:#243b53;font-size:11px;font-weight:600;letter-spacing:.02em;vertical-align:middle}
    table{border-collapse:collapse;width:100%;font-size:13px;margin:8px 0}
    th,td{padding:5px 8px;text-align:left;vertical-align:top;border-bottom:1px solid #e4e7eb}
    thead th{background:#f0f4f8;border-bottom:2px solid #bcccdc;font-weight:600;white-space:nowrap}
    thead{display:table-header-group}
    tr{break-inside:avoid}
    tbody tr:nth-child(even){background:#f9fafb}
    .meta{width:auto;min-width:60%}
    .meta th{background:none;color:#52606d;font-weight:600;white-space:nowrap;border-bottom:1px solid #e4e7eb}
    .meta td{padding-right:28px}
    .facts th{width:200px;color:#52606d;font-weight:600;white-space:nowrap}
    .num{text-align:right;font-variant-numeric:tabular-nums}
    .t{white-space:nowrap}
    .mono,code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono","Liberation Mono",monospace;font-size:12px}
    .hash{word-break:break-all}
    .muted{color:#7b8794}
    pre{background:#f0f4f8;border:1px solid #d9e2ec;border-radius:4px;padding:8px 12px;white-space:pre-wrap}
    code{background:#f0f4f8;padding:0 3px;border-radius:3px}
    .note,.legend{color:#3e4c59;font-size:13px}
    .none{color:#3e4c59;font-style:italic}
    .overall{font-size:16px;font-weight:700;margin:8px 0}
    .overall.ok{color:#1b5e20}
    .overall.bad,.summary.bad{color:#b71c1c}
    .summary.bad{font-weight:600}
    .pill{display:inline-block;padding:1px 8px;border-radius:4px;font-weight:700;font-size:12px;letter-spacing:.04em;white-space:nowrap}
    .pill-pass{background:#e3f4e8;color:#14532d;border:1px solid #81c995}
    .pill-fail{background:#c62828;color:#fff;border:1px solid #8e0000}
    .pill-na{background:#eef2f6;color:#52606d;border:1px solid #bcccdc}
    tr.na td{color:#52606d}
    .controls .title{font-weight:600;white-space:nowrap}
    tr.fail td{background:#fdecec}
    tr.fail td:first-child{box-shadow:inset 4px 0 0 #c62828}
    tr.bad td{background:#fdf1f1}
    tr.bad td:first-child{box-shadow:inset 3px 0 0 #c62828}
    tr.warn td{background:#fff8e6}
    tr.warn td:first-child{box-shadow:inset 3px 0 0 #d99a00}
    tr.bad .res,tr.bad .sev,.err{color:#a31515;font-weight:600}
    tr.warn .sev{color:#8a5a00;font-weight:600}
    .res{font-weight:600}
    .steps{font-size:12px;color:#3e4c59;min-width:190px}
    .err,.msg{overflow-wrap:anywhere}
    .rotations .err{min-width:150px}
    tr.removed td{color:#616e7c}
    tr.removed td:nth-child(7){color:#a31515;font-weight:600}
    .legend .sw{display:inline-block;width:12px;height:12px;margin:0 4px 0 10px;vertical-align:-1px;border-radius:2px}
    .legend .sw:first-child{margin-left:0}
    .sw-ok{background:#43a047}.sw-due{background:#f0a500}.sw-over{background:#d32f2f}.sw-none{background:#a0aec0}
    .sw-max{display:inline-block;width:3px;height:15px;margin:0 5px 0 12px;vertical-align:-3px;background:#1f2933}
    .chart{display:block;width:100%;max-width:1100px;height:auto;margin:0;break-inside:avoid}
    .chart text{font-size:12px;fill:#1f2933}
    .chart .tick{fill:#616e7c;font-size:11px}
    .chart .grid{stroke:#e4e7eb;stroke-width:1}
    .chart .max{stroke:#1f2933;stroke-width:2.5}
    .bar-ok{fill:#43a047}.bar-due{fill:#f0a500}.bar-over{fill:#d32f2f}.bar-none{fill:#a0aec0}
    .chart .val-over{fill:#b71c1c;font-weight:700}
    .chart .val-due{fill:#8a5a00;font-weight:600}
    .inv{font-size:12px}
    .inv td{padding:3px 6px}
    .inv th{padding:5px 6px}
    .inv td:nth-child(2),.inv td:nth-child(11){font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono","Liberation Mono",monospace;font-size:11.5px}
    .inv td:nth-child(5),.inv td:nth-child(7),.inv td:nth-child(8),.inv th:nth-child(5),.inv th:nth-child(7),.inv th:nth-child(8){text-align:right;font-variant-numeric:tabular-nums}
    .inv td:nth-child(6),.inv td:nth-child(12){white-space:nowrap}
    .inv td:nth-child(10){font-size:11.5px;color:#3e4c59}
    .inv tr.bad td:nth-child(12){color:#a31515;font-weight:700}
    .inv tr.warn td:nth-child(12){color:#8a5a00;font-weight:600}
    .inv tr.muted td{color:#7b8794}
    footer{margin-top:40px;padding-top:4px;font-size:13px;color:#3e4c59}
    .wide{overflow-x:auto}
    @page{size:landscape;margin:12mm}
    @media print{
    body{padding:0;font-size:10pt}
    main{max-width:none}
    h2{margin-top:22px}
    table{font-size:8.5pt}
    th,td{padding:3px 5px}
    thead th{white-space:normal}
    .mono,code,pre{font-size:7.5pt}
    .steps,.rotations .err{min-width:0}
    .wide{overflow:visible}
    .inv{font-size:8pt}
    .inv td:nth-child(2),.inv td:nth-child(11){font-size:7.5pt}
    .chart{max-width:none}
    }

    """
}
