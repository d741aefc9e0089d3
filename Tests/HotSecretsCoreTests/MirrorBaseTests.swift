import Foundation
import Testing

@testable import HotSecretsModel
@testable import HotSecretsOperations
@testable import HotSecretsVault

/// The three-way mirror: the base says which side changed, so neither `import` nor `render` undoes
/// the other side's change.
@Suite struct MirrorBaseTests {
  let vault: TestVault
  let dir: String

  init() throws {
    vault = try TestVault()
    dir = vault.scratch.file("occ")
  }

  func write(_ service: String, _ content: String) throws {
    let folder = dir + "/" + service
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    try content.write(toFile: folder + "/prod.env", atomically: false, encoding: .utf8)
    chmod(folder + "/prod.env", 0o600)
  }

  func snapshot() throws -> MirrorSnapshot { try MirrorReader.read(directory: dir, environment: "prod") }

  @discardableResult
  func importFiles(prune: Bool = false, dryRun: Bool = false, take: MirrorTake = .refuse) throws -> ImportReport {
    try vault.session.importMirror(try snapshot(), environment: "prod", prune: prune, dryRun: dryRun, take: take)
  }

  @discardableResult
  func render(take: MirrorTake = .refuse) throws -> RenderReport {
    try vault.session.renderMirror(environment: "prod", directory: dir, header: "rendered", take: take)
  }

  func value(_ key: String) throws -> String {
    String(decoding: try vault.session.get(address("prod", "app", key)).copyBytes(), as: UTF8.self)
  }

  func sides() throws -> [String: String] {
    let drift = try vault.session.mirrorDrift(try snapshot(), environment: "prod")
    return Dictionary(uniqueKeysWithValues: drift.differences.map { ($0.name.key, $0.side.rawValue) })
  }

  // MARK: - The classification

  @Test func everyCombinationOfFileVaultAndBaseHasOneSide() {
    let k = ServiceKey(service: "s", key: "K")
    func side(_ f: String?, _ v: String?, _ b: String?, base: Bool = true) -> String? {
      let drift = MirrorDrift.compare(
        files: f.map { [k: $0] } ?? [:], vault: v.map { [k: $0] } ?? [:], base: base ? (b.map { [k: $0] } ?? [:]) : nil)
      return drift.differences.first?.side.rawValue
    }
    #expect(side("x", "x", "o") == nil)  // equal: no difference, whatever the base
    #expect(side("y", "x", "x") == "file changed")
    #expect(side("x", "y", "x") == "vault changed")
    #expect(side("y", "z", "x") == "both changed")
    #expect(side("y", "z", nil) == "both changed")  // added on both sides with different values
    #expect(side("x", nil, nil) == "only in file")
    #expect(side(nil, "x", nil) == "only in vault")
    #expect(side(nil, "x", "x") == "file changed")  // removed from the file
    #expect(side("x", nil, "x") == "vault changed")  // removed from the vault
    #expect(side("y", nil, "x") == "both changed")
    #expect(side(nil, "y", "x") == "both changed")
    // No base: the sides of presence are known, a changed value's is not.
    #expect(side("x", nil, nil, base: false) == "only in file")
    #expect(side(nil, "x", nil, base: false) == "only in vault")
    #expect(side("x", "y", nil, base: false) == "no base")
  }

  // MARK: - import

  @Test func importNeverRevertsAValueSetInTheVaultSinceTheBase() throws {
    try write("app", "A=1\nB=2\n")
    try importFiles()
    try vault.session.set(address("prod", "app", "A"), value: bytes("newer"))
    #expect(try sides() == ["A": "vault changed"])
    let versions = try vault.session.history(address("prod", "app", "A")).count
    let baseBefore = try String(contentsOfFile: MirrorBase.path(directory: dir, environment: "prod"), encoding: .utf8)

    #expect(throws: MirrorError.self) { try importFiles() }
    #expect(throws: MirrorError.self) { try importFiles(dryRun: true) }
    #expect(try value("A") == "newer")
    #expect(try vault.session.history(address("prod", "app", "A")).count == versions)
    #expect(
      try String(contentsOfFile: MirrorBase.path(directory: dir, environment: "prod"), encoding: .utf8) == baseBefore)

    // The error names the key and side, never a value.
    do {
      try importFiles()
    } catch let error as MirrorError {
      guard case .conflict(.toVault, let keys) = error else { throw error }
      #expect(keys == [MirrorDifference(name: ServiceKey(service: "app", key: "A"), kind: .changed, side: .vaultChanged)])
      #expect(!(error.errorDescription ?? "").contains("newer"))
    }

    // --take file stores the file's value anyway, and the base then records it.
    let taken = try importFiles(take: .file)
    #expect(taken.changed.map(\.key) == ["A"])
    #expect(try value("A") == "1")
    #expect(try sides().isEmpty)
  }

  @Test func importTakingTheVaultSideStoresOnlyTheFilesChanges() throws {
    try write("app", "A=1\nB=2\n")
    try importFiles()
    try vault.session.set(address("prod", "app", "A"), value: bytes("vault-new"))
    try write("app", "A=1\nB=file-new\nC=3\n")
    #expect(try sides() == ["A": "vault changed", "B": "file changed", "C": "only in file"])

    let report = try importFiles(take: .vault)
    #expect(report.keptVault.map(\.key) == ["A"])
    #expect(report.changed.map(\.key) == ["B"])
    #expect(report.added.map(\.key) == ["C"])
    #expect(try value("A") == "vault-new")
    #expect(try value("B") == "file-new")
    // A is still the vault's change for render to take; the rest agrees.
    #expect(try sides() == ["A": "vault changed"])
    try render()
    #expect(try sides().isEmpty)
    #expect(try String(contentsOfFile: dir + "/app/prod.env", encoding: .utf8).contains("A=vault-new"))
  }

  @Test func pruneRefusesToRemoveAKeyTheVaultGainedAndImportRefusesToRestoreOneItRemoved() throws {
    try write("app", "A=1\nB=2\n")
    try importFiles()
    try vault.session.set(address("prod", "app", "NEW"), value: bytes("n"))
    try vault.session.remove(address("prod", "app", "B"))
    #expect(try sides() == ["NEW": "only in vault", "B": "vault changed"])
    // Re-adding B would undo the vault's removal.
    #expect(throws: MirrorError.self) { try importFiles() }
    try write("app", "A=1\n")
    #expect(try sides() == ["NEW": "only in vault"])
    try importFiles()  // without --prune, NEW stays: nothing to undo
    #expect(throws: MirrorError.self) { try importFiles(prune: true) }
    #expect(try value("NEW") == "n")
    // A key removed from the file since the base is the file's change: prune takes it.
    try render()
    try write("app", "NEW=n\n")
    #expect(try sides() == ["A": "file changed"])
    let pruned = try importFiles(prune: true)
    #expect(pruned.prunable.map(\.key) == ["A"])
    #expect(try vault.session.list(environment: "prod").map(\.address.key) == ["NEW"])
  }

  // MARK: - render

  @Test func renderNeverOverwritesAnEditMadeInTheFiles() throws {
    try write("app", "A=1\nB=2\n")
    try importFiles()
    try write("app", "A=edited\nB=2\nLOCAL=l\n")
    #expect(throws: MirrorError.self) { try render() }
    #expect(try String(contentsOfFile: dir + "/app/prod.env", encoding: .utf8) == "A=edited\nB=2\nLOCAL=l\n")
    do {
      try render()
    } catch MirrorError.conflict(.toFiles, let keys) {
      #expect(keys.map(\.name.key) == ["A", "LOCAL"])
      #expect(keys.map(\.side) == [.fileChanged, .onlyInFile])
    }
    // The refusal happens before any value is read: no render entry in the audit trail.
    #expect(try vault.session.auditEntries().filter { $0.action == "render" }.isEmpty)

    let report = try render(take: .vault)
    #expect(report.written.count == 1)
    #expect(try String(contentsOfFile: dir + "/app/prod.env", encoding: .utf8).contains("A=1\nB=2\n"))
    #expect(try sides().isEmpty)
  }

  @Test func aFileThatCannotBeParsedIsNotOverwrittenOnceThereIsABase() throws {
    try write("app", "A=1\n")
    try importFiles()
    try write("app", "A='unterminated\n")
    #expect(throws: MirrorError.self) { try render() }
    #expect(try String(contentsOfFile: dir + "/app/prod.env", encoding: .utf8) == "A='unterminated\n")
    try render(take: .vault)
    #expect(try String(contentsOfFile: dir + "/app/prod.env", encoding: .utf8).contains("A=1\n"))
  }

  @Test func aServiceRenderDoesNotWriteIsNotAConflict() throws {
    try write("app", "A=1\n")
    try importFiles()
    try write("local", "ONLY_HERE=x\n")
    #expect(try sides() == ["ONLY_HERE": "only in file"])
    let report = try render()
    #expect(report.written == [dir + "/app/prod.env"])  // the header only: same keys, same values
    #expect(try String(contentsOfFile: dir + "/local/prod.env", encoding: .utf8) == "ONLY_HERE=x\n")
  }

  // MARK: - No base, another vault's base, a damaged base

  @Test func withoutABaseImportAndRenderBehaveAsBeforeOnceThenRecordOne() throws {
    try vault.session.set(address("prod", "app", "A"), value: bytes("vault"))
    try write("app", "A=file\n")
    #expect(try sides() == ["A": "no base"])
    #expect(!FileManager.default.fileExists(atPath: MirrorBase.path(directory: dir, environment: "prod")))
    try importFiles()  // as before bases: the file wins
    #expect(try value("A") == "file")
    let base = try #require(try MirrorBase.read(directory: dir, environment: "prod"))
    #expect(base.vaultID == vault.session.vaultID)
    #expect(base.fingerprints == [ServiceKey(service: "app", key: "A"): try vault.session.fingerprint(of: bytes("file"))])
    let mode = try FileManager.default.attributesOfItem(atPath: MirrorBase.path(directory: dir, environment: "prod"))[
      .posixPermissions] as? Int
    #expect(mode == 0o600)
    // The base holds keyed fingerprints only, never the value.
    let text = try String(contentsOfFile: MirrorBase.path(directory: dir, environment: "prod"), encoding: .utf8)
    #expect(!text.contains("=file"))
    #expect(text.split(separator: "\n").allSatisfy { $0.hasPrefix("#") })
  }

  @Test func aBaseOfAnotherVaultIsIgnored() throws {
    try write("app", "A=1\n")
    try importFiles()
    let other = try TestVault()
    try other.session.set(address("prod", "app", "A"), value: bytes("other"))
    let drift = try other.session.mirrorDrift(try snapshot(), environment: "prod")
    #expect(drift.hasBase == false)
    #expect(drift.differences.map(\.side) == [.unknown])
    // Its import behaves as before bases, and replaces the base with its own.
    _ = try other.session.importMirror(try snapshot(), environment: "prod", prune: false, dryRun: false)
    #expect(try MirrorBase.read(directory: dir, environment: "prod")?.vaultID == other.session.vaultID)
  }

  @Test func aDamagedBaseIsAnErrorNamingItsLine() throws {
    try write("app", "A=1\n")
    try importFiles()
    let path = MirrorBase.path(directory: dir, environment: "prod")
    var text = try String(contentsOfFile: path, encoding: .utf8)
    text += "#= app B not-a-fingerprint\n"
    try text.write(toFile: path, atomically: false, encoding: .utf8)
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).count - 1
    #expect(throws: MirrorError.badBase(path: path, line: lines, reason: "expected '#= SERVICE KEY FINGERPRINT'")) {
      try snapshot()
    }
    try "A=1\n".write(toFile: path, atomically: false, encoding: .utf8)
    #expect(throws: MirrorError.badBase(path: path, line: 1, reason: "not a comment; this file is written by hotsecrets")) {
      try snapshot()
    }
    // Deleting it starts over.
    try FileManager.default.removeItem(atPath: path)
    #expect(try snapshot().base == nil)
  }

  @Test func aBaseThatIsASymbolicLinkIsNotWrittenThrough() throws {
    try write("app", "A=1\n")
    let target = vault.scratch.file("elsewhere")
    try "".write(toFile: target, atomically: false, encoding: .utf8)
    try FileManager.default.createSymbolicLink(
      atPath: MirrorBase.path(directory: dir, environment: "prod"), withDestinationPath: target)
    // A link is not a base (the read follows it and finds no format line).
    #expect(throws: MirrorError.self) { try snapshot() }
    try FileManager.default.removeItem(atPath: MirrorBase.path(directory: dir, environment: "prod"))
    let files = try snapshot().files
    try FileManager.default.createSymbolicLink(
      atPath: MirrorBase.path(directory: dir, environment: "prod"), withDestinationPath: target)
    let report = try vault.session.importMirror(
      MirrorSnapshot(directory: dir, files: files), environment: "prod", prune: false, dryRun: false)
    #expect(report.added.map(\.key) == ["A"])
    #expect(report.baseWarning?.contains("symbolic link") == true)
    #expect(try String(contentsOfFile: target, encoding: .utf8) == "")
  }
}
