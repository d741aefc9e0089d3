import Foundation
import GRDB
import Testing

@testable import HotSecretsModel
@testable import HotSecretsPolicy
@testable import HotSecretsVault
@testable import RemoteAPIs
@testable import VaultSQLite

@Suite struct AuditChainTests {
  /// A vault with a few entries: init, recipient-add, set, set, get, remove.
  func populated() throws -> TestVault {
    let vault = try TestVault()
    try vault.session.set(address("prod", "openai", "A"), value: bytes("1"))
    try vault.session.set(address("prod", "openai", "B"), value: bytes("2"))
    _ = try vault.session.get(address("prod", "openai", "A"))
    try vault.session.remove(address("prod", "openai", "B"))
    return vault
  }

  @Test func recordsEveryChangeAndRead() throws {
    let vault = try populated()
    let entries = try vault.session.auditEntries()
    #expect(entries.map(\.action) == ["init", "recipient-add", "set", "set", "get", "remove"])
    #expect(entries.map(\.seq) == [1, 2, 3, 4, 5, 6])
    #expect(entries[2].subject == "prod/openai/A")
    #expect(entries[2].actorUser == "tester")
    #expect(entries[2].actorRecipient == "1:test")
    #expect(entries[2].fingerprint == (try vault.session.fingerprint(of: bytes("1"))))
    #expect(entries[0].prevHash == AuditChain.genesisHash)
    #expect(entries[1].prevHash == entries[0].hash)
    let result = try vault.session.database.verifyAudit()
    #expect(result.intact)
    #expect(result.entries == 6)
    #expect(result.headSeq == 6)
  }

  @Test func unchangedSetsMakeNoNoise() throws {
    let vault = try TestVault()
    try vault.session.set(address(), value: bytes("same"))
    let before = try vault.session.auditEntries().count
    try vault.session.set(address(), value: bytes("same"))
    #expect(try vault.session.auditEntries().count == before)
  }

  @Test func editedEntryIsDetected() throws {
    let vault = try populated()
    try vault.tamper("UPDATE audit_log SET actor_user = 'mallory' WHERE seq = 4")
    let result = try vault.session.database.verifyAudit()
    #expect(!result.intact)
    #expect(result.firstBadSeq == 4)
  }

  @Test func editedAndRehashedEntryBreaksTheNextLink() throws {
    let vault = try populated()
    var entry = try vault.session.sqlite.readSQL { db in
      try SQLiteTransaction(db).auditEntries()[2]
    }
    entry.action = "get"
    entry.hash = try AuditChain.hash(of: entry)
    try vault.tamper("UPDATE audit_log SET action = ?, hash = ? WHERE seq = 3", [entry.action, entry.hash])
    let result = try vault.session.database.verifyAudit()
    #expect(!result.intact)
    #expect(result.firstBadSeq == 4)
  }

  @Test func deletedEntryIsDetected() throws {
    let vault = try populated()
    try vault.tamper("DELETE FROM audit_log WHERE seq = 3")
    let result = try vault.session.database.verifyAudit()
    #expect(!result.intact)
    #expect(result.firstBadSeq == 3)
  }

  @Test func deletedEntryWithRenumberingIsDetected() throws {
    let vault = try populated()
    try vault.tamper("DELETE FROM audit_log WHERE seq = 3")
    try vault.tamper("UPDATE audit_log SET seq = seq - 1 WHERE seq > 3")
    let result = try vault.session.database.verifyAudit()
    #expect(!result.intact)
    #expect(result.firstBadSeq == 3)
  }

  @Test func chainRewrittenWithRecomputedHashesFailsItsMACs() throws {
    let vault = try populated()
    // Delete entry 3, renumber, and recompute every hash from there on: the hash-only check
    // cannot tell, the MAC check can.
    try vault.tamper("DELETE FROM audit_log WHERE seq = 3")
    try vault.tamper("UPDATE audit_log SET seq = seq - 1 WHERE seq > 3")
    var entries = try vault.session.sqlite.readSQL { db in try SQLiteTransaction(db).auditEntries() }
    for i in 2..<entries.count {
      entries[i].prevHash = entries[i - 1].hash
      entries[i].hash = try AuditChain.hash(of: entries[i])
      try vault.tamper(
        "UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?",
        [entries[i].prevHash, entries[i].hash, entries[i].seq])
    }
    let unauthenticated = try vault.session.database.verifyAudit()
    #expect(unauthenticated.intact)
    #expect(!unauthenticated.authenticated)
    let authenticated = try vault.session.verifyAudit()
    #expect(authenticated.authenticated)
    #expect(!authenticated.intact)
    #expect(authenticated.firstBadSeq == 3)
  }

  @Test func intactChainPassesTheMACCheck() throws {
    let vault = try populated()
    let result = try vault.session.verifyAudit()
    #expect(result.intact && result.authenticated)
  }

  @Test func reorderedEntriesAreDetected() throws {
    let vault = try populated()
    try vault.tamper("UPDATE audit_log SET seq = -1 WHERE seq = 3")
    try vault.tamper("UPDATE audit_log SET seq = 3 WHERE seq = 4")
    try vault.tamper("UPDATE audit_log SET seq = 4 WHERE seq = -1")
    let result = try vault.session.database.verifyAudit()
    #expect(!result.intact)
    #expect(result.firstBadSeq == 3)
  }

  @Test func canonicalTextMatchesPythonJSONDumps() throws {
    // json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    let value = CanonicalJSON.object([
      "b": .array([.int(1), .null, .bool(true)]), "a": .string("q\"\\\n\t\u{01}é"), "A": .object([:]),
    ])
    #expect(value.text == #"{"A":{},"a":"q\"\\\n\t\u0001é","b":[1,null,true]}"#)
  }
}
