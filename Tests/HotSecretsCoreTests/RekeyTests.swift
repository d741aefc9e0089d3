import Foundation
import GRDB
import Testing

@testable import HotSecretsCompliance
@testable import HotSecretsModel
@testable import HotSecretsOperations
@testable import HotSecretsPolicy
@testable import HotSecretsVault
@testable import RemoteAPIs
@testable import VaultSQLite

/// Re-keying, recipient removal and the legacy upgrade path (issue 13).
@Suite struct RekeyTests {
  func passphrase(_ s: String) throws -> SecretBytes { try SecretBytes(copying: Array(s.utf8)) }

  func unlock(_ path: String, _ identity: Identity) throws -> VaultSession {
    try VaultAccess.unlock(try SQLiteStore.open(path: path), with: .identity(identity), user: "t")
  }

  /// The attack of issue 13: bob keeps an old copy of the file (git history), is removed, and puts
  /// his old recipient row back into a copy of the current file. Nothing written after his removal
  /// opens, neither through his old wrap nor with the old data key.
  @Test func aRemovedRecipientsOldWrapOpensNothingWrittenAfterTheRemoval() throws {
    var vault = try TestVault()
    try vault.session.set(address(), value: bytes("before"))
    let bob = try Identity.generate()
    let added = try vault.session.addRecipient(.x25519(bob.recipient), name: "bob")
    let oldCopy = vault.scratch.file("old.db")
    // The file as git would hold it: the WAL checkpointed into it first.
    try DatabaseQueue(path: vault.path).writeWithoutTransaction { db in
      try db.execute(sql: "VACUUM INTO ?", arguments: [oldCopy])
    }

    vault.session = try vault.session.removeRecipient(id: added.id).session
    try vault.session.set(address(), value: bytes("after-removal"))
    #expect(throws: VaultError.cannotUnlock) { try unlock(vault.path, bob) }

    // Bob's old row (with its wrap of the old data key) put back, active, into the current file.
    let oldRow = try DatabaseQueue(path: oldCopy).read { db in
      try Row.fetchOne(db, sql: "SELECT public_key, wrapped_key FROM recipients WHERE id = ?", arguments: [added.id])!
    }
    try vault.tamper(
      "UPDATE recipients SET removed_at = NULL, public_key = ?, wrapped_key = ? WHERE id = ?",
      [oldRow[0] as String, oldRow[1] as Data, added.id])
    #expect(throws: VaultError.self) { try unlock(vault.path, bob) }

    // The old data key (bob can still unlock his old copy) does not open the new ciphertext.
    let bobsOld = try unlock(oldCopy, bob)
    let (nonce, ciphertext, version) = try DatabaseQueue(path: vault.path).read { db in
      let row = try Row.fetchOne(
        db, sql: "SELECT nonce, ciphertext, version FROM secret_versions WHERE state = 'current'")!
      return (Array(row[0] as Data), Array(row[1] as Data), row[2] as Int)
    }
    #expect(throws: VaultError.integrity(subject: try address().description, version: version)) {
      try bobsOld.cipher.open(nonce: nonce, ciphertext: ciphertext, for: try address(), version: version)
    }
  }

  @Test func rekeyKeepsEveryVersionTheAuditChainCheckpointsAndFingerprints() throws {
    let clock = Clock(Date(timeIntervalSince1970: 1_780_000_000))
    var vault = try TestVault(now: { clock.now })
    for i in 1...3 {
      for key in ["A", "B"] { try vault.session.set(address("prod", "openai", key), value: bytes("\(key)-\(i)")) }
    }
    try vault.session.set(address("staging", "shopify", "TOKEN"), value: bytes("staging-token"))
    let checkpointsFile = vault.scratch.file("audit-checkpoints.log")
    _ = try AuditCheckpoints.write(session: vault.session, path: checkpointsFile)
    let fingerprintsBefore = try vault.session.list().map(\.fingerprint)
    let ci = try Identity.generate()
    try vault.session.addRecipient(.x25519(ci.recipient), name: "ci")

    let (rekeyed, report) = try vault.session.rekey()
    vault.session = rekeyed
    #expect(report.epoch == 1)
    #expect(report.versions == 7)
    #expect(report.recipients == 2)
    // Values of every version still open, under the new key, from a fresh unlock by each recipient.
    for who in [vault.identity, ci] {
      let session = try unlock(vault.path, who)
      #expect(session.keys.epoch == 1)
      #expect(try session.get(address("prod", "openai", "A")).copyBytes() == bytes("A-3"))
      #expect(try session.versionValue(address("prod", "openai", "B"), version: 1) == bytes("B-1"))
      #expect(try session.list().map(\.fingerprint) == fingerprintsBefore)
    }
    // Entries before and after the re-key verify with MACs; the old checkpoint is still valid.
    try vault.session.set(address("prod", "openai", "A"), value: bytes("A-4"))
    _ = try AuditCheckpoints.write(session: vault.session, path: checkpointsFile)
    let check = try vault.session.verifyAudit(checkpoints: checkpointsFile)
    #expect(check.intact, "\(check.reason ?? "")")
    #expect(check.authenticated)
    #expect(check.checkpoints == 2)
    // A second re-key keeps both earlier epochs' entries verifiable.
    vault.session = try vault.session.rekey().session
    let again = try unlock(vault.path, ci).verifyAudit(checkpoints: checkpointsFile)
    #expect(again.intact, "\(again.reason ?? "")")
    #expect(try unlock(vault.path, ci).keys.epoch == 2)
  }

  @Test func aPassphraseRecipientIsRewrappedWithoutItsPassphrase() throws {
    let scratch = try ScratchDirectory()
    let path = scratch.file("v.db")
    let owner = try Identity.generate()
    let session = try VaultAccess.create(
      path: path, firstRecipient: .x25519(owner.recipient), name: "owner", user: "t")
    try session.addRecipient(.passphrase(try passphrase("a long team passphrase"), .standard), name: "team")
    try session.set(address(), value: bytes("v1"))
    // The owner (an identity) re-keys; the passphrase recipient still opens the new key.
    let (rekeyed, _) = try session.rekey()
    try rekeyed.set(address(), value: bytes("v2"))
    let viaPassphrase = try VaultAccess.unlock(
      try SQLiteStore.open(path: path), with: .passphrase(try passphrase("a long team passphrase")), user: "t")
    #expect(try viaPassphrase.get(address()).copyBytes() == bytes("v2"))
    #expect(throws: VaultError.cannotUnlock) {
      try VaultAccess.unlock(try SQLiteStore.open(path: path), with: .passphrase(try passphrase("wrong one")), user: "t")
    }
    // A keyless writer who swaps in a public key of their own gets a recipient that no longer opens.
    let attacker = try Identity.generate()
    let queue = try DatabaseQueue(path: path)
    try queue.write { db in
      try db.execute(
        sql: "UPDATE recipients SET public_key = ? WHERE kind = 'passphrase'", arguments: [attacker.recipient.description])
    }
    #expect(throws: VaultError.cannotUnlock) {
      try VaultAccess.unlock(
        try SQLiteStore.open(path: path), with: .passphrase(try passphrase("a long team passphrase")), user: "t")
    }
  }

  /// Makes `vault` look like one written before issue 13: a v1 key check and a passphrase recipient
  /// holding the data key under its passphrase alone.
  func makeLegacy(_ vault: TestVault, passphrases: [String]) throws {
    let keys = vault.session.keys
    try vault.tamper(
      "UPDATE vault_meta SET key_check = ?", [try keys.legacyKeyCheck(vaultID: vault.session.vaultID)])
    for (i, text) in passphrases.enumerated() {
      try LegacyPassphrase.add(text, to: vault.session, name: "legacy-\(i)")
    }
  }

  @Test func aLegacyPassphraseRecipientBlocksRekeyUntilUpgradedAndNothingHalfHappens() throws {
    let vault = try TestVault()
    try vault.session.set(address(), value: bytes("value"))
    try makeLegacy(vault, passphrases: ["first legacy passphrase", "second legacy passphrase"])
    let owner = try vault.reopen()
    #expect(!owner.authenticatesHeads)
    #expect(throws: VaultError.recipientsNeedUpgrade(["recipient 2 (legacy-0)", "recipient 3 (legacy-1)"])) {
      try owner.rekey()
    }
    let epoch = try DatabaseQueue(path: vault.path).read { db in try Int.fetchOne(db, sql: "SELECT epoch FROM vault_meta") }
    #expect(epoch == 0)

    // The first legacy holder re-keys: their own recipient converts on the way, the other still blocks.
    let first = try VaultAccess.unlock(
      try SQLiteStore.open(path: vault.path), with: .passphrase(try passphrase("first legacy passphrase")), user: "t")
    #expect(throws: VaultError.recipientsNeedUpgrade(["recipient 3 (legacy-1)"])) { try first.rekey() }
    // The second upgrades in place (same data key); then anyone can re-key.
    let second = try VaultAccess.unlock(
      try SQLiteStore.open(path: vault.path), with: .passphrase(try passphrase("second legacy passphrase")), user: "t")
    #expect(try second.upgradeOwnRecipient())
    #expect(try !second.upgradeOwnRecipient())
    let (_, report) = try first.rekey()
    #expect(report.upgraded == 1)
    #expect(report.authenticatedHeads)
    for text in ["first legacy passphrase", "second legacy passphrase"] {
      let session = try VaultAccess.unlock(
        try SQLiteStore.open(path: vault.path), with: .passphrase(try passphrase(text)), user: "t")
      #expect(session.authenticatesHeads)
      #expect(try session.get(address()).copyBytes() == bytes("value"))
    }
  }

  @Test func aLegacyVaultIsUpgradedByItsFirstRekeyAndThenRefusesADowngrade() throws {
    let vault = try TestVault()
    try vault.session.set(address(), value: bytes("v1"))
    try vault.session.set(address(), value: bytes("v2"))
    try makeLegacy(vault, passphrases: [])
    let legacyCheck = try DatabaseQueue(path: vault.path).read { db in
      try String.fetchOne(db, sql: "SELECT key_check FROM vault_meta")!
    }
    let legacy = try vault.reopen()
    #expect(!legacy.authenticatesHeads)
    _ = try legacy.rekey()
    let upgraded = try vault.reopen()
    #expect(upgraded.authenticatesHeads)
    // Swapping states is now caught.
    try vault.tamper(
      "UPDATE secret_versions SET state = CASE state WHEN 'current' THEN 'previous' ELSE 'current' END")
    #expect(throws: VaultError.headMismatch(subject: try address().description)) { try upgraded.get(address()) }
    // Putting the old v1 key check back does not downgrade: it belonged to the old data key.
    try vault.tamper("UPDATE vault_meta SET key_check = ?, epoch = 0", [legacyCheck])
    #expect(throws: VaultError.self) { try vault.reopen() }
  }

  @Test func aSessionFromBeforeARekeyCannotWrite() throws {
    let vault = try TestVault()
    try vault.session.set(address(), value: bytes("v1"))
    let other = try vault.reopen()
    _ = try other.rekey()
    #expect(throws: VaultError.rekeyedMeanwhile) { try vault.session.set(address(), value: bytes("stale")) }
    #expect(try vault.reopen().get(address()).copyBytes() == bytes("v1"))
  }

  @Test func removalRecordsExposuresThatRotationCloses() throws {
    let clock = Clock(Date(timeIntervalSince1970: 1_780_000_000))
    var vault = try TestVault(now: { clock.now })
    try vault.session.set(address("prod", "openai", "OLD"), value: bytes("old"))
    clock.advance(days: 1)
    let bob = try Identity.generate()
    let added = try vault.session.addRecipient(.x25519(bob.recipient), name: "bob")
    try vault.session.set(address("prod", "openai", "A"), value: bytes("a1"))
    try vault.session.set(address("prod", "openai", "B"), value: bytes("b1"))
    clock.advance(days: 1)
    let (session, report) = try vault.session.removeRecipient(id: added.id)
    vault.session = session
    #expect(report.exposedVersions == 3)
    var exposed = try vault.session.list(environment: "prod").filter { !$0.exposedTo.isEmpty }
    #expect(exposed.map(\.address.key) == ["A", "B", "OLD"])
    #expect(exposed[0].exposedTo.map(\.name) == ["bob"])

    clock.advance(days: 1)
    try vault.session.set(address("prod", "openai", "A"), value: bytes("a2"))
    exposed = try vault.session.list(environment: "prod").filter { !$0.exposedTo.isEmpty }
    #expect(exposed.map(\.address.key) == ["B", "OLD"])
    let records = try vault.session.exposureRecords(environment: "prod")
    let a = try #require(records.first { $0.address.key == "A" })
    #expect(a.versions == [1])
    #expect(!a.isOpen)
    #expect(a.closedAt == Timestamp.string(from: clock.now))
    #expect(records.first { $0.address.key == "B" }?.isOpen == true)

    // A keyless writer cannot clear an exposure to silence the warning.
    try vault.tamper("UPDATE secrets SET head_exposed = '' WHERE key = 'B'")
    #expect(throws: VaultError.headMismatch(subject: "prod/openai/B")) { try vault.session.list(environment: "prod") }
  }
}

/// What an independent attacker's review of issue 13 found, each closed with a test.
@Suite struct RekeyReviewTests {
  func withRemovedBob() throws -> (TestVault, bobID: Int64) {
    var vault = try TestVault()
    try vault.session.set(address(), value: bytes("v1"))
    let bob = try Identity.generate()
    let added = try vault.session.addRecipient(.x25519(bob.recipient), name: "bob")
    vault.session = try vault.session.removeRecipient(id: added.id).session
    return (vault, added.id)
  }

  func epoch(_ vault: TestVault) throws -> Int {
    try DatabaseQueue(path: vault.path).read { db in try Int.fetchOne(db, sql: "SELECT epoch FROM vault_meta")! }
  }

  /// Reviving a removed recipient (or inserting one) must not get the next re-key's data key
  /// wrapped to it, nor hide its exposure findings.
  @Test func aRevivedOrInsertedRecipientIsRefusedBeforeAnyRewrap() throws {
    let (vault, bob) = try withRemovedBob()
    try vault.tamper("UPDATE recipients SET removed_at = NULL WHERE id = ?", [bob])
    let session = try vault.reopen()
    #expect(throws: VaultError.recipientsMismatch) { try session.rekey() }
    #expect(throws: VaultError.recipientsMismatch) { try session.recipients() }
    #expect(try epoch(vault) == 1)

    let (other, _) = try withRemovedBob()
    let attacker = try Identity.generate()
    try other.tamper(
      "INSERT INTO recipients (kind, name, public_key, added_at) VALUES ('x25519', 'mallory', ?, '2026-01-01T00:00:00Z')",
      [attacker.recipient.description])
    #expect(throws: VaultError.recipientsMismatch) { try other.reopen().rekey() }
    #expect(throws: VaultError.recipientsMismatch) {
      try other.reopen().addRecipient(.x25519(try Identity.generate().recipient), name: "new")
    }
  }

  /// Deleting exposure rows (offboarding evidence) is caught by readers and by a re-key.
  @Test func deletedExposuresAreCaughtNotLaundered() throws {
    let (vault, _) = try withRemovedBob()
    try vault.tamper("DELETE FROM exposures")
    let session = try vault.reopen()
    #expect(throws: VaultError.self) { try session.list(environment: "prod") }
    #expect(throws: VaultError.self) { try session.exposureRecords(environment: "prod") }
    #expect(throws: VaultError.headMismatch(subject: try address().description)) { try session.rekey() }
    #expect(try epoch(vault) == 1)
  }

  /// A re-key does not re-seal a state a keyless writer changed.
  @Test func aRekeyDoesNotLaunderASwappedCurrentVersion() throws {
    let vault = try TestVault()
    try vault.session.set(address(), value: bytes("old"))
    try vault.session.set(address(), value: bytes("new"))
    try vault.tamper(
      "UPDATE secret_versions SET state = CASE state WHEN 'current' THEN 'previous' ELSE 'current' END")
    #expect(throws: VaultError.headMismatch(subject: try address().description)) { try vault.session.rekey() }
    try vault.tamper(
      "UPDATE secret_versions SET state = CASE state WHEN 'current' THEN 'previous' ELSE 'current' END")
    // A whole deleted environment is caught too.
    try vault.session.set(address("staging", "app", "K"), value: bytes("s"))
    try vault.tamper("DELETE FROM secret_versions WHERE secret_id = (SELECT id FROM secrets WHERE environment = 'staging')")
    try vault.tamper("DELETE FROM secrets WHERE environment = 'staging'")
    #expect(throws: VaultError.environmentMismatch(environment: "staging")) { try vault.session.rekey() }
  }

  /// Exposure does not depend on dates a keyless writer (or a clock running ahead) controls.
  @Test func exposureIgnoresFutureCreationDates() throws {
    var vault = try TestVault()
    try vault.session.set(address(), value: bytes("v1"))
    let bob = try Identity.generate()
    let added = try vault.session.addRecipient(.x25519(bob.recipient), name: "bob")
    try vault.tamper("UPDATE secret_versions SET created_at = '9999-01-01T00:00:00Z'")
    let (session, report) = try vault.session.removeRecipient(id: added.id)
    vault.session = session
    #expect(report.exposedVersions == 1)
  }

  /// rm at v3, the tombstone deleted, a new v3 set, and the old v3's nonce and ciphertext pasted
  /// back from a backup: the head covers the nonce, so the old value is not served.
  @Test func aPastedBackupCiphertextAtAReusedVersionIsRefused() throws {
    let vault = try TestVault()
    for value in ["one", "two", "three"] { try vault.session.set(address(), value: bytes(value)) }
    let old = try DatabaseQueue(path: vault.path).read { db in
      try Row.fetchOne(db, sql: "SELECT nonce, ciphertext FROM secret_versions WHERE version = 3")!
    }
    let (nonce, ciphertext): (Data, Data) = (old[0], old[1])
    try vault.session.remove(address())
    try vault.tamper("DELETE FROM secret_versions WHERE version = 3")
    try vault.session.set(address(), value: bytes("fresh"))
    try vault.tamper("UPDATE secret_versions SET nonce = ?, ciphertext = ? WHERE version = 3", [nonce, ciphertext])
    #expect(throws: VaultError.headMismatch(subject: try address().description)) { try vault.session.get(address()) }
  }

  /// The audit trail cut back below a re-key: `audit verify` says so, and nothing more is written
  /// into the old epoch's range (whose MAC key a removed recipient may hold).
  @Test func anAuditTrailCutBelowTheLastRekeyIsRefused() throws {
    let (vault, _) = try withRemovedBob()
    let boundary = try DatabaseQueue(path: vault.path).read { db in
      try Int64.fetchOne(db, sql: "SELECT MIN(seq) FROM audit_log WHERE action IN ('recipient-remove', 'rekey')")!
    }
    // Cut the re-key's entries and the last entry before it: the next append would reuse a seq
    // the retired audit key covers.
    try vault.tamper("DELETE FROM audit_log WHERE seq >= ?", [boundary - 1])
    let session = try vault.reopen()
    let check = try session.verifyAudit()
    #expect(!check.intact)
    #expect(check.reason?.contains("before the last re-key") == true)
    #expect(throws: VaultError.self) { try session.set(address(), value: bytes("v2")) }
  }
}
