import Foundation
import HotSecretsModel

/// A vault in a PostgreSQL schema: the same rows as the vault file (ciphertexts, fingerprints, MACs,
/// metadata; never a key or a value), for teams whose operators, CI and scheduled jobs write at once.
///
/// Every write transaction first takes a transaction-scoped advisory lock of the vault, so writers
/// on any number of machines take turns exactly as SQLite's writers do: each change commits with
/// its audit entry and the chain stays one line. A writer waits for the lock up to the busy timeout
/// (`lock_timeout`), then gets `VaultError.busy`. Reads run in a REPEATABLE READ snapshot. The
/// rotation lock is a session advisory lock on a connection of its own, which the server releases
/// when that session ends (a killed process frees it): it needs a session (or direct) connection,
/// not a transaction pooler, and is refused when it does not hold.
public final class PostgresStore: VaultStore, @unchecked Sendable {
  public let address: PostgresURI
  public var location: String { address.redacted }
  let busyTimeout: Double
  private let connection: PostgresConnection
  /// One transaction at a time on the connection (`sync` records targets from several tasks).
  private let lock = NSLock()
  /// Set by `create` when this process made the schema, so `discard` may drop it.
  private var createdSchema = false

  /// Opens an existing vault; throws `noVault` when the schema holds none.
  public static func open(_ address: PostgresURI, busyTimeout: Double = 10) throws -> PostgresStore {
    let store = try PostgresStore(address, busyTimeout: busyTimeout)
    try store.bringUpToDate(creating: false)
    return store
  }

  /// Creates the vault's schema and tables; throws `vaultExists` when the schema holds a vault, and
  /// refuses a schema that exists but is not a hotsecrets vault (nothing is created then).
  public static func create(_ address: PostgresURI, busyTimeout: Double = 10) throws -> PostgresStore {
    let store = try PostgresStore(address, busyTimeout: busyTimeout)
    try store.bringUpToDate(creating: true)
    return store
  }

  private init(_ address: PostgresURI, busyTimeout: Double) throws {
    self.address = address
    // lock_timeout 0 would mean "wait forever"; anything else is kept within what it accepts.
    self.busyTimeout = busyTimeout.isFinite ? min(max(busyTimeout, 0.001), 2_000_000) : 10
    connection = try PostgresConnection(
      uri: try address.connectionInfo(), location: address.redacted, password: address.password)
    // Plain text to another machine: refused before anything is read (the TLS mode asked for made
    // sure no password went in clear).
    guard connection.usesTLS || PostgresURI.isLocal(connection.host) else {
      throw VaultError.storage(
        "\(address.redacted): the connection to \(connection.host) is not encrypted; hotsecrets talks to a database on another machine over TLS only (sslmode=require, better verify-full)")
    }
    do {
      // One round trip (the schema name is checked against PostgresURI.schemaRule: nothing to
      // escape). bytea as hex and UTF-8 whatever the role's or database's defaults.
      try connection.executeScript(
        "SET search_path TO \"\(address.schema)\"; SET client_min_messages TO warning; SET bytea_output TO hex; SET client_encoding TO 'UTF8'")
    } catch {
      throw translate(error)
    }
  }

  // MARK: - Transactions

  public func write<T>(_ body: (any StoreTransaction) throws -> T) throws -> T {
    try transaction(write: true) { try body(PostgresTransaction(connection)) }
  }

  public func read<T>(_ body: (any StoreTransaction) throws -> T) throws -> T {
    try transaction(write: false) { try body(PostgresTransaction(connection)) }
  }

  /// Runs `body` in one transaction on the connection: a write holds the vault's write lock until
  /// it commits or rolls back; a read sees one snapshot.
  func transaction<T>(write: Bool, _ body: () throws -> T) throws -> T {
    lock.lock()
    defer { lock.unlock() }
    do {
      if write {
        // One round trip: the values are a number and a checked schema name, nothing to escape.
        try connection.executeScript(
          """
          BEGIN ISOLATION LEVEL READ COMMITTED;
          SET LOCAL search_path TO "\(address.schema)";
          SET LOCAL lock_timeout = '\(Int((busyTimeout * 1000).rounded()))ms';
          SELECT pg_advisory_xact_lock(hashtext('hotsecrets.write:\(address.schema)'))
          """)
      } else {
        try connection.executeScript(
          "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL search_path TO \"\(address.schema)\"")
      }
    } catch {
      _ = try? connection.execute("ROLLBACK")
      throw translate(error)
    }
    do {
      let result = try body()
      try connection.executeScript("COMMIT")
      return result
    } catch {
      _ = try? connection.execute("ROLLBACK")
      throw translate(error)
    }
  }

  /// Runs `sql` outside any repository: for tests that edit the tables as a keyless writer would.
  @discardableResult
  func executeSQL(_ sql: String, _ parameters: [PostgresValue] = []) throws -> PostgresRows {
    lock.lock()
    defer { lock.unlock() }
    return try connection.execute(sql, parameters)
  }

  // MARK: - Rotation lock

  /// A session advisory lock on a connection of its own, held until the returned value goes (or the
  /// process dies and the server ends the session).
  public func rotationLock(environment: String) throws -> AnyObject {
    let session = try PostgresConnection(
      uri: try address.connectionInfo(), location: location, password: address.password)
    let key = "hotsecrets.rotate:\(address.schema):\(environment)"
    do {
      let taken = try session.execute("SELECT pg_try_advisory_lock(hashtext($1))", [.text(key)])
      guard taken.bool(0, 0) == true else { throw RotationError.busy(environment: environment) }
      // Behind a transaction pooler the next statement may run on another server session, where the
      // lock is not held: refuse rather than run two rotations at once.
      let held = try session.execute(
        """
        SELECT count(*) FROM pg_locks
        WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
          AND objsubid = 1 AND objid = (hashtext($1)::bigint & 4294967295)::oid
          AND classid = ((hashtext($1)::bigint >> 32) & 4294967295)::oid
        """, [.text(key)])
      guard held.int(0, 0) == 1 else {
        throw VaultError.storage(
          "\(location): the rotation lock did not hold (a transaction pooler?): use a session pooler or a direct connection")
      }
    } catch let error as RotationError {
      throw error
    } catch {
      throw translate(error)
    }
    return SessionLock(session, key: key)
  }

  /// Drops the schema this process created, under the write lock and only while it holds no vault:
  /// another writer may have committed one there meanwhile, and that one stays.
  public func discard() {
    guard createdSchema else { return }
    _ = try? transaction(write: true) {
      let held =
        try connection.execute("SELECT (SELECT count(*) FROM vault_meta) + (SELECT count(*) FROM audit_log)")
        .int(0, 0) ?? 1
      if held == 0 { try connection.executeScript("DROP SCHEMA IF EXISTS \"\(address.schema)\" CASCADE") }
    }
  }

  // MARK: - Schema

  /// Brings the schema up to date: creates it (with `creating`), refuses one that is not a vault or
  /// is of a newer hotsecrets, and applies the migrations it lacks, in one transaction.
  private func bringUpToDate(creating: Bool) throws {
    // The usual case, a vault already up to date, needs no write lock: a reader must not queue
    // behind a long writer (`vault copy`) just to open the vault.
    if !creating, try isUpToDate() { return }
    try transaction(write: true) {
      let schemaExists =
        try connection.execute("SELECT count(*) FROM pg_namespace WHERE nspname = $1", [.text(address.schema)])
        .int(0, 0) == 1
      let tables =
        schemaExists
        ? try connection.execute(
          // pg_class, not information_schema: it lists tables this role has no rights on too.
          """
          SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
          """, [.text(address.schema)])
        : nil
      let tableNames = Set((0..<(tables?.count ?? 0)).compactMap { tables?.string($0, 0) })
      var applied: Set<String> = []
      if tableNames.contains(PostgresSchema.migrationsTable) {
        let rows = try connection.execute("SELECT identifier FROM \(PostgresSchema.migrationsTable)")
        applied = Set((0..<rows.count).compactMap { rows.string($0, 0) })
      } else if !tableNames.isEmpty {
        throw VaultError.storage(
          "\(location): schema \(address.schema) holds tables but is not a hotsecrets vault; choose another schema")
      }
      let known = Set(PostgresSchema.migrations.map(\.identifier))
      if !applied.isSubset(of: known) {
        throw VaultError.unsupportedVaultFormat(found: VaultFormat.current + 1, supported: VaultFormat.current)
      }
      if creating {
        if !applied.isEmpty, try connection.execute("SELECT count(*) FROM vault_meta").int(0, 0) ?? 0 > 0 {
          throw VaultError.vaultExists(path: location)
        }
        if !schemaExists {
          try connection.execute("CREATE SCHEMA \"\(address.schema)\"")
          createdSchema = true
        }
      } else if applied.isEmpty {
        throw schemaExists ? VaultError.incompleteVault(path: location) : VaultError.noVault(path: location)
      }
      if applied.isEmpty {
        try connection.execute(
          "CREATE TABLE \(PostgresSchema.migrationsTable) (identifier TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
      }
      for migration in PostgresSchema.migrations where !applied.contains(migration.identifier) {
        try connection.executeScript(migration.sql)
        try connection.execute(
          "INSERT INTO \(PostgresSchema.migrationsTable) (identifier) VALUES ($1)", [.text(migration.identifier)])
      }
    }
  }

  /// Whether the schema holds a vault with exactly the migrations this hotsecrets knows.
  private func isUpToDate() throws -> Bool {
    try transaction(write: false) {
      let table = "\"\(address.schema)\".\(PostgresSchema.migrationsTable)"
      guard try connection.execute("SELECT to_regclass($1) IS NOT NULL", [.text(table)]).bool(0, 0) == true else {
        return false
      }
      let rows = try connection.execute("SELECT identifier FROM \(PostgresSchema.migrationsTable)")
      return Set((0..<rows.count).compactMap { rows.string($0, 0) }) == Set(PostgresSchema.migrations.map(\.identifier))
    }
  }

  /// Maps errors to `VaultError`: a lock wait past the busy timeout is `busy`; the rest name the
  /// vault and the server's message (never a statement's parameters).
  func translate(_ error: Error) -> Error {
    if error is VaultError || error is RotationError { return error }
    if let error = error as? PostgresError {
      switch error.state {
      case "55P03", "40P01": return VaultError.busy(seconds: busyTimeout)
      case "42501": return VaultError.storage("\(location): permission denied: \(error.message)")
      case "57P01", "57P02", "57P03", "08000", "08003", "08006":
        return VaultError.storage("\(location): the connection was lost: \(error.message)")
      default: return VaultError.storage("\(location): \(error.message)")
      }
    }
    return error
  }
}

/// A session advisory lock; unlocked (and its connection closed) when released.
private final class SessionLock {
  private let connection: PostgresConnection
  private let key: String

  init(_ connection: PostgresConnection, key: String) {
    self.connection = connection
    self.key = key
  }

  deinit { _ = try? connection.execute("SELECT pg_advisory_unlock(hashtext($1))", [.text(key)]) }
}
