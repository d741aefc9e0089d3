import Foundation
import TestSupport
import Testing

@testable import HotSecretsCLI

/// A mistyped environment fails loudly, with the environments there are and the closest one.
@Suite(.endToEnd) struct TypoCommandTests {
  @Test(arguments: Backend.allCases) func anEnvironmentWithNoSecretsAndNoPolicyIsAnError(_ backend: Backend) async throws {
    let h = try await CLIHarness.withIdentityVault(backend)
    try #require(try await h.run(["set", "prod", "openai", "API_KEY"], stdin: "sk-1").status == 0)
    try #require(try await h.run(["set", "staging", "openai", "API_KEY"], stdin: "sk-2").status == 0)
    let expected = "hotsecrets: error: no environment 'prdo' (environments: prod, staging); did you mean 'prod'?"
    for arguments in [
      ["run", "prdo", "--", "/usr/bin/env"], ["status", "prdo"], ["list", "prdo"], ["get", "prdo", "openai", "API_KEY"],
      ["history", "prdo", "openai", "API_KEY"], ["rm", "prdo", "openai", "API_KEY"], ["render", "prdo"],
    ] {
      let r = try await h.run(arguments)
      #expect(r.status == 2, "\(arguments): \(r.allOutput)")
      #expect(r.stderr.contains(expected), "\(arguments): \(r.stderr)")
      #expect(r.stdout.isEmpty, "\(arguments): \(r.stdout)")
    }
    // Nothing was run, rendered or audited for it.
    #expect(!FileManager.default.fileExists(atPath: h.path("vault/occ")))
    let log = try await h.run(["audit", "log", "--format", "json"])
    #expect(!log.stdout.contains("prdo"))
    // An environment with a policy but no secrets yet is one.
    try h.writePolicy("version: 1\nenvironment: dev\nservices:\n  app:\n    keys:\n      K: {}\n", environment: "dev")
    #expect(try await h.run(["list", "dev"]).status == 0)
    let far = try await h.run(["status", "qa"])
    #expect(far.stderr.contains("no environment 'qa' (environments: dev, prod, staging)"), "\(far.stderr)")
    #expect(!far.stderr.contains("did you mean"))
  }

  @Test func theClosestNameIsAtMostTwoEditsAway() {
    let names = ["prod", "staging", "dev"]
    #expect(Suggestion.closest(to: "prdo", among: names) == "prod")
    #expect(Suggestion.closest(to: "stagign", among: names) == "staging")
    #expect(Suggestion.closest(to: "Prod", among: names) == "prod")
    #expect(Suggestion.closest(to: "qa", among: names) == nil)
    #expect(Suggestion.closest(to: "production", among: names) == nil)
    #expect(Suggestion.editDistance(Array("abc"), Array("acb")) == 1)
  }

  @Test(arguments: Backend.allCases) func unknownSecretsSuggestTheClosestName(_ backend: Backend) async throws {
    let h = try await CLIHarness.withIdentityVault(backend)
    try #require(try await h.run(["set", "prod", "openai", "API_KEY_PROD"], stdin: "sk-1").status == 0)
    try #require(try await h.run(["set", "prod", "supabase", "SERVICE_KEY"], stdin: "sb-1").status == 0)
    let cases: [([String], String)] = [
      (["get", "prod", "openai", "API_KEY_PRDO"], "no secret prod/openai/API_KEY_PRDO; did you mean prod/openai/API_KEY_PROD?"),
      (["history", "prod", "opanai", "API_KEY_PROD"], "no secret prod/opanai/API_KEY_PROD; did you mean prod/openai/API_KEY_PROD?"),
      (["rm", "prod", "supabse", "SERVCE_KEY"], "no secret prod/supabse/SERVCE_KEY; did you mean prod/supabase/SERVICE_KEY?"),
      (["get", "prod", "shopify", "SERVICE_KEY"], "no secret prod/shopify/SERVICE_KEY; did you mean prod/supabase/SERVICE_KEY?"),
    ]
    for (arguments, expected) in cases {
      let r = try await h.run(arguments)
      #expect(r.status == 2, "\(arguments)")
      #expect(r.stderr == "hotsecrets: error: \(expected)\n", "\(arguments): \(r.stderr)")
      #expect(!r.allOutput.contains("sk-1") && !r.allOutput.contains("sb-1"))
    }
    let far = try await h.run(["get", "prod", "chatwoot", "TOKEN"])
    #expect(far.stderr == "hotsecrets: error: no secret prod/chatwoot/TOKEN\n")
    // Nothing was removed by the mistyped rm.
    #expect(try await h.run(["get", "prod", "supabase", "SERVICE_KEY"]).stdout == "sb-1")
  }

  @Test(arguments: Backend.allCases) func setOfANameThePolicyAlmostDeclaresNeedsNew(_ backend: Backend) async throws {
    let h = try await CLIHarness.withIdentityVault(backend)
    try h.writePolicy(
      "version: 1\nenvironment: prod\nservices:\n  openai:\n    keys:\n      API_KEY_PROD: {}\n")
    let typo = try await h.run(["set", "prod", "openai", "API_KEY_PRDO"], stdin: "sk-typo")
    #expect(typo.status == 2)
    #expect(
      typo.stderr.contains(
        "prod/openai/API_KEY_PRDO is not in policies/prod.yaml; did you mean prod/openai/API_KEY_PROD? (pass --new to store it under this name)"
      ), "\(typo.stderr)")
    #expect(try await h.run(["list", "prod", "--format", "json"]).stdout.contains("API_KEY_PRDO") == false)
    let service = try await h.run(["set", "prod", "opanai", "API_KEY_PROD"], stdin: "sk-typo")
    #expect(service.status == 2)
    #expect(service.stderr.contains("did you mean prod/openai/API_KEY_PROD?"))

    let forced = try await h.run(["set", "prod", "openai", "API_KEY_PRDO", "--new"], stdin: "sk-typo")
    #expect(forced.status == 0)
    #expect(forced.stderr.contains("warning: prod/openai/API_KEY_PRDO is not in policies/prod.yaml"))
    // Once it exists, updating it is not a typo any more.
    #expect(try await h.run(["set", "prod", "openai", "API_KEY_PRDO"], stdin: "sk-2").status == 0)
    // A name nothing is close to: stored, with a warning.
    let other = try await h.run(["set", "prod", "chatwoot", "API_TOKEN"], stdin: "cw")
    #expect(other.status == 0)
    #expect(other.stderr.contains("warning: prod/chatwoot/API_TOKEN is not in policies/prod.yaml"))
    // Declared names, and environments without a policy, say nothing.
    #expect(try await h.run(["set", "prod", "openai", "API_KEY_PROD"], stdin: "sk").stderr.isEmpty)
    #expect(try await h.run(["set", "dev", "openai", "API_KEY_PRDO"], stdin: "sk").stderr.isEmpty)
  }

  @Test func usageErrorsAreOneLineWithAHint() async throws {
    let h = try CLIHarness()
    let cases: [([String], [String])] = [
      (["vrify", "prod"], ["hotsecrets: error: unknown command 'vrify' for 'hotsecrets'", "hotsecrets: hint: did you mean 'verify'?"]),
      (["audit", "vrify"], ["hotsecrets: error: unknown command 'vrify' for 'hotsecrets audit'", "hotsecrets: hint: did you mean 'verify'?"]),
      (["list", "--fromat", "json"], ["hotsecrets: error: unknown option '--fromat'", "hotsecrets: hint: did you mean '--format'? (see hotsecrets list --help)"]),
      (["rotate", "prod", "--xyzzy"], ["hotsecrets: error: unknown option '--xyzzy'", "hotsecrets: hint: see hotsecrets rotate --help"]),
    ]
    for (arguments, expected) in cases {
      let r = try await h.run(arguments)
      #expect(r.status == 64, "\(arguments)")
      #expect(r.stderr == expected.joined(separator: "\n") + "\n", "\(arguments): \(r.stderr)")
      #expect(r.stdout.isEmpty)
    }
    let missing = try await h.run(["get", "prod"])
    #expect(missing.status == 64)
    let lines = missing.stderr.split(separator: "\n")
    #expect(lines.count == 2)
    #expect(lines.first == "hotsecrets: error: missing expected argument '<service>'")
    #expect(lines.last?.hasPrefix("hotsecrets: hint: usage: hotsecrets get ") == true)
    // Help and --version are not errors.
    #expect(try await h.run(["--version"]).status == 0)
    #expect(try await h.run(["list", "--help"]).stdout.contains("USAGE: hotsecrets list"))
  }

  @Test func globalOptionsWorkBeforeTheSubcommand() async throws {
    let h = try await CLIHarness.withIdentityVault()
    try #require(try await h.run(["set", "prod", "openai", "API_KEY"], stdin: "sk-1").status == 0)
    let before = try await h.run(["--root", ".", "list", "prod"])
    #expect(before.status == 0)
    #expect(before.stdout.contains("API_KEY"))
    let vault = try await h.run(["--vault=elsewhere.db", "list", "prod"])
    #expect(vault.status == 2)
    #expect(vault.stderr.contains("no vault at elsewhere.db"))
    let root = try await h.run(["--root", "sub", "--identity", "ci.identity", "status", "prod"])
    #expect(root.stderr.contains("no vault at sub/vault/hotsecrets.db"), "\(root.stderr)")
    // A command's own arguments after `--` stay the command's.
    let run = try await h.run(["--root", ".", "run", "prod", "--", "/bin/echo", "--root", "x"])
    #expect(run.status == 0)
    #expect(run.stdout == "--root x\n")
  }


  /// `rm`, `recipients remove` and `import --prune` ask on a terminal and need --yes elsewhere.
  @Test(arguments: Backend.allCases) func destructiveCommandsNeedYesOffATerminal(_ backend: Backend) async throws {
    let h = try await CLIHarness.withIdentityVault(backend)
    try #require(try await h.run(["set", "prod", "openai", "API_KEY"], stdin: "sk-1").status == 0)
    let rm = try await h.run(["rm", "prod", "openai", "API_KEY"])
    #expect(rm.status == 64)
    #expect(
      rm.stderr
        == "hotsecrets: error: remove prod/openai/API_KEY and its 1 version: not on a terminal, so pass --yes to confirm (nothing changed)\n"
    )
    #expect(try await h.run(["get", "prod", "openai", "API_KEY"]).stdout == "sk-1")
    // A missing secret is its own error, before any confirmation.
    #expect(try await h.run(["rm", "prod", "openai", "API_KYE"]).stderr.contains("did you mean prod/openai/API_KEY?"))

    // import --prune: asks only when something would be removed.
    try FileManager.default.createDirectory(atPath: h.path("vault/occ/openai"), withIntermediateDirectories: true)
    try "OTHER=o\n".write(toFile: h.path("vault/occ/openai/prod.env"), atomically: false, encoding: .utf8)
    let prune = try await h.run(["import", "prod", "--prune"])
    #expect(prune.status == 64)
    #expect(prune.stderr.contains("remove 1 key in no file (openai/API_KEY): not on a terminal, so pass --yes"))
    #expect(try await h.run(["list", "prod"]).stdout.contains("OTHER") == false)
    #expect(try await h.run(["import", "prod", "--prune", "--dry-run"]).status == 0)

    // recipients remove: the one you unlocked with needs --yes, and says why.
    let second = try await h.run(["identity", "new", "--out", "second.identity"])
    try #require(try await h.run(["recipients", "add", second.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "--name", "second"]).status == 0)
    let other = try await h.run(["recipients", "remove", "2"])
    #expect(other.status == 64)
    #expect(other.stderr.contains("remove recipient 2 (second) and re-key the vault: not on a terminal, so pass --yes"))
    let me = try await h.run(["recipients", "remove", "1"])
    #expect(me.status == 64)
    #expect(
      me.stderr.contains(
        "recipient 1 (ci) is the one you unlocked with; this is you: you will lose access unless another recipient is available to you; pass --yes to go ahead (nothing changed)"
      ))
    #expect(try await h.run(["recipients", "list", "--format", "json"]).stdout.contains("second"))
    #expect(try await h.run(["rm", "prod", "openai", "API_KEY", "--yes"]).status == 0)
  }

  /// On a terminal (a pty from `script`), the question is asked there: y goes ahead, anything else
  /// cancels with exit 1; removing yourself still needs --yes.
  @Test(arguments: Backend.allCases) func onATerminalTheyAsk(_ backend: Backend) async throws {
    let h = try await CLIHarness.withIdentityVault(backend)
    try #require(try await h.run(["set", "prod", "openai", "API_KEY"], stdin: "sk-1").status == 0)
    func onTerminal(_ arguments: String, answer: String) async throws -> CLIResult {
      try await h.runProcess(
        "/usr/bin/script", ["-qec", "\(CLIHarness.binary) \(arguments)", "/dev/null"], stdin: Data((answer + "\n").utf8),
        env: [:])
    }
    let declined = try await onTerminal("rm prod openai API_KEY", answer: "n")
    #expect(declined.status == 1)
    #expect(declined.stdout.contains("remove prod/openai/API_KEY and its 1 version? [y/N]"))
    #expect(declined.stdout.contains("cancelled; nothing changed"))
    #expect(try await h.run(["get", "prod", "openai", "API_KEY"]).status == 0)
    // The last recipient is refused outright, with nothing to confirm.
    let last = try await onTerminal("recipients remove 1", answer: "y")
    #expect(last.status == 2)
    #expect(last.stdout.contains("cannot remove the last recipient"))
    let second = try await h.run(["identity", "new", "--out", "second.identity"])
    try #require(try await h.run(["recipients", "add", second.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "--name", "second"]).status == 0)
    let meAgain = try await onTerminal("recipients remove 1", answer: "y")
    #expect(meAgain.status == 64)
    #expect(meAgain.stdout.contains("this is you"))
    let accepted = try await onTerminal("rm prod openai API_KEY", answer: "y")
    #expect(accepted.status == 0, "\(accepted.stdout)")
    #expect(accepted.stdout.contains("removed prod/openai/API_KEY"))
  }


  @Test func eachCommandsHelpListsTheExitCodesItUses() async throws {
    let h = try CLIHarness()
    func help(_ arguments: [String]) async throws -> String {
      try await h.run(arguments + ["--help"]).stdout.replacingOccurrences(of: "\n", with: " ")
        .replacingOccurrences(of: "  ", with: " ")
    }
    let get = try await help(["get"])
    #expect(get.contains("Exit codes: 0 success; 2 an error"))
    #expect(!get.contains("; 1 "))
    #expect(try await help(["status"]).contains("1 the files and the vault differ"))
    #expect(try await help(["rm"]).contains("1 declined at the prompt"))
    #expect(try await help(["audit", "verify"]).contains("1 the chain or a checkpoint does not verify"))
    let run = try await help(["run"])
    #expect(run.contains("127 COMMAND not found"))
    #expect(!run.contains("a check found a problem"))
  }

}
