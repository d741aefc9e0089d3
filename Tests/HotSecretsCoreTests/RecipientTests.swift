import Foundation
import GRDB
import Testing

@testable import HotSecretsCompliance
@testable import HotSecretsModel
@testable import HotSecretsVault
@testable import RemoteAPIs
@testable import VaultSQLite

@Suite struct RecipientTests {
  func passphrase(_ s: String) throws -> SecretBytes { try SecretBytes(copying: Array(s.utf8)) }

  @Test func passphraseVaultUnlocksOnlyWithItsPassphrase() throws {
    let scratch = try ScratchDirectory()
    let path = scratch.file("v.db")
    _ = try VaultAccess.create(
      path: path, firstRecipient: .passphrase(try passphrase("correct horse battery"), .standard), name: nil, user: "t")
    let db = try SQLiteStore.open(path: path)
    let session = try VaultAccess.unlock(db, with: .passphrase(try passphrase("correct horse battery")), user: "t")
    #expect(session.actor.recipient == "1:passphrase")
    #expect(throws: VaultError.cannotUnlock) {
      try VaultAccess.unlock(db, with: .passphrase(try passphrase("wrong")), user: "t")
    }
    #expect(throws: VaultError.cannotUnlock) {
      try VaultAccess.unlock(db, with: .identity(try Identity.generate()), user: "t")
    }
    // The Argon2id parameters are stored with the wrap.
    let (ops, mem) = try db.readSQL { db in
      let row = try Row.fetchOne(db, sql: "SELECT ops_limit, mem_limit FROM recipients")!
      return (row[0] as Int, row[1] as Int)
    }
    #expect(ops >= 3)
    #expect(mem >= 64 << 20)
  }

  @Test func weakLimitsAreRefused() throws {
    let scratch = try ScratchDirectory()
    #expect(throws: VaultError.weakKeyDerivation(opsLimit: 1, memLimitMiB: 8)) {
      try VaultAccess.create(
        path: scratch.file("v.db"),
        firstRecipient: .passphrase(try passphrase("long enough passphrase"), .init(opsLimit: 1, memLimit: 8 << 20)),
        name: nil, user: "t")
    }
    #expect(!FileManager.default.fileExists(atPath: scratch.file("v.db")))
  }

  @Test func addListAndRemoveRecipients() throws {
    let vault = try TestVault()
    try vault.session.set(address(), value: bytes("v"))
    let ci = try Identity.generate()
    let added = try vault.session.addRecipient(.x25519(ci.recipient), name: "ci")
    #expect(added.name == "ci")
    #expect(throws: VaultError.self) { try vault.session.addRecipient(.x25519(ci.recipient), name: "again") }

    let ciSession = try VaultAccess.unlock(try SQLiteStore.open(path: vault.path), with: .identity(ci), user: "ci")
    #expect(try ciSession.get(address()).copyBytes() == bytes("v"))
    let listed = try ciSession.recipients()
    #expect(listed.map(\.name) == ["test", "ci"])
    #expect(listed.map(\.isSelf) == [false, true])

    try vault.session.removeRecipient(id: added.id)
    #expect(throws: VaultError.cannotUnlock) {
      try VaultAccess.unlock(try SQLiteStore.open(path: vault.path), with: .identity(ci), user: "ci")
    }
    // The remaining recipient still unlocks (its wrap was re-sealed) and history keeps the removal.
    let again = try vault.reopen()
    #expect(try again.get(address()).copyBytes() == bytes("v"))
    let all = try again.recipients(includeRemoved: true)
    #expect(all.count == 2)
    #expect(all[1].removedAt != nil)
    #expect(throws: VaultError.lastRecipient) { try again.removeRecipient(id: all[0].id) }
    #expect(throws: VaultError.recipientNotFound(id: 99)) { try again.removeRecipient(id: 99) }
  }

  @Test func wrapCopiedFromAnotherVaultDoesNotUnlock() throws {
    let one = try TestVault()
    let two = try TestVault()
    // Give vault two a wrap that vault one made for the same identity.
    let wrap = try one.session.sqlite.readSQL { db in try Data.fetchOne(db, sql: "SELECT wrapped_key FROM recipients")! }
    let oneKey = one.identity.recipient.description
    try two.tamper("UPDATE recipients SET wrapped_key = ?, public_key = ?", [wrap, oneKey])
    #expect(throws: VaultError.cannotUnlock) {
      try VaultAccess.unlock(try SQLiteStore.open(path: two.path), with: .identity(one.identity), user: "t")
    }
  }

  @Test func identityAndRecipientStringsRoundTrip() throws {
    let identity = try Identity.generate()
    let text = try identity.fileText(created: Date())
    let parsed = try Identity(parsing: text, source: "id")
    #expect(parsed.recipient == identity.recipient)
    #expect(try RecipientKey(parsing: identity.recipient.description) == identity.recipient)
    #expect(identity.recipient.description.hasPrefix("hsr1"))

    var typo = Array(identity.recipient.description)
    typo[10] = typo[10] == "A" ? "B" : "A"
    #expect(throws: VaultError.self) { try RecipientKey(parsing: String(typo)) }
    #expect(throws: VaultError.self) { try RecipientKey(parsing: "age1abc") }
    #expect(throws: VaultError.self) { try Identity(parsing: "# nothing here\n", source: "id") }
    let truncated = text.split(separator: "\n").map { $0.hasPrefix("HOTSECRETS") ? String($0.dropLast(3)) : String($0) }
      .joined(separator: "\n")
    #expect(throws: VaultError.self) { try Identity(parsing: truncated, source: "id") }
  }
}
