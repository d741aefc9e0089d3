import Foundation
import GRDB
import Testing

@testable import HotSecretsCore

/// Local hardening (docs/security.md): secure_delete, value and passphrase limits, safe formats.
@Suite struct HardeningTests {
  // MARK: - secure_delete

  /// Whether `needle` occurs in the vault file or its WAL.
  func fileHolds(_ needle: [UInt8], vault path: String) -> Bool {
    [path, path + "-wal"].contains { file in
      guard let data = FileManager.default.contents(atPath: file) else { return false }
      return Array(data).firstRange(of: needle) != nil
    }
  }

  func checkpoint(_ database: VaultDatabase) throws {
    try database.queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
  }

  @Test func everyConnectionHasSecureDeleteOn() throws {
    let vault = try TestVault()
    #expect(try vault.session.database.read { db in try Int.fetchOne(db, sql: "PRAGMA secure_delete") } == 1)
    let reopened = try VaultDatabase.open(path: vault.path)
    #expect(try reopened.read { db in try Int.fetchOne(db, sql: "PRAGMA secure_delete") } == 1)
  }

  @Test func removedCiphertextIsZeroedInTheFile() throws {
    let vault = try TestVault()
    let a = try address()
    try vault.session.set(a, value: bytes(String(repeating: "secret-value-", count: 40)))
    let ciphertext = try vault.session.database.read { db in
      Array(try #require(try Data.fetchOne(db, sql: "SELECT ciphertext FROM secret_versions")))
    }
    try checkpoint(vault.session.database)
    let needle = Array(ciphertext[32..<96])
    try #require(fileHolds(needle, vault: vault.path))  // the search itself works
    try vault.session.remove(a)
    try checkpoint(vault.session.database)
    #expect(!fileHolds(needle, vault: vault.path))
  }

  /// The control for the test above: with secure_delete off (the default of many SQLite builds,
  /// though not Debian's), the same erasure leaves the bytes in the file, and the search finds them.
  @Test func withoutSecureDeleteErasedBytesStayInTheFile() throws {
    let scratch = try ScratchDirectory()
    var config = Configuration()
    config.prepareDatabase { db in try db.execute(sql: "PRAGMA secure_delete = OFF") }
    let path = scratch.file("plain.db")
    let queue = try DatabaseQueue(path: path, configuration: config)
    let blob = Array(String(repeating: "erased-bytes-", count: 40).utf8)
    try queue.write { db in
      try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)")
      try db.execute(sql: "INSERT INTO t (b) VALUES (?)", arguments: [Data(blob)])
    }
    try queue.write { db in try db.execute(sql: "UPDATE t SET b = x''") }
    #expect(fileHolds(Array(blob[32..<96]), vault: path))
  }
}
