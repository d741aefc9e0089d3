/// Every table a vault keeps, with its columns, in an order that satisfies the foreign keys: what
/// `vault copy` moves between backends row for row. Both stores' schemas have exactly these tables
/// and columns (a test checks it); their own migration bookkeeping is not part of the vault.
public enum VaultTables {
  public struct Table: Sendable, Equatable {
    public let name: String
    public let columns: [String]
    /// Columns holding bytes (BLOB / BYTEA).
    public let blobs: Set<String>
    /// Columns holding a boolean (stored as 0/1 in SQLite).
    public let booleans: Set<String>
    /// The columns that order the rows (the primary key).
    public let order: [String]
    /// The identity column whose sequence must move past copied ids, if any.
    public let identity: String?
  }

  public static let all: [Table] = [
    Table(
      name: "vault_meta",
      columns: ["id", "vault_id", "format", "created_at", "key_check", "epoch", "keyring_nonce", "keyring", "recipients_mac"],
      blobs: ["keyring_nonce", "keyring", "recipients_mac"], booleans: [], order: ["id"], identity: nil),
    Table(
      name: "recipients",
      columns: [
        "id", "kind", "name", "public_key", "wrapped_key", "wrap_nonce", "salt", "ops_limit", "mem_limit", "added_at",
        "removed_at", "secret_nonce", "sealed_secret",
      ],
      blobs: ["wrapped_key", "wrap_nonce", "salt", "secret_nonce", "sealed_secret"], booleans: [], order: ["id"],
      identity: "id"),
    Table(
      name: "secrets",
      columns: ["id", "environment", "service", "key", "created_at", "head_version", "head_exposed", "head_mac"],
      blobs: ["head_mac"], booleans: [], order: ["id"], identity: "id"),
    Table(
      name: "secret_versions",
      columns: ["id", "secret_id", "version", "state", "created_at", "source", "fingerprint", "nonce", "ciphertext"],
      blobs: ["nonce", "ciphertext"], booleans: [], order: ["id"], identity: "id"),
    Table(
      name: "exposures", columns: ["recipient_id", "secret_id", "version"], blobs: [], booleans: [],
      order: ["recipient_id", "secret_id", "version"], identity: nil),
    Table(
      name: "environment_heads", columns: ["environment", "secrets", "digest", "mac"], blobs: [], booleans: [],
      order: ["environment"], identity: nil),
    Table(
      name: "audit_log",
      columns: [
        "seq", "time", "actor_user", "actor_recipient", "action", "subject", "version", "fingerprint", "detail",
        "prev_hash", "hash", "mac",
      ], blobs: [], booleans: [], order: ["seq"], identity: nil),
    Table(
      name: "push_ledger",
      columns: [
        "environment", "target", "name", "service", "key", "version", "fingerprint", "pushed_at", "remote_updated_at",
      ], blobs: [], booleans: [], order: ["environment", "target", "name"], identity: nil),
    Table(
      name: "target_state", columns: ["environment", "target", "secrets_version", "updated_at"], blobs: [],
      booleans: [], order: ["environment", "target"], identity: nil),
    Table(
      name: "machine_state", columns: ["environment", "target", "machine", "secrets_version", "updated_at"],
      blobs: [], booleans: [], order: ["environment", "target", "machine"], identity: nil),
    Table(
      name: "rotation_runs",
      columns: [
        "id", "environment", "started_at", "finished_at", "actor_user", "state", "step", "deploy", "revoke_old", "error",
      ], blobs: [], booleans: [], order: ["id"], identity: "id"),
    Table(
      name: "rotation_items",
      columns: [
        "run_id", "position", "service", "key", "mode", "single_phase", "old_version", "new_version",
        "old_credential_id", "new_credential_id", "state", "revocation", "new_revocation", "error", "updated_at",
      ], blobs: [], booleans: ["single_phase"], order: ["run_id", "service", "key"], identity: nil),
    Table(
      name: "credential_ids", columns: ["environment", "service", "key", "version", "credential_id"], blobs: [],
      booleans: [], order: ["environment", "service", "key", "version"], identity: nil),
    Table(
      name: "signing_key", columns: ["id", "public_key", "nonce", "ciphertext", "created_at"],
      blobs: ["nonce", "ciphertext"], booleans: [], order: ["id"], identity: nil),
  ]
}

/// One column's value as a store holds it, backend-neutral.
public enum StoreValue: Sendable, Equatable, Hashable {
  case null
  case int(Int64)
  case text(String)
  case bytes([UInt8])
}

/// Whole tables, row for row (`vault copy`).
public protocol TableCopyRepository {
  /// Up to `limit` rows of `table` after the first `offset`, in `table.order`, values in
  /// `table.columns` order (booleans as 0/1).
  func rows(of table: VaultTables.Table, offset: Int, limit: Int) throws -> [[StoreValue]]
  /// Inserts `rows` (values in `table.columns` order) as they are, ids included.
  func insert(_ rows: [[StoreValue]], into table: VaultTables.Table) throws
  /// Moves `table.identity`'s sequence past the largest id (after ids were given explicitly).
  func resetIdentity(of table: VaultTables.Table) throws
}
