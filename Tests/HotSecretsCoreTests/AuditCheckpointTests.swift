import Foundation
import GRDB
import Sodium
import Testing

@testable import HotSecretsCompliance
@testable import HotSecretsModel
@testable import HotSecretsPolicy
@testable import HotSecretsVault
@testable import RemoteAPIs
@testable import VaultSQLite

@Suite struct AuditCheckpointTests {
  /// A vault with a few entries and the path of its checkpoints file (not yet written).
  func populated() throws -> (TestVault, String) {
    let vault = try TestVault()
    try vault.session.set(address("prod", "openai", "A"), value: bytes("1"))
    try vault.session.set(address("prod", "openai", "B"), value: bytes("2"))
    return (vault, vault.scratch.file("vault/audit-checkpoints.log"))
  }

  func lines(_ path: String) throws -> [String] {
    try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
  }

  func writeLines(_ lines: [String], to path: String) throws {
    try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
  }

  @Test func signAndVerifyRoundTrip() throws {
    let (vault, path) = try populated()
    let first = try AuditCheckpoints.write(session: vault.session, path: path)
    #expect(first.signingKeyCreated)
    let entries = try vault.session.auditEntries()
    // The key's creation is audited and is the head the first checkpoint signs.
    #expect(entries.last?.action == "signing-key-create")
    #expect(entries.last?.detail == "{\"public_key\":\"\(first.checkpoint.publicKeyBase64)\"}")
    #expect(first.checkpoint.seq == entries.last?.seq)
    #expect(first.checkpoint.hash == entries.last?.hash)

    try vault.session.set(address("prod", "openai", "C"), value: bytes("3"))
    let second = try AuditCheckpoints.write(session: try vault.reopen(), path: path)
    #expect(!second.signingKeyCreated)
    #expect(second.checkpoint.publicKey == first.checkpoint.publicKey)
    // No audit entry for the checkpoint itself.
    #expect(try vault.session.auditEntries().count == entries.count + 1)

    let written = try lines(path)
    #expect(written == [first.checkpoint.line, second.checkpoint.line])
    let parsed = try AuditCheckpoint.parse(written[1])
    #expect(parsed == second.checkpoint)
    #expect(parsed.signatureIsValid)
    #expect(
      parsed.signedText
        == "hotsecrets-checkpoint v1 seq=\(parsed.seq) hash=\(parsed.hash) time=\(parsed.time) vault=\(vault.session.vaultID) key=\(parsed.publicKeyBase64)"
    )
    #expect(
      Ed25519.verify(signature: parsed.signature, message: Array(parsed.signedText.utf8), publicKey: parsed.publicKey))

    for result in [
      try vault.session.database.verifyAudit(checkpoints: path), try vault.session.verifyAudit(checkpoints: path),
    ] {
      #expect(result.intact)
      #expect(result.checkpoints == 2)
      #expect(result.checkpointError == nil)
    }
  }

  /// (The CLI tests check the same under the binary's umask 077.)
  @Test func theFileIsCreatedReadableByAll() throws {
    let (vault, path) = try populated()
    try AuditCheckpoints.write(session: vault.session, path: path)
    let mode = try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    #expect(mode == 0o644)
  }

  @Test func aMissingFileIsNoCheckpoints() throws {
    let (vault, path) = try populated()
    let result = try vault.session.database.verifyAudit(checkpoints: path)
    #expect(result.intact)
    #expect(result.checkpoints == 0)
    #expect(result.checkpointError == nil)
  }

  @Test func aFileWithoutFinalNewlineGetsOneBeforeTheNextLine() throws {
    let (vault, path) = try populated()
    try AuditCheckpoints.write(session: vault.session, path: path)
    let text = try String(contentsOfFile: path, encoding: .utf8)
    try String(text.dropLast()).write(toFile: path, atomically: true, encoding: .utf8)
    try AuditCheckpoints.write(session: vault.session, path: path)
    #expect(try lines(path).count == 2)
    #expect(try vault.session.database.verifyAudit(checkpoints: path).checkpoints == 2)
  }

  @Test func aTamperedLineIsRefused() throws {
    let (vault, path) = try populated()
    try AuditCheckpoints.write(session: vault.session, path: path)
    try vault.session.set(address("prod", "openai", "C"), value: bytes("3"))
    let second = try AuditCheckpoints.write(session: vault.session, path: path).checkpoint
    // Claim an older head: a valid (seq, hash) pair of the chain, but not what was signed.
    let entries = try vault.session.auditEntries()
    var text = try lines(path)
    text[1] = text[1].replacingOccurrences(
      of: "seq=\(second.seq) hash=\(second.hash)", with: "seq=2 hash=\(entries[1].hash)")
    try writeLines(text, to: path)
    let result = try vault.session.database.verifyAudit(checkpoints: path)
    #expect(!result.intact)
    #expect(result.checkpoints == 1)
    #expect(
      result.checkpointError
        == "\(path) line 2: the signature does not verify with the line's key (the line was altered)")
    #expect(result.reason == result.checkpointError)
    #expect(result.firstBadSeq == nil)

    try writeLines([text[0], "hotsecrets-checkpoint v1 seq=1"], to: path)
    let malformed = try vault.session.database.verifyAudit(checkpoints: path)
    #expect(malformed.checkpointError?.hasPrefix("\(path) line 2: malformed line") == true)
  }

  @Test func aLineSignedByAnotherKeyIsRefused() throws {
    let (vault, path) = try populated()
    let real = try AuditCheckpoints.write(session: vault.session, path: path).checkpoint
    // A forger's key: the signature checks with the key in the line, but the key is not the vault's.
    let forged = try AuditCheckpoint(
      seq: real.seq, hash: real.hash, time: real.time, vaultID: real.vaultID, keyPair: try Ed25519.generate())
    #expect(forged.signatureIsValid)
    try writeLines([real.line, forged.line], to: path)
    let result = try vault.session.database.verifyAudit(checkpoints: path)
    #expect(!result.intact)
    #expect(result.checkpoints == 1)
    #expect(
      result.checkpointError
        == "\(path) line 2: signed by key \(forged.publicKeyBase64), not this vault's signing key \(real.publicKeyBase64)"
    )
  }

  @Test func aCheckpointOfAnotherVaultIsRefused() throws {
    let (vault, path) = try populated()
    let (other, _) = try populated()
    let foreign = try AuditCheckpoints.write(session: other.session, path: path).checkpoint
    let result = try vault.session.database.verifyAudit(checkpoints: path)
    #expect(!result.intact)
    #expect(
      result.checkpointError
        == "\(path) line 1: the checkpoint is for vault \(other.session.vaultID), not this vault (\(vault.session.vaultID))"
    )

    // The other vault's key with this vault's id: still refused, by key.
    try AuditCheckpoints.write(session: vault.session, path: vault.scratch.file("own.log"))
    let relabelled = try other.session.database.write { tx in
      try AuditCheckpoint(
        seq: foreign.seq, hash: foreign.hash, time: foreign.time, vaultID: vault.session.vaultID,
        keyPair: try SigningKey.loadOrCreate(
          keys: other.session.keys, vaultID: other.session.vaultID, actor: other.session.actor, at: Date(), in: tx
        ).pair)
    }
    try writeLines([relabelled.line], to: path)
    let byKey = try vault.session.database.verifyAudit(checkpoints: path)
    #expect(byKey.checkpointError?.contains("not this vault's signing key") == true)
  }

  @Test func aCheckpointWhenTheVaultHasNoSigningKeyIsRefused() throws {
    let (vault, path) = try populated()
    let (other, _) = try populated()
    let foreign = try AuditCheckpoints.write(session: other.session, path: other.scratch.file("x.log")).checkpoint
    let entries = try vault.session.auditEntries()
    let claimed = try other.session.database.write { tx in
      try AuditCheckpoint(
        seq: entries.last!.seq, hash: entries.last!.hash, time: foreign.time, vaultID: vault.session.vaultID,
        keyPair: try SigningKey.loadOrCreate(
          keys: other.session.keys, vaultID: other.session.vaultID, actor: other.session.actor, at: Date(), in: tx
        ).pair)
    }
    try writeLines([claimed.line], to: path)
    let result = try vault.session.database.verifyAudit(checkpoints: path)
    #expect(result.checkpointError == "\(path) line 1: this vault has no signing key, so no checkpoint can be its own")
  }

  @Test func truncationAfterACheckpointIsDetected() throws {
    let (vault, path) = try populated()
    try AuditCheckpoints.write(session: vault.session, path: path)
    try vault.session.set(address("prod", "openai", "C"), value: bytes("3"))
    try vault.session.set(address("prod", "openai", "D"), value: bytes("4"))
    let second = try AuditCheckpoints.write(session: vault.session, path: path).checkpoint
    let keep = second.seq - 2
    try vault.tamper("DELETE FROM audit_log WHERE seq > ?", [keep])
    // The chain alone still checks (with MACs too): only the checkpoint can tell.
    #expect(try vault.session.verifyAudit().intact)
    for result in [
      try vault.session.database.verifyAudit(checkpoints: path), try vault.session.verifyAudit(checkpoints: path),
    ] {
      #expect(!result.intact)
      #expect(result.checkpoints == 1)
      #expect(result.firstBadSeq == keep + 1)
      #expect(
        result.checkpointError
          == "\(path) line 2: checkpointed seq \(second.seq) is not in the audit chain, which ends at seq \(keep): the entries after seq \(keep) were deleted (truncated)"
      )
      #expect(result.headSeq == nil)
    }
  }

  @Test func truncationOfEntriesNoCheckpointCoveredGoesUnnoticed() throws {
    let (vault, path) = try populated()
    let checkpoint = try AuditCheckpoints.write(session: vault.session, path: path).checkpoint
    try vault.session.set(address("prod", "openai", "C"), value: bytes("3"))
    try vault.tamper("DELETE FROM audit_log WHERE seq > ?", [checkpoint.seq])
    #expect(try vault.session.database.verifyAudit(checkpoints: path).intact)
  }

  @Test func anEntryRewrittenBelowACheckpointIsDetected() throws {
    let (vault, path) = try populated()
    try vault.session.set(address("prod", "openai", "C"), value: bytes("3"))
    let checkpoint = try AuditCheckpoints.write(session: vault.session, path: path).checkpoint
    // Rewrite entry 3 and recompute every hash after it: the hash-only chain check passes.
    var entries = try vault.session.sqlite.readSQL { db in try SQLiteTransaction(db).auditEntries() }
    entries[2].actorUser = "mallory"
    for i in 2..<entries.count {
      entries[i].prevHash = entries[i - 1].hash
      entries[i].hash = try AuditChain.hash(of: entries[i])
      try vault.tamper(
        "UPDATE audit_log SET actor_user = ?, prev_hash = ?, hash = ? WHERE seq = ?",
        [entries[i].actorUser, entries[i].prevHash, entries[i].hash, entries[i].seq])
    }
    #expect(try vault.session.database.verifyAudit().intact)
    let result = try vault.session.database.verifyAudit(checkpoints: path)
    #expect(!result.intact)
    #expect(result.firstBadSeq == checkpoint.seq)
    #expect(
      result.checkpointError
        == "\(path) line 1: entry \(checkpoint.seq) no longer has the checkpointed hash: the chain was rewritten at or before seq \(checkpoint.seq)"
    )
  }

  @Test func aReplacedPublicKeyIsCaughtWhenUnlocked() throws {
    let (vault, path) = try populated()
    let real = try AuditCheckpoints.write(session: vault.session, path: path).checkpoint
    // Someone with write access swaps in their own public key and re-signs the file with it.
    let forger = try Ed25519.generate()
    try vault.tamper("UPDATE signing_key SET public_key = ?", [Data(forger.publicKey).base64EncodedString()])
    let forged = try AuditCheckpoint(
      seq: real.seq, hash: real.hash, time: real.time, vaultID: real.vaultID, keyPair: forger)
    try writeLines([forged.line], to: path)
    #expect(try vault.session.database.verifyAudit(checkpoints: path).intact)  // hash-only trusts the stored key
    let unlocked = try vault.session.verifyAudit(checkpoints: path)
    #expect(!unlocked.intact)
    #expect(unlocked.checkpointError?.contains("does not match the signing key (it was replaced)") == true)
    #expect(throws: VaultError.self) { try vault.session.signAuditCheckpoint() }
  }

  @Test func aBrokenChainKeepsItsOwnReasonAndStillCountsCheckpoints() throws {
    let (vault, path) = try populated()
    try AuditCheckpoints.write(session: vault.session, path: path)
    try vault.tamper("UPDATE audit_log SET actor_user = 'mallory' WHERE seq = 3")
    let result = try vault.session.database.verifyAudit(checkpoints: path)
    #expect(!result.intact)
    #expect(result.firstBadSeq == 3)
    #expect(result.reason == "hash does not match the entry's contents (entry edited)")
    #expect(result.checkpoints == 1)
    #expect(result.checkpointError == nil)
  }

  @Test func parseRejectsMalformedFields() throws {
    let (vault, path) = try populated()
    let good = try AuditCheckpoints.write(session: vault.session, path: path).checkpoint.line
    let cases: [(String, String)] = [
      ("something else", "not a hotsecrets checkpoint line"),
      (good.replacingOccurrences(of: " v1 ", with: " v2 "), "unsupported checkpoint format v2"),
      (good.replacingOccurrences(of: "seq=", with: "seq=0"), "malformed seq"),
      (good.replacingOccurrences(of: "hash=", with: "hash=A"), "malformed hash (expected 64 lower-case hex digits)"),
      (good.replacingOccurrences(of: "time=", with: "time=x"), "malformed time (expected YYYY-MM-DDTHH:MM:SSZ)"),
      (good.replacingOccurrences(of: "key=", with: "key=AA"), "malformed key (expected 32 bytes in base64)"),
      (good + " extra=1", "malformed line: expected the fields seq= hash= time= vault= key= sig="),
    ]
    for (line, reason) in cases {
      #expect(throws: AuditCheckpoint.ParseError(reason: reason)) { try AuditCheckpoint.parse(line) }
    }
  }

  @Test func base64AcceptsOnlyCanonicalPaddedText() throws {
    for count in 0..<70 {
      let data = try RandomBytes.bytes(count)
      let text = Data(data).base64EncodedString()
      #expect(Base64.encode(data) == text)
      #expect(Base64.decode(text.utf8) == data)
    }
    for bad in ["QQ", "QR==", "QUI", "QUJ=", "QU=I", "Q===", "QUJD\n", "QU-D", "QUJD===="] {
      #expect(Base64.decode(bad.utf8) == nil, "\(bad)")
    }
    #expect(Base64.decode("QQ==".utf8) == [0x41])
    #expect(Base64.decode("QUI=".utf8) == [0x41, 0x42])
  }
}
