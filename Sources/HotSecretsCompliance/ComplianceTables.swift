/// The CSV files of a compliance bundle (columns explained in docs/compliance.md).
///
/// RFC 4180: a header row, comma separated, CRLF line ends, a field quoted when it holds a comma,
/// quote, CR or LF (quotes doubled). Empty field = no value. Lists inside a field are separated by
/// `;`. A text field that starts with `=`, `+`, `-`, `@`, tab or CR gets a leading `'` so that a
/// spreadsheet shows it rather than running it as a formula (OWASP's CSV-injection advice).
enum ComplianceTables {
  static let inventoryHeader = [
    "service", "key", "secret", "required", "declared", "current_version", "created_at", "age_days", "max_age_days",
    "rotation", "targets", "fingerprint_prefix", "status",
  ]
  static let rotationsHeader = [
    "run", "service", "key", "mode", "started_at", "finished_at", "result", "run_result", "old_version",
    "new_version", "steps", "ran_by", "recipient", "old_credential", "error",
  ]
  static let accessHeader = [
    "recipient_id", "kind", "name", "recipient", "added_at", "added_by", "removed_at", "removed_by",
    "active_at_end", "exposed_secrets", "exposed_open", "exposures_closed_at",
  ]

  static let readsHeader = [
    "user", "recipient", "action", "secrets", "keys", "reads", "versions", "first_at", "last_at",
  ]

  static let drillsHeader = [
    "time", "user", "recipient", "result", "backup_sha256", "backup_created_at", "failed_checks", "values_decrypted",
  ]

  /// One row per restore drill of the period, oldest first.
  static func drills(_ rows: [DrillRow]) -> String {
    var csv = CSV(header: drillsHeader)
    for r in rows {
      csv.row([
        .text(r.time), .text(r.user), .text(r.recipient), .text(r.result), .text(r.backupSHA256),
        .text(r.backupCreatedAt), .text(r.failedChecks.joined(separator: ";")), .number(r.valuesDecrypted),
      ])
    }
    return csv.text
  }

  static func inventory(_ rows: [InventoryRow]) -> String {
    var csv = CSV(header: inventoryHeader)
    for r in rows {
      csv.row([
        .text(r.service), .text(r.key), .yesNo(r.secret), .yesNo(r.required), .yesNo(r.declared),
        .number(r.version), .text(r.createdAt), .number(r.ageDays), .number(r.maxAgeDays), .text(r.rotation),
        .text(r.targets.joined(separator: ";")), .text(r.fingerprintPrefix), .text(r.status.rawValue),
      ])
    }
    return csv.text
  }

  static func rotations(_ rows: [RotationRow]) -> String {
    var csv = CSV(header: rotationsHeader)
    for r in rows {
      csv.row([
        .number(Int(r.run)), .text(r.service), .text(r.key), .text(r.mode), .text(r.startedAt), .text(r.finishedAt),
        .text(r.result), .text(r.runResult), .number(r.oldVersion), .number(r.newVersion),
        .text(r.steps.joined(separator: ";")), .text(r.ranBy), .text(r.recipient), .text(r.oldCredential),
        .text(r.error),
      ])
    }
    return csv.text
  }

  /// `active_at_end`: whether the recipient could still unlock at the period's end. `exposed_secrets`:
  /// how many of the environment's secrets a removed recipient could have read; `exposed_open`: how
  /// many of those still have such a value current; `exposures_closed_at`: when the last was rotated.
  static func access(_ rows: [AccessRow], period: CompliancePeriod) -> String {
    var csv = CSV(header: accessHeader)
    for r in rows {
      csv.row([
        .number(Int(r.id)), .text(r.kind), .text(r.name), .text(r.recipient), .text(r.addedAt), .text(r.addedBy),
        .text(r.removedAt), .text(r.removedBy), .yesNo(r.isActive(at: period.until)),
        .number(r.removedAt == nil ? nil : r.exposures.count), .number(r.removedAt == nil ? nil : r.openExposures),
        .text(r.exposuresClosedAt),
      ])
    }
    return csv.text
  }

  /// One row per reader (user and recipient), action and what was read, in the period: how many
  /// times and when first and last. `secrets` is `SERVICE/KEY`, `*` (every key of the environment)
  /// or `SERVICE/*` names; `keys` the most keys one of those reads handed out.
  static func reads(_ rows: [ReadRow]) -> String {
    var csv = CSV(header: readsHeader)
    for r in rows {
      csv.row([
        .text(r.user), .text(r.recipient), .text(r.action.rawValue), .text(r.secrets.joined(separator: ";")),
        .number(r.keys), .number(r.reads), .text(r.versions.map(String.init).joined(separator: ";")),
        .text(r.firstAt), .text(r.lastAt),
      ])
    }
    return csv.text
  }
}

/// An RFC 4180 CSV being built.
struct CSV {
  enum Field {
    case text(String?)
    case number(Int?)
    case yesNo(Bool)
  }

  private(set) var text = ""

  init(header: [String]) {
    text.reserveCapacity(64 * 1024)
    append(header.map { .text($0) })
  }

  mutating func row(_ fields: [Field]) { append(fields) }

  private mutating func append(_ fields: [Field]) {
    for (i, field) in fields.enumerated() {
      if i > 0 { text += "," }
      switch field {
      case .number(let n): if let n { text += String(n) }
      case .yesNo(let b): text += b ? "yes" : "no"
      case .text(let s): if let s { appendText(s) }
      }
    }
    text += "\r\n"
  }

  private mutating func appendText(_ raw: String) {
    var s = raw
    if let first = s.utf8.first,
      [UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@"), 9, 13]
        .contains(first)
    {
      s = "'" + s
    }
    if s.utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 10 || $0 == 13 }) {
      text += "\""
      for c in s.unicodeScalars {
        if c == "\"" { text += "\"\"" } else { text.unicodeScalars.append(c) }
      }
      text += "\""
    } else {
      text += s
    }
  }
}
