import Foundation
import HotSecretsModel

extension PostgresTransaction: VaultHeaderRepository, SigningKeyRepository, AuditRepository, PushLedgerRepository {
  // MARK: - Header

  func read() throws -> VaultMetaRecord? {
    try first(
      "SELECT id, vault_id, format, created_at, key_check, epoch, keyring_nonce, keyring FROM vault_meta LIMIT 1"
    ) { r, i in
      var header = VaultMetaRecord(
        vaultID: try r.required(i, 1), format: try r.requiredInt(i, 2), createdAt: try r.required(i, 3),
        keyCheck: try r.required(i, 4))
      header.id = try r.requiredInt(i, 0)
      header.epoch = r.int(i, 5) ?? 0
      header.keyringNonce = r.bytes(i, 6)
      header.keyring = r.bytes(i, 7)
      return header
    }
  }

  func insert(_ header: VaultMetaRecord) throws {
    try run(
      """
      INSERT INTO vault_meta (id, vault_id, format, created_at, key_check, epoch, keyring_nonce, keyring)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
      """,
      [
        .int(Int64(header.id)), .text(header.vaultID), .int(Int64(header.format)), .text(header.createdAt),
        .text(header.keyCheck), .int(Int64(header.epoch)), .optional(header.keyringNonce), .optional(header.keyring),
      ])
  }

  func epoch() throws -> Int {
    try first("SELECT epoch FROM vault_meta WHERE id = 1") { r, i in r.int(i, 0) ?? 0 } ?? 0
  }

  func setKeys(epoch: Int, keyringNonce: [UInt8], keyring: [UInt8], keyCheck: String) throws {
    try run(
      "UPDATE vault_meta SET epoch = $1, keyring_nonce = $2, keyring = $3, key_check = $4 WHERE id = 1",
      [.int(Int64(epoch)), .bytes(keyringNonce), .bytes(keyring), .text(keyCheck)])
  }

  func recipientsMAC() throws -> Data? {
    try first("SELECT recipients_mac FROM vault_meta WHERE id = 1") { r, i in r.bytes(i, 0).map { Data($0) } } ?? nil
  }

  func setRecipientsMAC(_ mac: [UInt8]) throws {
    try run("UPDATE vault_meta SET recipients_mac = $1 WHERE id = 1", [.bytes(mac)])
  }

  // MARK: - Signing key

  func read() throws -> SigningKeyRecord? {
    try first("SELECT id, public_key, nonce, ciphertext, created_at FROM signing_key WHERE id = 1") { r, i in
      var record = SigningKeyRecord(
        publicKey: try r.required(i, 1), nonce: r.bytes(i, 2) ?? [], ciphertext: r.bytes(i, 3) ?? [],
        createdAt: try r.required(i, 4))
      record.id = try r.requiredInt(i, 0)
      return record
    }
  }

  func insert(_ record: SigningKeyRecord) throws {
    try run(
      "INSERT INTO signing_key (id, public_key, nonce, ciphertext, created_at) VALUES ($1, $2, $3, $4, $5)",
      [
        .int(Int64(record.id)), .text(record.publicKey), .bytes(record.nonce), .bytes(record.ciphertext),
        .text(record.createdAt),
      ])
  }

  func reseal(nonce: [UInt8], ciphertext: [UInt8]) throws {
    try run("UPDATE signing_key SET nonce = $1, ciphertext = $2 WHERE id = 1", [.bytes(nonce), .bytes(ciphertext)])
  }

  // MARK: - Audit

  func head() throws -> (seq: Int64, hash: String)? {
    try first("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1") { r, i in
      (try r.requiredInt64(i, 0), try r.required(i, 1))
    }
  }

  func append(_ entry: AuditEntry) throws {
    try run(
      """
      INSERT INTO audit_log (seq, time, actor_user, actor_recipient, action, subject, version, fingerprint, detail,
                             prev_hash, hash, mac)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
      """,
      [
        .int(entry.seq), .text(entry.time), .text(entry.actorUser), .optional(entry.actorRecipient),
        .text(entry.action), .optional(entry.subject), .optional(entry.version), .optional(entry.fingerprint),
        .optional(entry.detail), .text(entry.prevHash), .text(entry.hash), .text(entry.mac),
      ])
  }

  func scan(after seq: Int64, _ visit: (AuditEntry) throws -> Bool) throws {
    // In pages, so a chain of 100,000 entries never sits in memory twice.
    var last = seq
    while true {
      let rows = try run(
        """
        SELECT seq, time, actor_user, actor_recipient, action, subject, version, fingerprint, detail,
               prev_hash, hash, mac FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 5000
        """, [.int(last)])
      if rows.count == 0 { return }
      for i in 0..<rows.count {
        let entry = AuditEntry(
          seq: try rows.requiredInt64(i, 0), time: try rows.required(i, 1), actorUser: try rows.required(i, 2),
          actorRecipient: rows.string(i, 3), action: try rows.required(i, 4), subject: rows.string(i, 5),
          version: rows.int(i, 6), fingerprint: rows.string(i, 7), detail: rows.string(i, 8),
          prevHash: try rows.required(i, 9), hash: try rows.required(i, 10), mac: try rows.required(i, 11))
        last = entry.seq
        guard try visit(entry) else { return }
      }
    }
  }

  func hash(seq: Int64) throws -> String? {
    try first("SELECT hash FROM audit_log WHERE seq = $1", [.int(seq)]) { r, i in r.string(i, 0) } ?? nil
  }

  // MARK: - Push ledger

  func entries(environment: String, target: String) throws -> [String: PushLedgerEntry] {
    var result: [String: PushLedgerEntry] = [:]
    let rows = try run(
      """
      SELECT name, service, key, version, fingerprint, pushed_at, remote_updated_at FROM push_ledger
      WHERE environment = $1 AND target = $2
      """, [.text(environment), .text(target)])
    for i in 0..<rows.count {
      let name = try rows.required(i, 0)
      result[name] = PushLedgerEntry(
        target: target, name: name, source: ServiceKey(service: try rows.required(i, 1), key: try rows.required(i, 2)),
        version: try rows.requiredInt(i, 3), fingerprint: try rows.required(i, 4), pushedAt: try rows.required(i, 5),
        remoteUpdatedAt: rows.string(i, 6))
    }
    return result
  }

  func record(_ entry: PushLedgerEntry, environment: String) throws {
    try run(
      """
      INSERT INTO push_ledger (environment, target, name, service, key, version, fingerprint, pushed_at, remote_updated_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
      ON CONFLICT (environment, target, name) DO UPDATE SET service = excluded.service, key = excluded.key,
        version = excluded.version, fingerprint = excluded.fingerprint, pushed_at = excluded.pushed_at,
        remote_updated_at = excluded.remote_updated_at
      """,
      [
        .text(environment), .text(entry.target), .text(entry.name), .text(entry.source.service),
        .text(entry.source.key), .int(Int64(entry.version)), .text(entry.fingerprint), .text(entry.pushedAt),
        .optional(entry.remoteUpdatedAt),
      ])
  }

  func secretsVersion(environment: String, target: String) throws -> Int? {
    try first(
      "SELECT secrets_version FROM target_state WHERE environment = $1 AND target = $2",
      [.text(environment), .text(target)]
    ) { r, i in r.int(i, 0) } ?? nil
  }

  func recordSecretsVersion(_ version: Int, environment: String, target: String, at: String) throws {
    try run(
      """
      INSERT INTO target_state (environment, target, secrets_version, updated_at) VALUES ($1, $2, $3, $4)
      ON CONFLICT (environment, target) DO UPDATE SET secrets_version = excluded.secrets_version,
        updated_at = excluded.updated_at
      """, [.text(environment), .text(target), .int(Int64(version)), .text(at)])
  }

  func machineVersions(environment: String, target: String) throws -> [String: Int] {
    var result: [String: Int] = [:]
    let rows = try run(
      "SELECT machine, secrets_version FROM machine_state WHERE environment = $1 AND target = $2",
      [.text(environment), .text(target)])
    for i in 0..<rows.count { result[try rows.required(i, 0)] = try rows.requiredInt(i, 1) }
    return result
  }

  func recordMachineVersion(_ version: Int, machine: String, environment: String, target: String, at: String) throws {
    try run(
      """
      INSERT INTO machine_state (environment, target, machine, secrets_version, updated_at) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (environment, target, machine) DO UPDATE SET secrets_version = excluded.secrets_version,
        updated_at = excluded.updated_at
      """, [.text(environment), .text(target), .text(machine), .int(Int64(version)), .text(at)])
  }
}
