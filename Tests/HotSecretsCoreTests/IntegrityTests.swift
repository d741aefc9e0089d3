import Foundation
import GRDB
import Testing

@testable import HotSecretsModel
@testable import HotSecretsVault
@testable import VaultSQLite

@Suite struct IntegrityTests {
  @Test func swappedCiphertextFailsWithTheAddress() throws {
    let vault = try TestVault()
    try vault.session.set(address("prod", "openai", "A"), value: bytes("alpha"))
    try vault.session.set(address("prod", "openai", "B"), value: bytes("bravo"))
    // Copy A's ciphertext into B's row: the AEAD's associated data (and nonce) refuse it.
    try vault.tamper(
      "UPDATE secret_versions SET ciphertext = (SELECT ciphertext FROM secret_versions WHERE id = 1) WHERE id = 2")
    #expect(throws: VaultError.integrity(subject: "prod/openai/B", version: 1)) {
      try vault.session.get(address("prod", "openai", "B"))
    }
    // With its nonce too, B's authenticated head (which covers the nonce) refuses it first.
    try vault.tamper(
      "UPDATE secret_versions SET nonce = (SELECT nonce FROM secret_versions WHERE id = 1) WHERE id = 2")
    #expect(throws: VaultError.headMismatch(subject: "prod/openai/B")) {
      try vault.session.get(address("prod", "openai", "B"))
    }
    #expect(try vault.session.get(address("prod", "openai", "A")).copyBytes() == bytes("alpha"))
  }

  @Test func flippedBitAndChangedVersionFail() throws {
    let vault = try TestVault()
    let a = try address()
    try vault.session.set(a, value: bytes("value"))
    try vault.tamper("UPDATE secret_versions SET ciphertext = zeroblob(length(ciphertext))")
    #expect(throws: VaultError.integrity(subject: a.description, version: 1)) { try vault.session.get(a) }

    let other = try TestVault()
    try other.session.set(a, value: bytes("value"))
    try other.tamper("UPDATE secret_versions SET version = 7")
    // The authenticated head catches a renumbered version before decryption is tried.
    #expect(throws: VaultError.headMismatch(subject: a.description)) { try other.session.get(a) }
  }

  @Test func sameKeyDifferentVaultIDFails() throws {
    // Two vaults that (hypothetically) shared a data key still cannot swap ciphertexts: the vault
    // id is part of the associated data.
    let keys = try VaultKeys.generate()
    let a = try address()
    let sealed = try ValueCipher(keys: keys, vaultID: "vault-one").seal(bytes("v"), for: a, version: 1)
    #expect(
      try ValueCipher(keys: keys, vaultID: "vault-one").open(
        nonce: sealed.nonce, ciphertext: sealed.ciphertext, for: a, version: 1
      ).copyBytes() == bytes("v"))
    #expect(throws: VaultError.integrity(subject: a.description, version: 1)) {
      try ValueCipher(keys: keys, vaultID: "vault-two").open(
        nonce: sealed.nonce, ciphertext: sealed.ciphertext, for: a, version: 1)
    }
    #expect(throws: VaultError.integrity(subject: "prod/openai/OTHER", version: 1)) {
      try ValueCipher(keys: keys, vaultID: "vault-one").open(
        nonce: sealed.nonce, ciphertext: sealed.ciphertext, for: try address("prod", "openai", "OTHER"), version: 1)
    }
  }

  @Test func ciphertextFromAnotherVaultFails() throws {
    let one = try TestVault()
    let two = try TestVault()
    let a = try address()
    try one.session.set(a, value: bytes("one"))
    try two.session.set(a, value: bytes("two"))
    // The ciphertext alone (the nonce too would trip the authenticated head first).
    let ct = try one.session.sqlite.readSQL { db in
      try Data.fetchOne(db, sql: "SELECT ciphertext FROM secret_versions")!
    }
    try two.tamper("UPDATE secret_versions SET ciphertext = ?", [ct])
    #expect(throws: VaultError.integrity(subject: a.description, version: 1)) { try two.session.get(a) }
  }
}
