import GRDB
import HotSecretsModel

extension SQLiteTransaction: AuditRepository {
  func head() throws -> (seq: Int64, hash: String)? {
    try Row.fetchOne(db.cachedStatement(sql: "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"))
      .map { ($0[0], $0[1]) }
  }

  func append(_ entry: AuditEntry) throws {
    try db.cachedStatement(
      sql: """
        INSERT INTO audit_log (seq, time, actor_user, actor_recipient, action, subject, version, fingerprint, detail, prev_hash, hash, mac)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """
    ).execute(arguments: [
      entry.seq, entry.time, entry.actorUser, entry.actorRecipient, entry.action, entry.subject, entry.version,
      entry.fingerprint, entry.detail, entry.prevHash, entry.hash, entry.mac,
    ])
  }

  func scan(after seq: Int64, _ visit: (AuditEntry) throws -> Bool) throws {
    // Positional columns: this loop runs once per entry of chains of 100,000 and more.
    let cursor = try Row.fetchCursor(
      db,
      sql: """
        SELECT seq, time, actor_user, actor_recipient, action, subject, version, fingerprint, detail,
               prev_hash, hash, mac FROM audit_log WHERE seq > ? ORDER BY seq
        """, arguments: [seq])
    while let row = try cursor.next() {
      let entry = AuditEntry(
        seq: row[0], time: row[1], actorUser: row[2], actorRecipient: row[3], action: row[4], subject: row[5],
        version: row[6], fingerprint: row[7], detail: row[8], prevHash: row[9], hash: row[10], mac: row[11])
      guard try visit(entry) else { return }
    }
  }

  func hash(seq: Int64) throws -> String? {
    try String.fetchOne(db.cachedStatement(sql: "SELECT hash FROM audit_log WHERE seq = ?"), arguments: [seq])
  }
}
