import Foundation
import GRDB
import Testing

@testable import HotSecretsCompliance
@testable import HotSecretsModel
@testable import HotSecretsOperations
@testable import HotSecretsPolicy
@testable import HotSecretsVault
@testable import VaultSQLite

@Suite struct StoreTests {
  @Test func setGetAndVersionStates() throws {
    let vault = try TestVault()
    let a = try address()
    #expect(
      try vault.session.set(a, value: bytes("one"))
        == .added(version: 1, fingerprint: try vault.session.fingerprint(of: bytes("one"))))
    guard case .changed(let v2, _) = try vault.session.set(a, value: bytes("two")) else {
      Issue.record("expected a change")
      return
    }
    #expect(v2 == 2)
    guard case .unchanged(let same, _) = try vault.session.set(a, value: bytes("two")) else {
      Issue.record("expected unchanged")
      return
    }
    #expect(same == 2)
    _ = try vault.session.set(a, value: bytes("three"))
    #expect(try vault.session.get(a).copyBytes() == bytes("three"))
    let history = try vault.session.history(a)
    #expect(history.map(\.version) == [3, 2, 1])
    #expect(history.map(\.state) == [.current, .previous, .retired])
    #expect(history.allSatisfy { $0.source == .set })
    // Fingerprints compare values without revealing them.
    #expect(history[0].fingerprint == (try vault.session.fingerprint(of: bytes("three"))))
    #expect(history[0].fingerprint.count == 64)
  }

  @Test func listIsSortedAndFilteredByEnvironment() throws {
    let vault = try TestVault()
    try vault.session.set(address("prod", "supabase", "URL"), value: bytes("u"))
    try vault.session.set(address("prod", "openai", "KEY"), value: bytes("k"))
    try vault.session.set(address("staging", "openai", "KEY"), value: bytes("s"))
    let all = try vault.session.list()
    #expect(all.map(\.address.description) == ["prod/openai/KEY", "prod/supabase/URL", "staging/openai/KEY"])
    #expect(try vault.session.list(environment: "staging").count == 1)
    #expect(all.allSatisfy { $0.version == 1 && $0.ageDays == 0 })
  }

  @Test func ageIsComputedFromTheCurrentVersion() throws {
    let start = Date(timeIntervalSince1970: 1_700_000_000)
    let clock = Clock(start)
    let vault = try TestVault(now: { clock.now })
    try vault.session.set(address(), value: bytes("old"))
    clock.advance(days: 40)
    #expect(try vault.session.list().first?.ageDays == 40)
  }

  @Test func removeErasesEveryVersionAndNeverReusesNumbers() throws {
    let vault = try TestVault()
    let a = try address()
    try vault.session.set(a, value: bytes("x"))
    try vault.session.set(a, value: bytes("y"))
    try vault.session.remove(a)
    #expect(try vault.session.list().isEmpty)
    #expect(throws: VaultError.secretNotFound(subject: "prod/openai/API_KEY")) { try vault.session.get(a) }
    #expect(throws: VaultError.secretNotFound(subject: "prod/openai/API_KEY")) { try vault.session.remove(a) }
    let remaining = try vault.session.sqlite.readSQL { db in
      try Int.fetchOne(
        db, sql: "SELECT COUNT(*) FROM secret_versions WHERE length(ciphertext) > 0 OR state != 'removed'")
    }
    #expect(remaining == 0)
    #expect(try vault.session.history(a).map(\.state) == [.removed, .removed])
    // Re-adding continues the numbering.
    #expect(
      try vault.session.set(a, value: bytes("z"))
        == .added(version: 3, fingerprint: try vault.session.fingerprint(of: bytes("z"))))
    #expect(try vault.session.get(a).copyBytes() == bytes("z"))
  }

  @Test func invalidNamesAndValuesWriteNothing() throws {
    #expect(throws: VaultError.self) { try SecretAddress(environment: "Prod", service: "openai", key: "K") }
    #expect(throws: VaultError.self) { try SecretAddress(environment: "prod", service: "-openai", key: "K") }
    #expect(throws: VaultError.self) { try SecretAddress(environment: "prod", service: "open ai", key: "K") }
    #expect(throws: VaultError.self) { try SecretAddress(environment: "prod", service: "openai", key: "1KEY") }
    #expect(throws: VaultError.self) { try SecretAddress(environment: "prod", service: "openai", key: "KEY-X") }
    #expect(throws: VaultError.self) { try SecretAddress(environment: "", service: "openai", key: "K") }
    _ = try SecretAddress(environment: "prod-eu", service: "open_ai-2", key: "_Key_9")
    let vault = try TestVault()
    #expect(throws: VaultError.self) { try vault.session.set(address(), value: [0x66, 0x00, 0x67]) }
    #expect(throws: VaultError.self) { try vault.session.set(address(), value: [0xff, 0xfe]) }
    #expect(try vault.session.list().isEmpty)
  }

  @Test func valuesNeverReachTheFileInPlaintext() throws {
    let vault = try TestVault()
    let secret = "sk-plaintext-canary-\(UUID().uuidString)"
    try vault.session.set(address(), value: bytes(secret))
    _ = try vault.session.get(address())
    let entries = try vault.session.auditEntries()
    #expect(!entries.contains { "\($0)".contains(secret) })
    for suffix in ["", "-wal"] {
      if let data = FileManager.default.contents(atPath: vault.path + suffix) {
        #expect(data.range(of: Data(secret.utf8)) == nil)
      }
    }
  }

  @Test func storeFileIsPrivate() throws {
    let vault = try TestVault()
    let attributes = try FileManager.default.attributesOfItem(atPath: vault.path)
    #expect((attributes[.posixPermissions] as? Int) == 0o600)
  }

  @Test func createRefusesAnExistingVault() throws {
    let vault = try TestVault()
    #expect(throws: VaultError.vaultExists(path: vault.path)) {
      try VaultAccess.create(path: vault.path, firstRecipient: .x25519(vault.identity.recipient), name: nil, user: "t")
    }
    #expect(throws: VaultError.noVault(path: vault.scratch.file("missing.db"))) {
      try SQLiteStore.open(path: vault.scratch.file("missing.db"))
    }
  }

  @Test func aForeignSQLiteFileIsNotTakenOver() throws {
    let scratch = try ScratchDirectory()
    let path = scratch.file("other.db")
    try DatabaseQueue(path: path).write { db in try db.execute(sql: "CREATE TABLE notes (body TEXT)") }
    #expect(throws: VaultError.self) { try SQLiteStore.open(path: path) }
    let tables = try DatabaseQueue(path: path).read { db in
      try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    #expect(tables == ["notes"])
  }

  @Test func aFailedTransactionLeavesNoTrace() throws {
    let vault = try TestVault()
    let before = try vault.session.auditEntries().count
    struct Boom: Error {}
    #expect(throws: Boom.self) {
      try vault.session.database.write { tx in
        let fp = try vault.session.fingerprint(of: bytes("v"))
        _ = try vault.session.setInTransaction(try address(), value: bytes("v"), fingerprint: fp, source: .set, tx: tx)
        throw Boom()
      }
    }
    #expect(try vault.session.list().isEmpty)
    #expect(try vault.session.auditEntries().count == before)
  }
}

/// A settable clock for age tests.
final class Clock: @unchecked Sendable {
  private let lock = NSLock()
  private var current: Date
  init(_ start: Date) { current = start }
  var now: Date { lock.withLock { current } }
  func advance(days: Double) { lock.withLock { current += days * 86_400 } }
}
