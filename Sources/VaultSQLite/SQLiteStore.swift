import Foundation
import GRDB
import HotSecretsModel

/// The SQLite file behind a vault (the default store), opened through GRDB with WAL journaling,
/// foreign keys, a busy timeout and IMMEDIATE write transactions (a second writer waits rather than
/// losing an update).
///
/// The file and its WAL companions are created with mode 0600. Every connection runs with
/// `secure_delete` on, so erased ciphertexts and wraps are overwritten with zeros in the file (and
/// its WAL) rather than left in free pages, whatever the system SQLite's compile-time default.
public struct SQLiteStore: VaultStore {
  public let path: String
  public var location: String { path }
  let queue: DatabaseQueue
  let busyTimeout: Double

  /// Opens an existing vault; throws `noVault` when the file does not exist.
  public static func open(path: String, busyTimeout: Double = 10) throws -> SQLiteStore {
    guard FileManager.default.fileExists(atPath: path) else { throw VaultError.noVault(path: path) }
    return try SQLiteStore(path: path, busyTimeout: busyTimeout, creating: false)
  }

  /// Creates a new vault file (and its folder, 0700, when missing); throws `vaultExists` when
  /// the file is already there.
  public static func create(path: String, busyTimeout: Double = 10) throws -> SQLiteStore {
    let fm = FileManager.default
    guard !fm.fileExists(atPath: path) else { throw VaultError.vaultExists(path: path) }
    try PathName.createFolder(of: path)
    // Create the file ourselves with O_EXCL and 0600 so SQLite (and its -wal/-shm files, which copy
    // the database file's mode) never exposes the vault to other users.
    let fd = Foundation.open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
    guard fd >= 0 else {
      if errno == EEXIST { throw VaultError.vaultExists(path: path) }
      throw VaultError.io(path: path, reason: "cannot create the vault file (\(String(cString: strerror(errno))))")
    }
    close(fd)
    let database = try SQLiteStore(path: path, busyTimeout: busyTimeout, creating: true)
    // WAL is a property of the file: set once here, not on every open.
    do {
      try database.queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = WAL") }
    } catch {
      throw translate(error, busyTimeout: busyTimeout)
    }
    return database
  }

  /// Opens the file and brings its schema up to date. An existing file that was never a
  /// hotsecrets vault (no migration history) is refused rather than given our tables.
  private init(path: String, busyTimeout: Double, creating: Bool) throws {
    var config = Configuration()
    config.busyMode = .timeout(busyTimeout)
    config.foreignKeysEnabled = true
    config.label = "hotsecrets"
    config.prepareDatabase { db in try db.execute(sql: "PRAGMA secure_delete = ON") }
    self.path = path
    self.busyTimeout = busyTimeout
    do {
      queue = try DatabaseQueue(path: path, configuration: config)
      let migrator = SQLiteMigrations.migrator
      // One look at sqlite_master rather than GRDB's `tableExists`, which loads the whole schema
      // (a measurable share of every command's start-up).
      let applied = try queue.read { db in
        try Bool.fetchOne(
          db, sql: "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'grdb_migrations')")
          == true ? try String.fetchSet(db, sql: "SELECT identifier FROM grdb_migrations") : []
      }
      let known = Set(migrator.migrations)
      if !applied.isSubset(of: known) {
        throw VaultError.unsupportedVaultFormat(found: VaultFormat.current + 1, supported: VaultFormat.current)
      }
      if applied.isEmpty && !creating {
        throw VaultError.incompleteVault(path: path)
      }
      if applied != known { try migrator.migrate(queue) }
    } catch {
      throw Self.translate(error, busyTimeout: busyTimeout)
    }
  }

  public func write<T>(_ body: (any StoreTransaction) throws -> T) throws -> T {
    try writeSQL { db in try body(SQLiteTransaction(db)) }
  }

  public func read<T>(_ body: (any StoreTransaction) throws -> T) throws -> T {
    try readSQL { db in try body(SQLiteTransaction(db)) }
  }

  /// A file next to the vault, locked with `flock`: the kernel drops it when the process dies.
  public func rotationLock(environment: String) throws -> AnyObject {
    try FileLock(path: path + ".rotate-\(environment).lock", environment: environment)
  }

  public func discard() {
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
  }

  /// Runs `body` in an IMMEDIATE transaction on the connection itself: for this store's
  /// repositories, and for tests that edit the file as a keyless writer would.
  @discardableResult
  func writeSQL<T>(_ body: (Database) throws -> T) throws -> T {
    do { return try queue.write(body) } catch { throw Self.translate(error, busyTimeout: busyTimeout) }
  }

  /// Runs `body` against a consistent snapshot of the connection.
  func readSQL<T>(_ body: (Database) throws -> T) throws -> T {
    do { return try queue.read(body) } catch { throw Self.translate(error, busyTimeout: busyTimeout) }
  }

  /// Maps SQLite errors to `VaultError` without echoing SQL arguments (which may hold ciphertext).
  static func translate(_ error: Error, busyTimeout: Double) -> Error {
    if error is VaultError { return error }
    if let db = error as? DatabaseError {
      switch db.resultCode {
      case .SQLITE_BUSY, .SQLITE_LOCKED: return VaultError.busy(seconds: busyTimeout)
      case .SQLITE_NOTADB, .SQLITE_CORRUPT:
        return VaultError.corruptVault("the file is not a hotsecrets vault or is corrupt")
      case .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_IOERR, .SQLITE_FULL:
        return VaultError.storage(db.message ?? "\(db.resultCode)")
      default: return VaultError.storage(db.message ?? "\(db.resultCode)")
      }
    }
    return error
  }
}

/// An exclusive `flock` on a file, released when this value is.
private final class FileLock {
  private let fd: Int32

  init(path: String, environment: String) throws {
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw VaultError.io(path: path, reason: "cannot open the rotation lock") }
    guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
      close(fd)
      throw RotationError.busy(environment: environment)
    }
  }

  deinit {
    flock(fd, LOCK_UN)
    close(fd)
  }
}
