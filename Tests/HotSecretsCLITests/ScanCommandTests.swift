import Foundation
import TestSupport
import Testing

/// `hotsecrets scan` end to end: planted values in files, staged changes and history.
@Suite(.endToEnd) struct ScanCommandTests {
  static let token = "sk-live-Zq8Lw0PvX1aBcDeFgHiJ"
  static let password = "p@ss/w0rd+Secret?x=1"
  static let oldToken = "sk-live-OLDOLDOLD123456789"

  /// A vault with two secrets (one with an older version), in a git repository whose mirror
  /// files are ignored.
  static func repository() async throws -> CLIHarness {
    let h = try await CLIHarness.withIdentityVault()
    try #require(try await h.run(["set", "prod", "openai", "API_KEY_PROD"], stdin: oldToken).status == 0)
    try #require(try await h.run(["set", "prod", "openai", "API_KEY_PROD"], stdin: token).status == 0)
    try #require(try await h.run(["set", "prod", "supabase", "DB_PASSWORD"], stdin: password).status == 0)
    try #require(try await h.run(["set", "prod", "supabase", "SUPABASE_URL"], stdin: "https://abc.supabase.co").status == 0)
    try h.writePolicy(
      """
      version: 1
      environment: prod
      services:
        openai:
          keys:
            API_KEY_PROD: {}
        supabase:
          keys:
            DB_PASSWORD: {}
            SUPABASE_URL: { secret: false }
      """)
    try "vault/occ/**/*.env\nvault/hotsecrets.db*\n*.identity\n".write(toFile: h.path(".gitignore"), atomically: true, encoding: .utf8)
    try #require(try await h.run(["render", "prod"]).status == 0)
    for arguments in [["init", "-q"], ["config", "user.email", "t@example.com"], ["config", "user.name", "t"]] {
      try #require(try await git(h, arguments).status == 0)
    }
    return h
  }

  @discardableResult
  static func git(_ h: CLIHarness, _ arguments: [String]) async throws -> CLIResult {
    try await h.runProcess("/usr/bin/git", arguments, stdin: nil, env: [:])
  }

  static func write(_ h: CLIHarness, _ path: String, _ text: String) throws {
    try FileManager.default.createDirectory(atPath: PathHelper.folder(h.path(path)), withIntermediateDirectories: true)
    try text.write(toFile: h.path(path), atomically: true, encoding: .utf8)
  }

  func expectNoValue(_ r: CLIResult) {
    for value in [Self.token, Self.password, Self.oldToken] { #expect(!r.allOutput.contains(value)) }
  }

  @Test func plantedValuesAreFoundExactlyAndEncodedButNeverPrinted() async throws {
    let h = try await Self.repository()
    // A clean tree (the rendered mirror holds every value, but git ignores it).
    let clean = try await h.run(["scan"])
    #expect(clean.status == 0, "\(clean.allOutput)")
    #expect(clean.stdout.hasPrefix("scan: clean ("))
    try Self.write(h, "src/config.ts", "export const key = \"\(Self.token)\";\n")
    try Self.write(h, "deploy/notes.md", "# notes\n\nauth: \(Data(Self.password.utf8).base64EncodedString())\n")
    let percent = Self.password.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
    try Self.write(h, "logs/request.log", "GET /?db=\(percent) 200\n")
    try Self.write(h, "docs/url.md", "the project lives at https://abc.supabase.co\n")  // secret: false
    let r = try await h.run(["scan"])
    #expect(r.status == 1, "\(r.allOutput)")
    let lines = r.stdout.split(separator: "\n").map(String.init)
    #expect(lines.contains("src/config.ts:1:21: prod/openai/API_KEY_PROD version 2 (current)"), "\(lines)")
    #expect(lines.contains("deploy/notes.md:3:7: prod/supabase/DB_PASSWORD version 1 (current), base64-encoded"), "\(lines)")
    #expect(lines.contains("logs/request.log:1:10: prod/supabase/DB_PASSWORD version 1 (current), url-encoded"), "\(lines)")
    #expect(lines.last?.hasPrefix("scan: 3 findings of 2 secrets (") == true, "\(lines)")
    #expect(!r.stdout.contains("docs/url.md"))
    expectNoValue(r)

    // An older version is looked for with --versions all only.
    try Self.write(h, "old.env", "OPENAI=\(Self.oldToken)\n")
    let current = try await h.run(["scan", "old.env"])
    #expect(current.status == 0, "\(current.allOutput)")
    let all = try await h.run(["scan", "old.env", "--versions", "all", "--format", "json"])
    #expect(all.status == 1)
    let document = try h.json(all)
    let finding = try #require((document["findings"] as? [[String: Any]])?.first)
    #expect(finding["path"] as? String == "old.env")
    #expect(finding["version"] as? Int == 1 && finding["current"] as? Bool == false)
    #expect(finding["encoding"] as? String == "exact" && finding["line"] as? Int == 1 && finding["column"] as? Int == 8)
    expectNoValue(all)

    // One audit entry per scan: counts and names, never where.
    let log = try h.json(try await h.run(["audit", "log", "--format", "json"]))
    let scans = (log["entries"] as? [[String: Any]])?.filter { $0["action"] as? String == "scan" } ?? []
    #expect(scans.count == 4)
    let detail = try #require(scans[1]["detail"] as? [String: Any])
    #expect(detail["findings"] as? Int == 3)
    #expect(detail["found"] as? [String] == ["prod/openai/API_KEY_PROD#2", "prod/supabase/DB_PASSWORD#1"])
    #expect(detail["source"] as? String == "files")
    #expect(!"\(scans)".contains("config.ts"))
  }

  @Test func stagedChangesAndHistoryAreScanned() async throws {
    let h = try await Self.repository()
    try Self.write(h, "app.py", "KEY = '\(Self.token)'\n")
    try await Self.git(h, ["add", "-A"])
    let staged = try await h.run(["scan", "--staged"])
    #expect(staged.status == 1, "\(staged.allOutput)")
    #expect(staged.stdout.contains("app.py:1:8: prod/openai/API_KEY_PROD version 2 (current)"))
    #expect(staged.stdout.contains("3 staged files"), "\(staged.stdout)")  // .gitignore, the policy, app.py
    try #require(try await Self.git(h, ["commit", "-q", "-m", "leak"]).status == 0)
    let leak = try await Self.git(h, ["rev-parse", "HEAD"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    try await Self.git(h, ["rm", "-q", "app.py"])
    try #require(try await Self.git(h, ["commit", "-q", "-m", "remove the key"]).status == 0)
    // Gone from the tree and the index, still in history, with the commit that added it.
    #expect(try await h.run(["scan"]).status == 0)
    #expect(try await h.run(["scan", "--staged"]).status == 0)
    let history = try await h.run(["scan", "--git-history", "--format", "json"])
    #expect(history.status == 1, "\(history.allOutput)")
    let document = try h.json(history)
    let finding = try #require((document["findings"] as? [[String: Any]])?.first)
    #expect(finding["path"] as? String == "app.py")
    #expect(finding["commit"] as? String == leak)
    #expect(document["commits"] as? Int == 2)
    expectNoValue(history)
    // A staged name with a newline is read by blob id, not by name.
    try Self.write(h, "odd\nname.txt", "x=\(Self.token)\n")
    try await Self.git(h, ["add", "odd\nname.txt"])
    let odd = try await h.run(["scan", "--staged", "--format", "json"])
    #expect(odd.status == 1, "\(odd.allOutput)")
    #expect((try h.json(odd)["findings"] as? [[String: Any]])?.first?["path"] as? String == "odd\nname.txt")
    try await Self.git(h, ["rm", "-q", "--cached", "odd\nname.txt"])
    try FileManager.default.removeItem(atPath: h.path("odd\nname.txt"))
    // A blob that only a merge commit introduced is found, under the merge.
    try await Self.git(h, ["checkout", "-q", "-b", "side"])
    try Self.write(h, "side.txt", "side\n")
    try await Self.git(h, ["add", "side.txt"])
    try await Self.git(h, ["commit", "-q", "-m", "side"])
    try await Self.git(h, ["checkout", "-q", "-"])
    try Self.write(h, "main.txt", "main\n")
    try await Self.git(h, ["add", "main.txt"])
    try await Self.git(h, ["commit", "-q", "-m", "main"])
    try await Self.git(h, ["merge", "-q", "--no-commit", "side"])
    try Self.write(h, "merged.txt", "resolved with \(Self.password)\n")
    try await Self.git(h, ["add", "merged.txt"])
    try #require(try await Self.git(h, ["commit", "-q", "-m", "merge"]).status == 0)
    let merge = try await Self.git(h, ["rev-parse", "HEAD"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    let merged = try await h.run(["scan", "--git-history", "--format", "json"])
    let mergedFinding = (try h.json(merged)["findings"] as? [[String: Any]])?.first { $0["path"] as? String == "merged.txt" }
    #expect(mergedFinding?["commit"] as? String == merge, "\(merged.stdout)")
    // Outside a repository, the git scans say so.
    let elsewhere = try CLIHarness()
    elsewhere.environment = h.environment
    elsewhere.environment["HOTSECRETS_VAULT"] = h.path("vault/hotsecrets.db")
    elsewhere.environment["HOTSECRETS_IDENTITY"] = h.path("ci.identity")
    let refused = try await elsewhere.run(["scan", "--staged"])
    #expect(refused.status == 2)
    #expect(refused.stderr.contains("is not in a git work tree"), "\(refused.stderr)")
  }

  @Test func thePreCommitHookRefusesACommitHoldingAValue() async throws {
    let h = try await Self.repository()
    let installed = try await h.run(["scan", "--install-hook"])
    #expect(installed.status == 0, "\(installed.allOutput)")
    #expect(installed.stdout.contains(".git/hooks/pre-commit"))
    // The hook runs `hotsecrets` from PATH, unlocking with HOTSECRETS_IDENTITY.
    let binFolder = PathHelper.folder(CLIHarness.binary)
    let env = ["PATH": "\(binFolder):/usr/bin:/bin", "HOTSECRETS_IDENTITY": h.path("ci.identity")]
    try Self.write(h, "leak.txt", "token=\(Self.token)\n")
    try await Self.git(h, ["add", "leak.txt"])
    let refused = try await h.runProcess("/usr/bin/git", ["commit", "-q", "-m", "oops"], stdin: nil, env: env)
    #expect(refused.status != 0)
    #expect(refused.allOutput.contains("leak.txt:1:7: prod/openai/API_KEY_PROD"), "\(refused.allOutput)")
    expectNoValue(refused)
    try Self.write(h, "leak.txt", "token=from-the-environment\n")
    try await Self.git(h, ["add", "leak.txt"])
    let accepted = try await h.runProcess("/usr/bin/git", ["commit", "-q", "-m", "fine"], stdin: nil, env: env)
    #expect(accepted.status == 0, "\(accepted.allOutput)")
    // `commit -a` commits a tracked file changed but not added (git gives the hook its own index).
    try Self.write(h, "leak.txt", "token=\(Self.password)\n")
    let all = try await h.runProcess("/usr/bin/git", ["commit", "-q", "-a", "-m", "oops again"], stdin: nil, env: env)
    #expect(all.status != 0, "\(all.allOutput)")
    #expect(all.allOutput.contains("leak.txt:1:7: prod/supabase/DB_PASSWORD"), "\(all.allOutput)")
    try await Self.git(h, ["checkout", "--", "leak.txt"])
    // A clean commit's scan writes nothing into the vault (it may be tracked by this repository).
    let entries = { try h.json(try await h.run(["audit", "log", "--format", "json"]))["entries"] as? [Any] }
    let before = try await entries()?.count
    try Self.write(h, "other.txt", "nothing secret\n")
    try await Self.git(h, ["add", "other.txt"])
    #expect(try await h.runProcess("/usr/bin/git", ["commit", "-q", "-m", "clean"], stdin: nil, env: env).status == 0)
    #expect(try await entries()?.count == before)
    // Installing again replaces our hook; another hook is left alone.
    #expect(try await h.run(["scan", "--install-hook"]).status == 0)
    try "#!/bin/sh\nexit 0\n".write(toFile: h.path(".git/hooks/pre-commit"), atomically: true, encoding: .utf8)
    let other = try await h.run(["scan", "--install-hook"])
    #expect(other.status == 2)
    #expect(other.stderr.contains("not hotsecrets'"), "\(other.stderr)")
  }
}

/// Path helpers for these tests.
enum PathHelper {
  static func folder(_ path: String) -> String { (path as NSString).deletingLastPathComponent }
}
