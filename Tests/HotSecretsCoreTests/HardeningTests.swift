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

/// Local hardening (docs/security.md): secure_delete, value and passphrase limits, formats matched in linear time.
@Suite struct HardeningTests {
  // MARK: - secure_delete

  /// Whether `needle` occurs in the vault file or its WAL.
  func fileHolds(_ needle: [UInt8], vault path: String) -> Bool {
    [path, path + "-wal"].contains { file in
      guard let data = FileManager.default.contents(atPath: file) else { return false }
      return Array(data).firstRange(of: needle) != nil
    }
  }

  func checkpoint(_ database: SQLiteStore) throws {
    try database.queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
  }

  @Test func everyConnectionHasSecureDeleteOn() throws {
    let vault = try TestVault()
    #expect(try vault.session.sqlite.readSQL { db in try Int.fetchOne(db, sql: "PRAGMA secure_delete") } == 1)
    let reopened = try SQLiteStore.open(path: vault.path)
    #expect(try reopened.readSQL { db in try Int.fetchOne(db, sql: "PRAGMA secure_delete") } == 1)
  }

  @Test func removedCiphertextIsZeroedInTheFile() throws {
    let vault = try TestVault()
    let a = try address()
    try vault.session.set(a, value: bytes(String(repeating: "secret-value-", count: 40)))
    let ciphertext = try vault.session.sqlite.readSQL { db in
      Array(try #require(try Data.fetchOne(db, sql: "SELECT ciphertext FROM secret_versions")))
    }
    try checkpoint(vault.session.sqlite)
    let needle = Array(ciphertext[32..<96])
    try #require(fileHolds(needle, vault: vault.path))  // the search itself works
    try vault.session.remove(a)
    try checkpoint(vault.session.sqlite)
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

  // MARK: - Value size

  @Test func valuesAreAtMost64KiB() throws {
    let vault = try TestVault()
    let a = try address("prod", "app", "BIG")
    #expect(SecretValueLimit.maximumBytes == 65_536)
    try vault.session.set(a, value: [UInt8](repeating: UInt8(ascii: "x"), count: 65_536))
    let tooLarge = [UInt8](repeating: UInt8(ascii: "y"), count: 65_537)
    #expect(throws: VaultError.valueTooLarge(subject: "prod/app/BIG", maximumBytes: 65_536)) {
      try vault.session.set(a, value: tooLarge)
    }
    #expect(try vault.session.history(a).count == 1)
    let message = VaultError.valueTooLarge(subject: "prod/app/BIG", maximumBytes: 65_536).errorDescription ?? ""
    #expect(message.contains("prod/app/BIG") && message.contains("65536 bytes"))
  }

  @Test func anImportWithOneOversizedValueStoresNothing() throws {
    let vault = try TestVault()
    let snapshot = try MirrorReaderTestFiles.snapshot(
      environment: "prod",
      files: ["app": "SMALL=fine\nBIG=\(String(repeating: "z", count: 70_000))\n", "openai": "KEY=also-fine\n"])
    #expect(throws: VaultError.valueTooLarge(subject: "prod/app/BIG", maximumBytes: 65_536)) {
      try vault.session.importMirror(snapshot, environment: "prod", prune: false, dryRun: false)
    }
    #expect(try vault.session.list().isEmpty)
  }

  // MARK: - Passphrases

  func secret(_ text: String) throws -> SecretBytes { try SecretBytes(copying: Array(text.utf8)) }

  @Test func newPassphrasesNeedTwelveCharacters() throws {
    #expect(throws: VaultError.passphraseTooShort(minimumCharacters: 12)) {
      try PassphraseRule.check(try secret("elevenchars"))
    }
    try PassphraseRule.check(try secret("twelve chars"))
    // Characters, not bytes: 11 two-byte letters are still too short, 12 are enough.
    #expect(throws: VaultError.passphraseTooShort(minimumCharacters: 12)) {
      try PassphraseRule.check(try secret(String(repeating: "é", count: 11)))
    }
    try PassphraseRule.check(try secret(String(repeating: "é", count: 12)))

    let scratch = try ScratchDirectory()
    #expect(throws: VaultError.passphraseTooShort(minimumCharacters: 12)) {
      try VaultAccess.create(
        path: scratch.file("v.db"), firstRecipient: .passphrase(try secret("short"), .standard), name: nil, user: "t")
    }
    #expect(!FileManager.default.fileExists(atPath: scratch.file("v.db")))
    let vault = try TestVault()
    #expect(throws: VaultError.passphraseTooShort(minimumCharacters: 12)) {
      try vault.session.addRecipient(.passphrase(try secret("short"), .standard), name: "weak")
    }
    #expect(try vault.session.recipients().count == 1)
  }

  @Test func anExistingShortPassphraseStillUnlocks() throws {
    let vault = try TestVault()
    try LegacyPassphrase.add("old-pw", to: vault.session)
    let session = try VaultAccess.unlock(
      try SQLiteStore.open(path: vault.path), with: .passphrase(try secret("old-pw")), user: "t")
    #expect(session.actor.recipient == "2:legacy")
  }

  // MARK: - Policy formats and lengths

  func policy(format: String? = nil, length: String? = nil) -> String {
    var key = "{ rotate: generate"
    if let format { key += ", format: '\(format)'" }
    if let length { key += ", length: \(length)" }
    return "version: 1\nenvironment: prod\nservices:\n  app:\n    keys:\n      K: \(key) }\n"
  }

  /// Shapes a backtracking engine would take hours on: accepted now, and matched in linear time
  /// (FormatMatcherTests has the rest of the adversarial cases).
  @Test(arguments: [
    ("^(a+)+$", false), ("(a*)*", true), ("(a|a)*", true), ("^(a|aa)+$", false), ("(.*a){20}", true), ("(a?)+", true),
    ("([a-z]+\\.)+com", false), ("\\d+\\d*", false), (".*.*!", true), ("a+-?a+$", false), ("^(\\w+\\s?)+$", false),
    ("(x+x+)+y", false), ("[a-z]+!x", false),
  ])
  func formerlyCatastrophicFormatsLoadAndFinishAtOnce(pattern: String, expected: Bool) throws {
    let loaded = try PolicyParser.parse(policy(format: pattern), file: "policies/prod.yaml")
    let rule = try #require(loaded.service("app")?.key("K")?.format)
    let value = String(repeating: "a", count: 65_535) + "!"
    let start = Date()
    #expect(rule.matches(value) == expected)
    #expect(Date().timeIntervalSince(start) < 1, "\(pattern)")  // a safety net: the outcome is what matters
  }

  @Test(arguments: [
    "(\\b)*", "((a)\\2)+", "(?=(a+)+)b", "^(?<name>a|ab)*$", "\\bkey\\b", "^(?i)[a-f0-9]{40}$", "a*+b", "(?>a+)b",
  ])
  func constructsOnlyABacktrackingEngineHasAreRefusedAtLoad(pattern: String) throws {
    let error = #expect(throws: PolicyError.self) {
      try PolicyParser.parse(policy(format: pattern), file: "policies/prod.yaml")
    }
    let message = error?.errorDescription ?? ""
    #expect(message.hasPrefix("policies/prod.yaml:6:"), "\(message)")
    #expect(message.contains("format '\(pattern)' of key app/K uses "), "\(message)")
    #expect(message.hasSuffix("which hotsecrets does not support (see docs/policy.md)"), "\(message)")
  }

  @Test(arguments: [
    "^sk-[A-Za-z0-9_-]{20,}$", "^https://[a-z0-9]{20}\\.supabase\\.co$",
    "^(sb_secret_[A-Za-z0-9_-]{16,}|eyJ[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+)$", "^postgres(ql)?://",
    "^[0-9a-f]{32}$", "^(shpss_)?[0-9a-f]{32}$", "^shpat_[0-9a-fA-F]{32}$", "^[a-z0-9][a-z0-9-]*\\.myshopify\\.com$",
    "^rediss?://", "^sk-", "(ab|cd)+", "^(?:[0-9]{3}-)+[0-9]{4}$", "^[A-Z]+_[0-9]+$", "[^a]+a",
    "^a+(-a+)?$", "(a(b|c))+", "[a-z.]+com", "^[A-Za-z0-9+/]+={0,2}$", "^-----BEGIN [A-Z ]+-----", "^[^@]+@[^@]+$",
    "^\\d{4}-\\d{2}-\\d{2}$", "^https?://[^/]+/.*$", "^[a-fA-F0-9]{40}$", "^\\x{41}+\\u{42}$",
  ])
  func ordinaryFormatsAreAccepted(pattern: String) throws {
    _ = try FormatRule(pattern: pattern)
  }

  @Test func theShippedPoliciesAndTheDocsExampleLoad() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    for name in ["policies/prod.yaml", "policies/staging.yaml"] {
      _ = try PolicyParser.load(path: root.appendingPathComponent(name).path)
    }
    let docs = try String(contentsOf: root.appendingPathComponent("docs/policy.md"), encoding: .utf8)
    let example = try #require(
      docs.components(separatedBy: "```yaml\n").dropFirst().first?.components(separatedBy: "```").first)
    _ = try PolicyParser.parse(example, file: "docs/policy.md")
  }

  /// Swift's Regex would take minutes here (2^39 ways to split the a's); the linear matcher
  /// answers at once. The time bound is a safety net.
  @Test func nestedQuantifiersFinishAtOnce() throws {
    let start = Date()
    let nested = try FormatRule(pattern: "^(a+)+$")
    #expect(!nested.matches(String(repeating: "a", count: 39) + "!"))
    #expect(nested.matches(String(repeating: "a", count: 39)))
    #expect(Date().timeIntervalSince(start) < 2)
  }

  @Test(arguments: ["15", "4097", "0", "-1", "99999999999999999999"])
  func generatedLengthIsBounded(length: String) throws {
    let error = #expect(throws: PolicyError.self) {
      try PolicyParser.parse(policy(length: length), file: "policies/prod.yaml")
    }
    #expect(
      error?.errorDescription
        == "policies/prod.yaml:6:38: length of key app/K must be a whole number from 16 to 4096")
  }

  @Test func generatedLengthLimitsAreAccepted() throws {
    for length in ["16", "4096"] {
      let policy = try PolicyParser.parse(policy(length: length), file: "p.yaml")
      #expect(policy.services[0].keys[0].rotate == .generate(length: Int(length)!))
    }
  }
}

/// A passphrase recipient written the way a build before the 12-character rule could: the wrap
/// is made directly, without `PassphraseRule`.
enum LegacyPassphrase {
  static func add(_ passphrase: String, to session: VaultSession, name: String = "legacy") throws {
    let wrap = try KeyWrap.wrap(
      session.keys, passphrase: try SecretBytes(copying: Array(passphrase.utf8)), vaultID: session.vaultID,
      limits: .standard)
    var record = RecipientRecord(
      id: nil, kind: Recipient.Kind.passphrase.rawValue, name: name, publicKey: nil, wrappedKey: wrap.wrapped,
      wrapNonce: wrap.nonce, salt: wrap.salt, opsLimit: Int64(wrap.limits.opsLimit),
      memLimit: Int64(wrap.limits.memLimit), addedAt: "2026-01-01T00:00:00Z", removedAt: nil)
    try session.database.write { tx in try tx.recipients.insert(&record) }
  }
}

/// Mirror snapshots from in-memory files, through the real reader.
enum MirrorReaderTestFiles {
  static func snapshot(environment: String, files: [String: String]) throws -> MirrorSnapshot {
    let scratch = try ScratchDirectory()
    for (service, text) in files {
      try FileManager.default.createDirectory(
        atPath: scratch.file("occ/\(service)"), withIntermediateDirectories: true)
      try text.write(toFile: scratch.file("occ/\(service)/\(environment).env"), atomically: true, encoding: .utf8)
    }
    return try MirrorReader.read(directory: scratch.file("occ"), environment: environment)
  }
}
