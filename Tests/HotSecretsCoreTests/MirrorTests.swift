import DotEnv
import Foundation
import GRDB
import Testing

@testable import HotSecretsCompliance
@testable import HotSecretsModel
@testable import HotSecretsOperations
@testable import HotSecretsPolicy
@testable import HotSecretsVault
@testable import VaultSQLite

@Suite struct MirrorTests {
  /// Writes `files` (relative path → content) under a fresh `occ` folder; returns its path.
  func tree(_ vault: TestVault, _ files: [String: String]) throws -> String {
    let root = vault.scratch.file("occ")
    for (relative, content) in files {
      let path = root + "/" + relative
      try FileManager.default.createDirectory(
        atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      try content.write(toFile: path, atomically: false, encoding: .utf8)
      chmod(path, 0o600)
    }
    return root
  }

  @Test func importAddsChangesAndLeavesUnchangedAlone() throws {
    let vault = try TestVault()
    let dir = try tree(
      vault, ["openai/prod.env": "API_KEY_PROD=sk-1\n", "supabase/prod.env": "SERVICE_KEY=a\nURL=u\n"])
    let first = try vault.session.importMirror(
      try MirrorReader.read(directory: dir, environment: "prod"), environment: "prod", prune: false, dryRun: false)
    #expect(first.added.map(\.description) == ["openai/API_KEY_PROD", "supabase/SERVICE_KEY", "supabase/URL"])
    let auditAfterFirst = try vault.session.auditEntries().count

    _ = try tree(vault, ["supabase/prod.env": "SERVICE_KEY=b\nURL=u\n"])
    let second = try vault.session.importMirror(
      try MirrorReader.read(directory: dir, environment: "prod"), environment: "prod", prune: false, dryRun: false)
    #expect(second.added.isEmpty)
    #expect(second.changed.map(\.description) == ["supabase/SERVICE_KEY"])
    #expect(second.unchanged.count == 2)
    // Only the changed key produced a version and an audit entry.
    #expect(try vault.session.auditEntries().count == auditAfterFirst + 1)
    let history = try vault.session.history(try address("prod", "supabase", "SERVICE_KEY"))
    #expect(history.map(\.version) == [2, 1])
    #expect(history.map(\.source) == [.import, .import])
    #expect(try vault.session.get(try address("prod", "supabase", "SERVICE_KEY")).copyBytes() == bytes("b"))
  }

  @Test func onlyInStoreIsKeptUnlessPruned() throws {
    let vault = try TestVault()
    try vault.session.set(address("prod", "openai", "OLD"), value: bytes("x"))
    try vault.session.set(address("staging", "openai", "OTHER_ENV"), value: bytes("y"))
    let dir = try tree(vault, ["openai/prod.env": "NEW=1\n"])
    let snapshot = try MirrorReader.read(directory: dir, environment: "prod")
    let kept = try vault.session.importMirror(snapshot, environment: "prod", prune: false, dryRun: false)
    #expect(kept.onlyInStore.map(\.description) == ["openai/OLD"])
    #expect(try vault.session.list(environment: "prod").count == 2)
    let dry = try vault.session.importMirror(snapshot, environment: "prod", prune: true, dryRun: true)
    #expect(dry.onlyInStore.map(\.description) == ["openai/OLD"])
    #expect(try vault.session.list(environment: "prod").count == 2)
    _ = try vault.session.importMirror(snapshot, environment: "prod", prune: true, dryRun: false)
    #expect(try vault.session.list(environment: "prod").map(\.address.key) == ["NEW"])
    #expect(try vault.session.list(environment: "staging").count == 1)
    #expect(try vault.session.auditEntries().last?.detail == #"{"reason":"prune"}"#)
  }

  @Test func dryRunWritesNothing() throws {
    let vault = try TestVault()
    let dir = try tree(vault, ["openai/prod.env": "A=1\nB=2\n"])
    let before = try vault.session.auditEntries().count
    let report = try vault.session.importMirror(
      try MirrorReader.read(directory: dir, environment: "prod"), environment: "prod", prune: false, dryRun: true)
    #expect(report.added.count == 2)
    #expect(try vault.session.list().isEmpty)
    #expect(try vault.session.auditEntries().count == before)
  }

  @Test func oneBadFileMeansNothingIsRead() throws {
    let vault = try TestVault()
    let dir = try tree(vault, ["a/prod.env": "GOOD=1\n", "b/prod.env": "GOOD=1\nBROKEN\n"])
    #expect(
      throws: MirrorError.parse(DotEnvError(file: dir + "/b/prod.env", line: 2, column: 1, problem: .missingEquals))
    ) {
      try MirrorReader.read(directory: dir, environment: "prod")
    }
    let badFolder = try tree(vault, ["Bad Name/prod.env": "A=1\n"])
    #expect(throws: MirrorError.invalidServiceFolder(path: badFolder + "/Bad Name")) {
      try MirrorReader.read(directory: badFolder, environment: "prod")
    }
    #expect(throws: MirrorError.noFolder(path: vault.scratch.file("nope"))) {
      try MirrorReader.read(directory: vault.scratch.file("nope"), environment: "prod")
    }
  }

  @Test func otherEnvironmentsAndHiddenFoldersAreIgnored() throws {
    let vault = try TestVault()
    let dir = try tree(
      vault, ["openai/prod.env": "A=1\n", "openai/staging.env": "B=2\n", ".git/prod.env": "C=3\n", "empty/README": "x"])
    let snapshot = try MirrorReader.read(directory: dir, environment: "prod")
    #expect(snapshot.values.map(\.name.description) == ["openai/A"])
    #expect(snapshot.warnings.isEmpty)
  }

  @Test func readableFilesAreWarnedAbout() throws {
    let vault = try TestVault()
    let dir = try tree(vault, ["openai/prod.env": "A=1\n"])
    chmod(dir + "/openai/prod.env", 0o644)
    let snapshot = try MirrorReader.read(directory: dir, environment: "prod")
    #expect(snapshot.warnings.count == 1)
    #expect(snapshot.warnings[0].contains("readable by other users"))
  }

  @Test func driftByFingerprint() throws {
    let vault = try TestVault()
    try vault.session.set(address("prod", "openai", "SAME"), value: bytes("1"))
    try vault.session.set(address("prod", "openai", "CHANGED"), value: bytes("old"))
    try vault.session.set(address("prod", "openai", "GONE"), value: bytes("g"))
    let dir = try tree(vault, ["openai/prod.env": "SAME=1\nCHANGED=new\nNEW=n\n"])
    let drift = try vault.session.mirrorDrift(
      try MirrorReader.read(directory: dir, environment: "prod"), environment: "prod")
    #expect(!drift.inSync)
    #expect(drift.added.map(\.description) == ["openai/NEW"])
    #expect(drift.changed.map(\.description) == ["openai/CHANGED"])
    #expect(drift.missing.map(\.description) == ["openai/GONE"])
  }

  @Test func renderRoundTripsAndRewritesOnlyChangedFiles() throws {
    let vault = try TestVault()
    let tricky = "line1\nline2 'quoted' \"double\" # not a comment $HOME \\ back  "
    try vault.session.set(address("prod", "openai", "A"), value: bytes(tricky))
    try vault.session.set(address("prod", "supabase", "B"), value: bytes(""))
    let out = vault.scratch.file("out")
    let first = try MirrorWriter.render(
      try vault.session.currentValues(environment: "prod", action: .render), environment: "prod", directory: out, header: "rendered")
    #expect(first.written.count == 2)
    let attributes = try FileManager.default.attributesOfItem(atPath: out + "/openai/prod.env")
    #expect((attributes[.posixPermissions] as? Int) == 0o600)
    let folder = try FileManager.default.attributesOfItem(atPath: out + "/openai")
    #expect((folder[.posixPermissions] as? Int) == 0o700)
    // What was written parses back to the same values, so status is in sync.
    let drift = try vault.session.mirrorDrift(
      try MirrorReader.read(directory: out, environment: "prod"), environment: "prod")
    #expect(drift.inSync)

    try vault.session.set(address("prod", "supabase", "B"), value: bytes("changed"))
    let second = try MirrorWriter.render(
      try vault.session.currentValues(environment: "prod", action: .render), environment: "prod", directory: out, header: "rendered")
    #expect(second.written == [out + "/supabase/prod.env"])
    #expect(second.unchanged == [out + "/openai/prod.env"])
    // No temporary files are left behind.
    #expect(try FileManager.default.contentsOfDirectory(atPath: out + "/supabase") == ["prod.env"])
  }

  @Test func aFailedRenderLeavesNoTemporaryFiles() throws {
    let vault = try TestVault()
    for service in ["alpha", "beta", "gamma"] {
      try vault.session.set(address("prod", service, "K"), value: bytes("v-\(service)"))
    }
    let out = vault.scratch.file("out")
    // beta's file is a folder: its new content is staged like the others, but cannot be renamed over it.
    try FileManager.default.createDirectory(atPath: out + "/beta/prod.env", withIntermediateDirectories: true)
    #expect(throws: MirrorError.self) {
      try MirrorWriter.render(
        try vault.session.currentValues(environment: "prod", action: .render), environment: "prod", directory: out, header: "rendered")
    }
    let left = FileManager.default.enumerator(atPath: out)?.allObjects as? [String] ?? []
    #expect(!left.contains { ($0 as NSString).lastPathComponent.hasPrefix(".hotsecrets-") }, "\(left)")
    // Files are renamed in order: alpha's is in place, gamma's was never renamed.
    #expect(FileManager.default.fileExists(atPath: out + "/alpha/prod.env"))
    #expect(!FileManager.default.fileExists(atPath: out + "/gamma/prod.env"))
  }

  @Test func renderRefusesUnignoredFilesInAGitWorkTree() throws {
    let vault = try TestVault()
    try vault.session.set(address("prod", "openai", "A"), value: bytes("1"))
    let repo = vault.scratch.file("repo")
    let git = Process()
    git.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    git.arguments = ["git", "init", "-q", repo]
    try git.run()
    git.waitUntilExit()
    let values = try vault.session.currentValues(environment: "prod", action: .render)
    #expect(throws: MirrorError.notIgnoredByGit(paths: [repo + "/occ/openai/prod.env"])) {
      try MirrorWriter.render(values, environment: "prod", directory: repo + "/occ", header: "rendered")
    }
    #expect(!FileManager.default.fileExists(atPath: repo + "/occ/openai/prod.env"))
    try "*.env\n".write(toFile: repo + "/.gitignore", atomically: true, encoding: .utf8)
    #expect(try MirrorWriter.render(values, environment: "prod", directory: repo + "/occ", header: "rendered").written.count == 1)
  }

  @Test func currentValuesIsAuditedWithoutValues() throws {
    let vault = try TestVault()
    try vault.session.set(address("prod", "openai", "A"), value: bytes("secret-a"))
    try vault.session.set(address("prod", "supabase", "B"), value: bytes("secret-b"))
    let values = try vault.session.currentValues(
      environment: "prod", services: ["openai"], action: .run, detail: ["command": .string("env")])
    #expect(values.map(\.name.description) == ["openai/A"])
    let entry = try #require(try vault.session.auditEntries().last)
    #expect(entry.action == "run")
    #expect(entry.subject == "prod")
    #expect(entry.detail == #"{"command":"env","keys":1,"services":["openai"]}"#)
  }
}
