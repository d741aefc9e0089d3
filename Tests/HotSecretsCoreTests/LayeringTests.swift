import Foundation
import Testing

/// What the target layout promises, checked on the sources themselves: one target holds SQL and
/// imports GRDB; the core targets name no command and no flag (the CLI words those).
@Suite struct LayeringTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

  /// Every Swift file under `Sources/TARGET`, with its lines.
  static func sources(_ target: String) throws -> [(path: String, lines: [Substring])] {
    let folder = root + "/Sources/" + target
    let files = try #require(FileManager.default.subpathsOfDirectory(atPath: folder) as [String]?)
    return try files.filter { $0.hasSuffix(".swift") }.sorted().map { file in
      let text = try String(contentsOfFile: folder + "/" + file, encoding: .utf8)
      return ("Sources/\(target)/\(file)", text.split(separator: "\n", omittingEmptySubsequences: false))
    }
  }

  static let targets = try! FileManager.default.contentsOfDirectory(atPath: root + "/Sources").sorted()
  static let core = [
    "HotSecretsModel", "VaultSQLite", "VaultPostgres", "HotSecretsPolicy", "RemoteAPIs", "HotSecretsVault", "HotSecretsOperations",
    "HotSecretsCompliance",
  ]

  @Test func onlyTheSQLiteStoreImportsGRDB() throws {
    #expect(Set(Self.core).isSubset(of: Self.targets))
    var importers: Set<String> = []
    for target in Self.targets {
      for (path, lines) in try Self.sources(target) where lines.contains("import GRDB") {
        importers.insert(path.split(separator: "/")[1].description)
      }
    }
    #expect(importers == ["VaultSQLite"])
  }

  /// A string literal in a core target that names one of our commands (`hotsecrets import`) or a
  /// flag (`--resume`) means the core is writing the CLI's words. (Comments may name them.)
  @Test func theCoreNamesNoCommandAndNoFlag() throws {
    let commands = [
      "init", "import", "render", "status", "verify", "sync", "rotate", "export", "recipients", "identity", "rekey",
      "schedule", "audit", "get", "set", "rm", "list", "history", "run",
    ]
    let command = try Regex("hotsecrets (\(commands.joined(separator: "|")))\\b")
    let flag = try Regex("(^|[ (`/])--[a-z][a-z-]+")
    var found: [String] = []
    for target in Self.core {
      for (path, lines) in try Self.sources(target) {
        for (number, line) in lines.enumerated() {
          let code = line.trimmingCharacters(in: .whitespaces)
          guard !code.hasPrefix("//"), let quote = line.firstIndex(of: "\"") else { continue }
          let literal = line[quote...]
          // git's own flags, where hotsecrets runs git (always with `-C WORKTREE`).
          if literal.contains("check-ignore") || literal.contains("\"-C\"") { continue }
          if literal.contains(command) || literal.contains(flag) { found.append("\(path):\(number + 1)") }
        }
      }
    }
    #expect(found == [])
  }
}
