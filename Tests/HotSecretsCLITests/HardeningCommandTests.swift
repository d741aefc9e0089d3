import Foundation
import Testing

@testable import HotSecretsCLI
@testable import HotSecretsCore

/// Local hardening, end to end (docs/security.md).
@Suite struct HardeningCommandTests {
  // MARK: - Process

  @Test func theProcessIsMadeNonDumpable() throws {
    typealias Prctl = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
    let prctl = unsafeBitCast(try #require(dlsym(nil, "prctl")), to: Prctl.self)
    #expect(prctl(ProcessHardening.prGetDumpable, 0, 0, 0, 0) == 1)
    #expect(ProcessHardening.disableDumping())
    #expect(prctl(ProcessHardening.prGetDumpable, 0, 0, 0, 0) == 0)
    _ = prctl(ProcessHardening.prSetDumpable, 1, 0, 0, 0)  // the rest of the test run may need it
  }

  // MARK: - New passphrases

  @Test func initRefusesAShortPassphraseFromEveryInput() throws {
    let h = try CLIHarness()
    let rule = "a new passphrase must have at least 12 characters"
    let fromEnvironment = try h.run(["init"], env: ["HOTSECRETS_PASSPHRASE": "elevenchars"])
    #expect(fromEnvironment.status == 2)
    #expect(fromEnvironment.stderr == "hotsecrets: error: \(rule)\n")
    try "short\n".write(toFile: h.path("pass.txt"), atomically: true, encoding: .utf8)
    let fromFile = try h.run(["init", "--passphrase-file", "pass.txt"])
    #expect(fromFile.status == 2)
    #expect(fromFile.stderr.contains(rule))
    #expect(!FileManager.default.fileExists(atPath: h.path("vault/hotsecrets.db")))
    #expect(try h.run(["init"], env: ["HOTSECRETS_PASSPHRASE": "twelve chars"]).status == 0)
  }

  @Test func recipientsAddRefusesAShortPassphrase() throws {
    let h = try CLIHarness.withIdentityVault()
    let fromEnvironment = try h.run(
      ["recipients", "add", "--passphrase"], env: ["HOTSECRETS_NEW_PASSPHRASE": "too-short"])
    #expect(fromEnvironment.status == 2)
    #expect(fromEnvironment.stderr.contains("a new passphrase must have at least 12 characters"))
    try "short\n".write(toFile: h.path("new.txt"), atomically: true, encoding: .utf8)
    let fromFile = try h.run(["recipients", "add", "--passphrase", "--new-passphrase-file", "new.txt"])
    #expect(fromFile.status == 2)
    #expect(fromFile.stderr.contains("a new passphrase must have at least 12 characters"))
    #expect(
      try h.run(["recipients", "list"]).stdout.split(separator: "\n").filter { $0.contains("passphrase") }.isEmpty)
    let ok = try h.run(
      ["recipients", "add", "--passphrase", "--name", "break-glass"],
      env: ["HOTSECRETS_NEW_PASSPHRASE": "a long break-glass passphrase"])
    #expect(ok.status == 0, "\(ok.allOutput)")
  }

  @Test func aVaultWithAnOldShortPassphraseStillUnlocks() throws {
    let h = try CLIHarness.withIdentityVault()
    try h.run(["set", "prod", "app", "K"], stdin: "v")
    let session = try VaultAccess.unlock(
      try VaultDatabase.open(path: h.path("vault/hotsecrets.db")),
      with: .identity(try Identity.load(path: h.path("ci.identity"))), user: "t")
    let wrap = try KeyWrap.wrap(
      session.keys, passphrase: try SecretBytes(copying: Array("old-pw".utf8)), vaultID: session.vaultID,
      limits: .standard)
    var record = RecipientRecord(
      id: nil, kind: Recipient.Kind.passphrase.rawValue, name: "legacy", publicKey: nil, wrappedKey: wrap.wrapped,
      wrapNonce: wrap.nonce, salt: wrap.salt, opsLimit: Int64(wrap.limits.opsLimit),
      memLimit: Int64(wrap.limits.memLimit), addedAt: "2026-01-01T00:00:00Z", removedAt: nil)
    try session.database.write { db in try record.insert(db) }
    let r = try h.run(
      ["get", "prod", "app", "K"], env: ["HOTSECRETS_IDENTITY": "", "HOTSECRETS_PASSPHRASE": "old-pw"])
    #expect(r.status == 0, "\(r.allOutput)")
    #expect(r.stdout == "v")
  }
}
