import Foundation
import GRDB
import Testing

@testable import HotSecretsModel
@testable import HotSecretsOperations
@testable import HotSecretsPolicy
@testable import HotSecretsVault
@testable import VaultSQLite

/// A writer of the store without the keys cannot change what readers take as a secret's current
/// value, revive a removed secret, or hide one (issue 13). Every reader — `get`, the environment
/// read behind verify/render/run/sync/export, `list`, `history`, the write path — refuses.
@Suite struct SecretHeadsTests {
  /// prod/openai/API_KEY with versions 1 (retired), 2 (previous), 3 (current); prod/openai/OTHER; and
  /// prod/openai/GONE, removed.
  func vault() throws -> TestVault {
    let vault = try TestVault()
    for value in ["one", "two", "three"] { try vault.session.set(address(), value: bytes(value)) }
    try vault.session.set(address("prod", "openai", "OTHER"), value: bytes("other"))
    try vault.session.set(address("prod", "openai", "GONE"), value: bytes("gone"))
    try vault.session.remove(address("prod", "openai", "GONE"))
    return vault
  }

  /// Every read path must throw `expected` (or, for `get`/`history` of another key, still work).
  func expectEveryReaderRefuses(_ vault: TestVault, _ expected: VaultError, key: String = "API_KEY") throws {
    let session = try vault.reopen()
    let name = try address("prod", "openai", key)
    #expect(throws: expected) { try session.currentVersions(environment: "prod") }
    #expect(throws: expected) { try session.list(environment: "prod") }
    #expect(throws: expected) { try session.set(name, value: bytes("new")) }
    if case .headMismatch = expected {
      #expect(throws: expected) { try session.get(name) }
      // history of a secret with no version rows checks the environment's set first.
      #expect(throws: VaultError.self) { try session.history(name) }
    }
  }

  @Test func anUntouchedVaultReadsCleanly() throws {
    let vault = try vault()
    let session = try vault.reopen()
    #expect(try session.get(address()).copyBytes() == bytes("three"))
    #expect(try session.list(environment: "prod").map(\.address.key) == ["API_KEY", "OTHER"])
    #expect(throws: VaultError.secretNotFound(subject: "prod/openai/GONE")) {
      try session.get(address("prod", "openai", "GONE"))
    }
  }

  @Test func swappingCurrentAndPreviousIsCaught() throws {
    let vault = try vault()
    try vault.tamper(
      """
      UPDATE secret_versions SET state = CASE state WHEN 'current' THEN 'previous' ELSE 'current' END
      WHERE state IN ('current', 'previous') AND secret_id = 1
      """)
    try expectEveryReaderRefuses(vault, .headMismatch(subject: "prod/openai/API_KEY"))
  }

  @Test func pointingTheCurrentVersionAtAnOlderOneIsCaught() throws {
    let vault = try vault()
    // Both the state and the recorded head version moved (the MAC is what the writer cannot redo).
    try vault.tamper("UPDATE secret_versions SET state = 'retired' WHERE secret_id = 1 AND version = 3")
    try vault.tamper("UPDATE secret_versions SET state = 'current' WHERE secret_id = 1 AND version = 1")
    try vault.tamper("UPDATE secrets SET head_version = 1 WHERE id = 1")
    try expectEveryReaderRefuses(vault, .headMismatch(subject: "prod/openai/API_KEY"))
  }

  @Test func deletingTheCurrentRowIsCaught() throws {
    let vault = try vault()
    try vault.tamper("DELETE FROM secret_versions WHERE secret_id = 1 AND version = 3")
    try expectEveryReaderRefuses(vault, .headMismatch(subject: "prod/openai/API_KEY"))
  }

  @Test func revivingARemovedSecretIsCaught() throws {
    let vault = try vault()
    // Its rows marked current again (a backup's ciphertext could be copied in as well).
    try vault.tamper("UPDATE secret_versions SET state = 'current' WHERE secret_id = 3")
    try expectEveryReaderRefuses(vault, .headMismatch(subject: "prod/openai/GONE"), key: "GONE")
  }

  @Test func deletingASecretOutrightIsCaught() throws {
    let vault = try vault()
    try vault.tamper("DELETE FROM secret_versions WHERE secret_id = 2")
    try vault.tamper("DELETE FROM secrets WHERE id = 2")
    try expectEveryReaderRefuses(vault, .environmentMismatch(environment: "prod"), key: "OTHER")
    // `get` of the deleted secret is not a quiet "no secret".
    #expect(throws: VaultError.environmentMismatch(environment: "prod")) {
      try vault.reopen().get(address("prod", "openai", "OTHER"))
    }
  }

  @Test func addingASecretOrSwappingFingerprintsIsCaught() throws {
    let vault = try vault()
    try vault.tamper(
      "UPDATE secret_versions SET fingerprint = (SELECT fingerprint FROM secret_versions WHERE secret_id = 2) WHERE secret_id = 1 AND state = 'current'"
    )
    try expectEveryReaderRefuses(vault, .headMismatch(subject: "prod/openai/API_KEY"))

    let fresh = try self.vault()
    try fresh.tamper(
      "INSERT INTO secrets (environment, service, key, created_at, head_mac) SELECT environment, service, 'EXTRA', created_at, head_mac FROM secrets WHERE id = 2"
    )
    try expectEveryReaderRefuses(fresh, .headMismatch(subject: "prod/openai/EXTRA"), key: "EXTRA")
  }
}
