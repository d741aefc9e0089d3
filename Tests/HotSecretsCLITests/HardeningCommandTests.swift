import Foundation
import Testing

@testable import HotSecretsCLI
@testable import HotSecretsCompliance
@testable import HotSecretsModel
@testable import HotSecretsOperations
@testable import HotSecretsPolicy
@testable import HotSecretsVault
@testable import RemoteAPIs
@testable import VaultSQLite

/// Local hardening, end to end (docs/security.md).
@Suite(.endToEnd) struct HardeningCommandTests {
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

  @Test func initRefusesAShortPassphraseFromEveryInput() async throws {
    let h = try CLIHarness()
    let rule = "a new passphrase must have at least 12 characters"
    let fromEnvironment = try await h.run(["init"], env: ["HOTSECRETS_PASSPHRASE": "elevenchars"])
    #expect(fromEnvironment.status == 2)
    #expect(fromEnvironment.stderr == "hotsecrets: error: \(rule)\n")
    try "short\n".write(toFile: h.path("pass.txt"), atomically: true, encoding: .utf8)
    let fromFile = try await h.run(["init", "--passphrase-file", "pass.txt"])
    #expect(fromFile.status == 2)
    #expect(fromFile.stderr.contains(rule))
    #expect(!FileManager.default.fileExists(atPath: h.path("vault/hotsecrets.db")))
    #expect(try await h.run(["init"], env: ["HOTSECRETS_PASSPHRASE": "twelve chars"]).status == 0)
  }

  @Test(arguments: Backend.allCases) func recipientsAddRefusesAShortPassphrase(_ backend: Backend) async throws {
    let h = try await CLIHarness.withIdentityVault(backend)
    let fromEnvironment = try await h.run(
      ["recipients", "add", "--passphrase"], env: ["HOTSECRETS_NEW_PASSPHRASE": "too-short"])
    #expect(fromEnvironment.status == 2)
    #expect(fromEnvironment.stderr.contains("a new passphrase must have at least 12 characters"))
    try "short\n".write(toFile: h.path("new.txt"), atomically: true, encoding: .utf8)
    let fromFile = try await h.run(["recipients", "add", "--passphrase", "--new-passphrase-file", "new.txt"])
    #expect(fromFile.status == 2)
    #expect(fromFile.stderr.contains("a new passphrase must have at least 12 characters"))
    #expect(
      try await h.run(["recipients", "list"]).stdout.split(separator: "\n").filter { $0.contains("passphrase") }.isEmpty
    )
    let ok = try await h.run(
      ["recipients", "add", "--passphrase", "--name", "break-glass"],
      env: ["HOTSECRETS_NEW_PASSPHRASE": "a long break-glass passphrase"])
    #expect(ok.status == 0, "\(ok.allOutput)")
  }

  @Test func aVaultWithAnOldShortPassphraseStillUnlocks() async throws {
    let h = try await CLIHarness.withIdentityVault()
    try await h.run(["set", "prod", "app", "K"], stdin: "v")
    let session = try VaultAccess.unlock(
      try SQLiteStore.open(path: h.path("vault/hotsecrets.db")),
      with: .identity(try Identity.load(path: h.path("ci.identity"))), user: "t")
    let wrap = try KeyWrap.wrap(
      session.keys, passphrase: try SecretBytes(copying: Array("old-pw".utf8)), vaultID: session.vaultID,
      limits: .standard)
    var record = RecipientRecord(
      id: nil, kind: Recipient.Kind.passphrase.rawValue, name: "legacy", publicKey: nil, wrappedKey: wrap.wrapped,
      wrapNonce: wrap.nonce, salt: wrap.salt, opsLimit: Int64(wrap.limits.opsLimit),
      memLimit: Int64(wrap.limits.memLimit), addedAt: "2026-01-01T00:00:00Z", removedAt: nil)
    try session.database.write { tx in try tx.recipients.insert(&record) }
    let r = try await h.run(
      ["get", "prod", "app", "K"], env: ["HOTSECRETS_IDENTITY": "", "HOTSECRETS_PASSPHRASE": "old-pw"])
    #expect(r.status == 0, "\(r.allOutput)")
    #expect(r.stdout == "v")
  }

  // MARK: - Value size

  @Test(arguments: Backend.allCases) func setRefusesAValueOver64KiB(_ backend: Backend) async throws {
    let h = try await CLIHarness.withIdentityVault(backend)
    #expect(try await h.run(["set", "prod", "app", "LIMIT"], stdin: String(repeating: "x", count: 65_536)).status == 0)
    let r = try await h.run(["set", "prod", "app", "BIG"], stdin: String(repeating: "y", count: 65_537))
    #expect(r.status == 2)
    #expect(r.stderr.contains("prod/app/BIG"))
    #expect(r.stderr.contains("at most 64 KiB (65536 bytes)"))
    #expect(!r.allOutput.contains("yyyyyyyy"))
    #expect(try await h.run(["list", "prod"]).stdout.contains("BIG") == false)
  }

  @Test(arguments: Backend.allCases) func importWithAnOversizedValueStoresNothing(_ backend: Backend) async throws {
    let h = try await CLIHarness.withIdentityVault(backend)
    for (service, text) in [
      ("app", "SMALL=fine\nBIG=\(String(repeating: "z", count: 70_000))\n"), ("openai", "KEY=also-fine\n"),
    ] {
      try FileManager.default.createDirectory(atPath: h.path("vault/occ/\(service)"), withIntermediateDirectories: true)
      try text.write(toFile: h.path("vault/occ/\(service)/prod.env"), atomically: true, encoding: .utf8)
    }
    let r = try await h.run(["import", "prod"])
    #expect(r.status == 2)
    #expect(r.stderr.contains("the value of prod/app/BIG is too large"))
    #expect(!r.allOutput.contains("zzzzzzzz"))
    let list = try await h.run(["list", "prod"])
    #expect(!list.stdout.contains("SMALL") && !list.stdout.contains("KEY"))
  }

  @Test func rotateRefusesAnOversizedOperatorValueBeforeStarting() async throws {
    let h = try await CLIHarness.withIdentityVault()
    try h.writePolicy("version: 1\nenvironment: prod\nservices:\n  app:\n    keys:\n      K: { rotate: manual }\n")
    try await h.run(["set", "prod", "app", "K"], stdin: "old")
    try String(repeating: "w", count: 65_537).write(toFile: h.path("new.txt"), atomically: true, encoding: .utf8)
    let r = try await h.run(["rotate", "prod", "app/K", "--value-from", "new.txt"])
    #expect(r.status == 2)
    #expect(r.stderr.contains("the value of prod/app/K is too large"))
    #expect(
      try await h.run(["history", "prod", "app", "K"]).stdout.split(separator: "\n").filter { $0.contains("rotate") }
        .isEmpty)
    #expect(try await h.run(["get", "prod", "app", "K"]).stdout == "old")
  }

  // MARK: - Render and symbolic links

  func mode(_ path: String) throws -> Int {
    try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
  }

  func makeFolder(_ path: String) throws {
    try FileManager.default.createDirectory(
      atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
  }

  @Test(arguments: Backend.allCases) func renderRefusesASymlinkedMirrorFolder(_ backend: Backend) async throws {
    let h = try await CLIHarness.withIdentityVault(backend)
    try await h.run(["set", "prod", "app", "K"], stdin: "v")
    try makeFolder(h.path("elsewhere"))
    try makeFolder(h.path("vault"))
    try FileManager.default.createSymbolicLink(atPath: h.path("vault/occ"), withDestinationPath: h.path("elsewhere"))
    let r = try await h.run(["render", "prod"])
    #expect(r.status == 2)
    #expect(r.stderr.contains("vault/occ is a symbolic link"))
    #expect(try FileManager.default.contentsOfDirectory(atPath: h.path("elsewhere")).isEmpty)
    #expect(try mode(h.path("elsewhere")) == 0o755)
  }

  @Test func renderRefusesASymlinkedServiceFolder() async throws {
    let h = try await CLIHarness.withIdentityVault()
    try await h.run(["set", "prod", "app", "K"], stdin: "v")
    try makeFolder(h.path("shared"))
    try makeFolder(h.path("vault/occ"))
    try FileManager.default.createSymbolicLink(atPath: h.path("vault/occ/app"), withDestinationPath: h.path("shared"))
    let r = try await h.run(["render", "prod"])
    #expect(r.status == 2)
    #expect(r.stderr.contains("vault/occ/app is a symbolic link"))
    #expect(try FileManager.default.contentsOfDirectory(atPath: h.path("shared")).isEmpty)
    #expect(try mode(h.path("shared")) == 0o755)  // not chmodded to 0700 through the link
  }

  @Test(arguments: Backend.allCases) func renderRefusesASymlinkedDestination(_ backend: Backend) async throws {
    let h = try await CLIHarness.withIdentityVault(backend)
    try await h.run(["set", "prod", "app", "K"], stdin: "v")
    try makeFolder(h.path("real"))
    try FileManager.default.createSymbolicLink(atPath: h.path("out"), withDestinationPath: h.path("real"))
    for to in ["out", "out/"] {
      let r = try await h.run(["render", "prod", "--to", to])
      #expect(r.status == 2)
      #expect(r.stderr.contains("\(to) is a symbolic link"))
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: h.path("real")).isEmpty)
    #expect(try mode(h.path("real")) == 0o755)
    #expect(try await h.run(["render", "prod", "--to", "real"]).status == 0)
  }

  // MARK: - git check-ignore

  /// A `git` that records its path and environment, then reports every path as ignored.
  func fakeGit(in folder: String, recordingTo record: String) throws {
    try makeFolder(folder)
    let script = """
      #!/bin/sh
      echo "$0" > '\(record).argv0'
      /usr/bin/env > '\(record).env'
      /bin/cat
      """
    try script.write(toFile: folder + "/git", atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder + "/git")
  }

  @Test(arguments: Backend.allCases) func gitRunsWithAMinimalEnvironment(_ backend: Backend) async throws {
    let h = try await CLIHarness.withIdentityVault(backend)
    try await h.run(["set", "prod", "app", "K"], stdin: "v")
    try makeFolder(h.path(".git"))  // a work tree: the render guard asks git
    try fakeGit(in: h.path("bin"), recordingTo: h.path("git-record"))
    let canaries = [
      "HOTSECRETS_PASSPHRASE": "passphrase-canary-0001", "FLY_API_TOKEN": "fly-canary-0002",
      "GITHUB_TOKEN": "ghp-canary-0003", "OPENAI_API_KEY": "sk-canary-0004", "GIT_DIR": "/nonexistent/canary-0005",
    ]
    let r = try await h.run(
      ["render", "prod"], env: canaries.merging(["PATH": h.path("bin") + ":/usr/bin:/bin"]) { $1 })
    #expect(r.status == 0, "\(r.allOutput)")
    let argv0 = try String(contentsOfFile: h.path("git-record.argv0"), encoding: .utf8)
    #expect(argv0 == h.path("bin/git") + "\n")  // the absolute path, resolved from PATH
    let environment = try String(contentsOfFile: h.path("git-record.env"), encoding: .utf8)
    for (name, value) in canaries {
      #expect(!environment.contains(name + "="), "\(name) reached git")
      #expect(!environment.contains(value))
    }
    #expect(!environment.contains("HOTSECRETS_"))  // HOTSECRETS_IDENTITY too
    #expect(environment.contains("HOME=\(h.directory)\n"))
    #expect(environment.contains("PATH=\(h.path("bin")):/usr/bin:/bin\n"))
  }

  @Test(arguments: Backend.allCases) func aRelativePathEntryNeverSuppliesGit(_ backend: Backend) async throws {
    let h = try await CLIHarness.withIdentityVault(backend)
    try await h.run(["set", "prod", "app", "K"], stdin: "v")
    try makeFolder(h.path(".git"))
    try fakeGit(in: h.path("bin"), recordingTo: h.path("git-record"))
    // "bin" relative to the folder the command runs in: skipped; /usr/bin/git (a real git, which
    // finds no repository in the empty .git) answers instead, and render refuses to write.
    let r = try await h.run(["render", "prod"], env: ["PATH": "bin:/usr/bin:/bin"])
    #expect(!FileManager.default.fileExists(atPath: h.path("git-record.env")))
    #expect(r.status == 2)
    #expect(GitCommand.findGit(searchPath: "bin:.:/usr/bin") == "/usr/bin/git")
    #expect(GitCommand.findGit(searchPath: h.path("bin") + ":/usr/bin") == h.path("bin/git"))
    #expect(GitCommand.findGit(searchPath: h.path("nothing-here")) == nil)
  }

  // MARK: - Formats that could stall verify

  /// A nested quantifier against the worst value a backtracking engine could meet: verify answers
  /// at once, with a format finding.
  @Test(arguments: Backend.allCases) func verifyMatchesANestedQuantifierAtOnce(_ backend: Backend) async throws {
    let h = try await CLIHarness.withIdentityVault(backend)
    try h.writePolicy("version: 1\nenvironment: prod\nservices:\n  app:\n    keys:\n      K: { format: '^(a+)+$' }\n")
    try await h.run(["set", "prod", "app", "K"], stdin: String(repeating: "a", count: 65_535) + "!")
    let start = Date()
    let r = try await h.run(["verify", "prod"])
    #expect(Date().timeIntervalSince(start) < 5)  // a safety net: the outcome is what matters
    #expect(r.status == 1)
    #expect(r.stdout.contains("value does not match format '^(a+)+$'"), "\(r.stdout)")
  }

  @Test(arguments: Backend.allCases) func verifyRefusesALookAheadWithItsPosition(_ backend: Backend) async throws {
    let h = try await CLIHarness.withIdentityVault(backend)
    try h.writePolicy(
      "version: 1\nenvironment: prod\nservices:\n  app:\n    keys:\n      K: { format: '^sk-(?!test)' }\n")
    let r = try await h.run(["verify", "prod"])
    #expect(r.status == 2)
    #expect(
      r.stderr.contains(
        "policies/prod.yaml:6:20: format '^sk-(?!test)' of key app/K uses a look-ahead (?=…) or (?!…) at character 5, "
          + "which hotsecrets does not support"), "\(r.stderr)")
  }
}
