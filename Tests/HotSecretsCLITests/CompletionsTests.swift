import Foundation
import TestSupport
import Testing

@testable import HotSecretsCLI

/// `hotsecrets completions` and the man page: both come from the commands themselves.
@Suite(.endToEnd) struct CompletionsTests {
  @Test func scriptsForEveryShell() async throws {
    let h = try CLIHarness()
    for shell in ["bash", "zsh", "fish"] {
      let r = try await h.run(["completions", shell])
      #expect(r.status == 0)
      #expect(r.stdout.contains("hotsecrets"))
      #expect(r.stdout.contains("---completion"), "\(shell): custom completions call back into the binary")
    }
    #expect(try await h.run(["completions", "powershell"]).status == 64)
  }

  /// Environments, services and keys come from the vault's names, without unlocking: no identity
  /// in the environment, nothing audited, never a value.
  @Test func namesFromTheVaultWithoutUnlocking() async throws {
    let h = try await CLIHarness.withIdentityVault()
    try await h.run(["set", "prod", "openai", "API_KEY_PROD"], stdin: "sk-completion-canary")
    try await h.run(["set", "prod", "supabase", "SERVICE_KEY"], stdin: "sb")
    try await h.run(["set", "staging", "openai", "API_KEY_STAGING"], stdin: "st")
    try h.writePolicy("version: 1\nenvironment: dev\nservices:\n  app:\n    keys:\n      K: {}\n", environment: "dev")
    let before = try await h.run(["audit", "log", "--format", "json"])
    h.environment["HOTSECRETS_IDENTITY"] = nil
    func complete(_ command: String, _ position: Int, _ words: [String]) async throws -> [String] {
      let line = ["hotsecrets"] + words + [""]
      let r = try await h.run(
        ["---completion", command, "--", "positional@\(position)", String(line.count - 1), "0"] + line,
        env: ["HOTSECRETS_IDENTITY": ""])
      #expect(r.status == 0, "\(r.stderr)")
      #expect(!r.allOutput.contains("canary"))
      return r.stdout.split(separator: "\n").map(String.init)
    }
    #expect(try await complete("get", 0, ["get"]) == ["dev", "prod", "staging"])
    #expect(try await complete("get", 1, ["get", "prod"]) == ["openai", "supabase"])
    #expect(try await complete("history", 2, ["history", "prod", "openai"]) == ["API_KEY_PROD"])
    #expect(try await complete("rotate", 1, ["rotate", "prod"]) == ["openai/API_KEY_PROD", "supabase/SERVICE_KEY"])
    // Global options in the line say where the vault is.
    #expect(try await complete("get", 0, ["--vault", "nowhere.db", "get"]) == ["dev"])
    #expect(try await complete("get", 1, ["get", "--root", "elsewhere", "prod"]) == [])
    let after = try await h.run(["audit", "log", "--format", "json"], env: ["HOTSECRETS_IDENTITY": "ci.identity"])
    #expect(after.stdout == before.stdout)
  }

  /// The bash script, sourced in a real bash, completes a key after `get prod openai `.
  @Test(arguments: Backend.allCases) func bashCompletesInARealShell(_ backend: Backend) async throws {
    let h = try await CLIHarness.withIdentityVault(backend)
    try await h.run(["set", "prod", "openai", "API_KEY_PROD"], stdin: "sk-1")
    let script = try await h.run(["completions", "bash"]).stdout
    try script.write(toFile: h.path("completion.bash"), atomically: true, encoding: .utf8)
    let driver = """
      source completion.bash
      COMP_WORDS=("\(CLIHarness.binary)" get prod openai "")
      COMP_CWORD=4
      COMP_LINE="hotsecrets get prod openai "
      COMP_POINT=${#COMP_LINE}
      _hotsecrets
      printf '%s\\n' "${COMPREPLY[@]}"
      """
    let r = try await h.runProcess("/bin/bash", ["-c", driver], stdin: nil, env: [:])
    #expect(r.stdout.split(separator: "\n").contains("API_KEY_PROD"), "\(r.allOutput)")
  }

  /// The man page is generated from the same commands (scripts/man), one entry per command.
  @Test func theManPageNamesEveryCommand() async throws {
    let h = try CLIHarness()
    let tool = (CLIHarness.binary as NSString).deletingLastPathComponent + "/generate-manual"
    try #require(FileManager.default.isExecutableFile(atPath: tool), "scripts/test builds generate-manual")
    try FileManager.default.createDirectory(atPath: h.path("man"), withIntermediateDirectories: true)
    let r = try await h.runProcess(tool, [CLIHarness.binary, "--output-directory", h.path("man")], stdin: nil, env: [:])
    #expect(r.status == 0, "\(r.allOutput)")
    let page = try String(contentsOfFile: h.path("man/hotsecrets.1"), encoding: .utf8)
    #expect(page.contains(".Dt HOTSECRETS 1"))
    for command in HotSecrets.configuration.subcommands.compactMap { $0.configuration.commandName } {
      #expect(page.contains(".It Em \(command)"), "\(command)")
    }
    #expect(page.contains("Exit codes"))
  }
}
