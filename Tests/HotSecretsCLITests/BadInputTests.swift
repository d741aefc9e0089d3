import Foundation
import GRDB
import Testing

/// Every bad-input case of the core vault: clear message, right exit code, nothing on stdout.
@Suite(.endToEnd) struct BadInputTests {
  @Test func wrongPassphrase() async throws {
    let h = try CLIHarness()
    #expect(try await h.run(["init"], env: ["HOTSECRETS_PASSPHRASE": "right passphrase"]).status == 0)
    let r = try await h.run(["list"], env: ["HOTSECRETS_PASSPHRASE": "wrong passphrase"])
    #expect(r.status == 2)
    #expect(r.stdout.isEmpty)
    #expect(r.stderr == "hotsecrets: error: cannot unlock: wrong passphrase or identity\n")
  }

  @Test(arguments: Backend.allCases) func noWayToUnlock(_ backend: Backend) async throws {
    let h = try await CLIHarness.withIdentityVault(backend)
    h.environment["HOTSECRETS_IDENTITY"] = nil
    let r = try await h.run(["list"])
    #expect(r.status == 2)
    #expect(r.stdout.isEmpty)
    #expect(r.stderr.contains("cannot unlock: no identity or passphrase given"))
  }

  @Test func missingVault() async throws {
    let h = try CLIHarness()
    let r = try await h.run(["list"], env: ["HOTSECRETS_PASSPHRASE": "x"])
    #expect(r.status == 2)
    #expect(r.stdout.isEmpty)
    #expect(r.stderr.contains("no vault at vault/hotsecrets.db; run `hotsecrets init`"))
    // audit verify needs no unlock but still needs a vault.
    #expect(try await h.run(["audit", "verify"]).status == 2)
  }

  @Test func tamperedCiphertextNamesTheSecret() async throws {
    let h = try await CLIHarness.withIdentityVault()
    try await h.run(["set", "prod", "openai", "API_KEY_PROD"], stdin: "sk-aaaaaaaaaaaaaaaaaaaa")
    try await h.run(["set", "prod", "chatwoot", "API_TOKEN"], stdin: "cw-bbbbbbbbbbbbbbbbbbbb")
    let queue = try DatabaseQueue(path: h.path("vault/hotsecrets.db"))
    try await queue.write { db in
      // Swap the two ciphertexts (and nonces) between the rows.
      let rows = try Row.fetchAll(db, sql: "SELECT id, nonce, ciphertext FROM secret_versions ORDER BY id")
      try #require(rows.count == 2)
      for (row, other) in [(rows[0], rows[1]), (rows[1], rows[0])] {
        try db.execute(
          sql: "UPDATE secret_versions SET nonce = ?, ciphertext = ? WHERE id = ?",
          arguments: [other["nonce"] as Data, other["ciphertext"] as Data, row["id"] as Int64])
      }
    }
    let r = try await h.run(["get", "prod", "openai", "API_KEY_PROD"])
    #expect(r.status == 2)
    #expect(r.stdoutData.isEmpty)
    #expect(r.stderr.contains("integrity check failed for prod/openai/API_KEY_PROD"))
    #expect(!r.stderr.contains("cw-") && !r.stderr.contains("sk-"))

    try await queue.write { db in
      try db.execute(sql: "UPDATE secret_versions SET ciphertext = zeroblob(length(ciphertext))")
    }
    let r2 = try await h.run(["get", "prod", "chatwoot", "API_TOKEN"])
    #expect(r2.status == 2)
    #expect(r2.stdoutData.isEmpty)
    #expect(r2.stderr.contains("integrity check failed for prod/chatwoot/API_TOKEN"))
  }

  @Test(arguments: Backend.allCases) func invalidNamesWriteNothing(_ backend: Backend) async throws {
    let h = try await CLIHarness.withIdentityVault(backend)
    for args in [
      ["prod", "OpenAI", "K"], ["prod", "openai", "1K"], ["Prod", "openai", "K"], ["prod", "open ai", "K"],
      ["prod", "openai", "K-EY"],
    ] {
      let r = try await h.run(["set"] + args, stdin: "value")
      #expect(r.status == 2, "\(args)")
      #expect(r.stderr.contains("invalid"), "\(args)")
      #expect(r.stdout.isEmpty)
    }
    #expect(try await h.run(["list"]).stdout == "no secrets\n")
    let json = try h.json(try await h.run(["audit", "log", "--format", "json"]))
    #expect((json["entries"] as? [Any])?.count == 2)  // init and recipient-add only
  }

  @Test(arguments: Backend.allCases) func invalidValueIsRefused(_ backend: Backend) async throws {
    let h = try await CLIHarness.withIdentityVault(backend)
    let r = try await h.runProcess(
      CLIHarness.binary, ["set", "prod", "app", "K"], stdin: Data([0x61, 0xff, 0x62]), env: [:])
    #expect(r.status == 2)
    #expect(r.stderr.contains("not valid UTF-8"))
  }

  @Test func usageErrorsExit64() async throws {
    let h = try CLIHarness()
    #expect(try await h.run(["frobnicate"]).status == 64)
    #expect(try await h.run(["set", "prod"]).status == 64)
    #expect(try await h.run(["list", "--format", "yaml"]).status == 64)
    #expect(try await h.run(["get", "a", "b", "c", "--bogus"]).status == 64)
  }

  @Test(arguments: Backend.allCases) func aFailedWriteToStdoutIsAnErrorNotACrash(_ backend: Backend) async throws {
    let h = try await CLIHarness.withIdentityVault(backend)
    try await h.run(["set", "prod", "app", "K"], stdin: "v")
    for command in ["list", "get prod app K"] {
      let r = try await h.runProcess(
        "/bin/sh", ["-c", "\"$0\" \(command) > /dev/full", CLIHarness.binary], stdin: nil, env: [:])
      #expect(r.status == 2, "\(command)")
      #expect(r.stderr.contains("cannot write to standard output"), "\(command)")
    }
  }

  @Test func everyCommandHasHelpWithExitCodes() async throws {
    let h = try CLIHarness()
    let commands: [[String]] = [
      [], ["init"], ["set"], ["get"], ["list"], ["history"], ["rm"], ["identity"], ["identity", "new"],
      ["identity", "show"], ["recipients"], ["recipients", "list"], ["recipients", "add"], ["recipients", "remove"],
      ["audit"], ["audit", "log"], ["audit", "verify"], ["audit", "checkpoint"], ["import"], ["status"], ["render"],
      ["run"], ["verify"], ["sync"], ["rotate"], ["schedule"], ["export"], ["export", "compliance"],
      ["export", "verify"],
    ]
    for command in commands {
      let r = try await h.run(command + ["--help"])
      #expect(r.status == 0, "\(command)")
      #expect(r.stdout.contains("USAGE") || r.stdout.contains("Usage"), "\(command)")
    }
    #expect(try await h.run(["--help"]).stdout.contains("usage error"))
    #expect(try await h.run(["get", "--help"]).stdout.contains("Exit codes"))
    for command in [["export", "compliance"], ["export", "verify"]] {
      #expect(try await h.run(command + ["--help"]).stdout.contains("Exit codes"), "\(command)")
    }
  }

  @Test func noValueEverAppearsOutsideGet() async throws {
    let h = try await CLIHarness.withIdentityVault()
    let canaries = (1...3).map { "canary-\($0)-\(UUID().uuidString)" }
    var outputs: [CLIResult] = []
    for (i, value) in canaries.enumerated() {
      outputs.append(try await h.run(["set", "prod", "svc\(i)", "KEY"], stdin: value))
      outputs.append(try await h.run(["set", "prod", "svc\(i)", "KEY"], stdin: value + "-v2"))
    }
    outputs.append(try await h.run(["list"]))
    outputs.append(try await h.run(["list", "--format", "json"]))
    outputs.append(try await h.run(["history", "prod", "svc0", "KEY", "--format", "json"]))
    outputs.append(try await h.run(["audit", "log", "--format", "json"]))
    outputs.append(try await h.run(["audit", "log"]))
    outputs.append(try await h.run(["audit", "verify", "--format", "json"]))
    outputs.append(try await h.run(["recipients", "list"]))
    outputs.append(try await h.run(["render", "prod"]))
    outputs.append(try await h.run(["status", "prod"]))
    outputs.append(try await h.run(["status", "prod", "--format", "json"]))
    outputs.append(try await h.run(["import", "prod"]))
    outputs.append(try await h.run(["import", "prod", "--format", "json", "--dry-run"]))
    outputs.append(try await h.run(["run", "prod", "--service", "svc0", "--", "/bin/true"]))
    outputs.append(try await h.run(["rm", "prod", "svc2", "KEY", "--yes"]))
    for output in outputs {
      for canary in canaries { #expect(!output.allOutput.contains(canary)) }
    }
    for suffix in ["", "-wal", "-shm"] {
      guard let data = FileManager.default.contents(atPath: h.path("vault/hotsecrets.db") + suffix) else { continue }
      for canary in canaries { #expect(data.range(of: Data(canary.utf8)) == nil, "\(suffix)") }
    }
  }
}
