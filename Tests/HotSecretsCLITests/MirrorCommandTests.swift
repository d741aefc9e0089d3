import Foundation
import GRDB
import TestSupport
import Testing

@Suite(.endToEnd) struct MirrorCommandTests {
  /// Writes `files` under the harness directory with mode 0600.
  func write(_ h: CLIHarness, _ files: [String: String], mode: mode_t = 0o600) throws {
    for (relative, content) in files {
      let path = h.path(relative)
      try FileManager.default.createDirectory(
        atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      try content.write(toFile: path, atomically: false, encoding: .utf8)
      chmod(path, mode)
    }
  }

  @Test(arguments: Backend.allCases) func importStatusRenderRoundTrip(_ backend: Backend) async throws {
    let h = try await CLIHarness.withIdentityVault(backend)
    let tricky = "p@ss #not-comment $HOME 'single' \"double\" \\back"
    try write(
      h,
      [
        "vault/occ/openai/prod.env": "export API_KEY_PROD=sk-canary-openai-111\n",
        "vault/occ/supabase/prod.env":
          "SUPABASE_URL = https://abcdefghijklmnopqrst.supabase.co\nSERVICE_KEY='\(tricky.replacingOccurrences(of: "'", with: "\\'"))'\nMULTI=\"line1\\nline2\"\n",
      ])
    let imported = try await h.run(["import", "prod"])
    #expect(imported.status == 0)
    #expect(imported.stdout.contains("import prod: 4 added, 0 changed, 0 unchanged, 0 only in vault"))
    #expect(try await h.run(["get", "prod", "supabase", "MULTI"]).stdout == "line1\nline2")

    let inSync = try await h.run(["status", "prod"])
    #expect(inSync.status == 0)
    #expect(inSync.stdout.contains("in sync"))

    // Render to a fresh folder and compare by status: lossless.
    let rendered = try await h.run(["render", "prod", "--to", "out"])
    #expect(rendered.status == 0)
    #expect(rendered.stdout.contains("2 files written"))
    #expect(try await h.run(["status", "prod", "--from", "out"]).status == 0)
    #expect(try await h.run(["render", "prod", "--to", "out"]).stdout.contains("0 files written, 2 unchanged"))
    let attributes = try FileManager.default.attributesOfItem(atPath: h.path("out/supabase/prod.env"))
    #expect((attributes[.posixPermissions] as? Int) == 0o600)

    // Re-import is quiet: nothing changes, no audit noise.
    let auditBefore = try h.json(try await h.run(["audit", "log", "--format", "json"]))["entries"] as? [Any]
    #expect(try await h.run(["import", "prod"]).stdout.contains("0 added, 0 changed, 4 unchanged"))
    let auditAfter = try h.json(try await h.run(["audit", "log", "--format", "json"]))["entries"] as? [Any]
    #expect(auditAfter?.count == auditBefore?.count)
  }

  @Test(arguments: Backend.allCases) func statusReportsDriftAsJSONAndExit1(_ backend: Backend) async throws {
    let h = try await CLIHarness.withIdentityVault(backend)
    try write(h, ["vault/occ/app/prod.env": "SAME=1\nCHANGED=old\nGONE=g\n"])
    #expect(try await h.run(["import", "prod"]).status == 0)
    try write(h, ["vault/occ/app/prod.env": "SAME=1\nCHANGED=new-canary\nNEW=n\n"])
    let r = try await h.run(["status", "prod", "--format", "json"])
    #expect(r.status == 1)
    let json = try h.json(r)
    #expect(json["in_sync"] as? Bool == false)
    func names(_ key: String) -> [String] {
      ((json[key] as? [[String: String]]) ?? []).map { "\($0["service"] ?? "")/\($0["key"] ?? "")" }
    }
    #expect(names("added") == ["app/NEW"])
    #expect(names("changed") == ["app/CHANGED"])
    #expect(names("missing") == ["app/GONE"])
    #expect(!r.allOutput.contains("new-canary"))
    let text = try await h.run(["status", "prod"])
    #expect(text.status == 1)
    #expect(text.stdout.contains("app/CHANGED  file changed (a new value in the file)"))
    #expect(text.stdout.contains("app/GONE     file changed (removed from the file)"))
    #expect(text.stdout.contains("app/NEW      only in file"))
    #expect(text.stdout.contains("run `hotsecrets import prod --prune` to store the files' changes"))
    #expect(json["changed"] as? [[String: String]] == [["service": "app", "key": "CHANGED", "side": "file changed"]])
  }

  @Test(arguments: Backend.allCases) func dryRunAndPrune(_ backend: Backend) async throws {
    let h = try await CLIHarness.withIdentityVault(backend)
    try await h.run(["set", "prod", "app", "OLD"], stdin: "o")
    try write(h, ["vault/occ/app/prod.env": "NEW=n\n"])
    let dry = try await h.run(["import", "prod", "--dry-run", "--prune"])
    #expect(dry.status == 0)
    #expect(dry.stdout.contains("would add     app/NEW"))
    #expect(dry.stdout.contains("would remove  app/OLD"))
    #expect(try await h.run(["list", "prod", "--format", "json"]).stdout.contains("OLD"))
    #expect(!(try await h.run(["list", "prod"]).stdout.contains("NEW")))
    let kept = try await h.run(["import", "prod"])
    #expect(kept.stdout.contains("only in vault: app/OLD (kept; --prune removes)"))
    // OLD was in the vault only when the files were imported: pruning it now would undo a vault-side
    // key, so it needs the files' side taken explicitly.
    let refused = try await h.run(["import", "prod", "--prune"])
    #expect(refused.status == 1)
    #expect(refused.stderr.contains("app/OLD  only in vault"))
    let pruned = try await h.run(["import", "prod", "--prune", "--take", "file", "--yes", "--format", "json"])
    let json = try h.json(pruned)
    #expect(json["pruned"] as? Bool == true)
    #expect(!(try await h.run(["list", "prod"]).stdout.contains("OLD")))
  }

  @Test(arguments: Backend.allCases) func pruneNeverEmptiesAServiceWhoseFileWasNotRead(_ backend: Backend) async throws {
    let h = try await CLIHarness.withIdentityVault(backend)
    try await h.run(["set", "prod", "openai", "KEY"], stdin: "o")
    try await h.run(["set", "prod", "supabase", "OLD"], stdin: "s")
    try FileManager.default.createDirectory(atPath: h.path("empty"), withIntermediateDirectories: true)
    let none = try await h.run(["import", "prod", "--from", "empty", "--prune"])
    #expect(none.status == 2)
    #expect(none.stderr.contains("no empty/<service>/prod.env files found"))
    try write(h, ["vault/occ/supabase/prod.env": "NEW=n\n"])
    let pruned = try await h.run(["import", "prod", "--prune", "--yes"])
    #expect(pruned.status == 0)
    #expect(pruned.stdout.contains("remove  supabase/OLD"))
    #expect(pruned.stdout.contains("only in vault: openai/KEY (kept: no openai/prod.env file was read)"))
    let list = try await h.run(["list", "prod"]).stdout
    #expect(list.contains("openai") && list.contains("NEW") && !list.contains("OLD"))
  }

  @Test func renderTightensPermissionsAndLeavesNoLooseTemporaryFiles() async throws {
    let h = try await CLIHarness.withIdentityVault()
    try await h.run(["set", "prod", "app", "K"], stdin: "v")
    #expect(try await h.run(["render", "prod"]).status == 0)
    chmod(h.path("vault/occ/app/prod.env"), 0o644)
    chmod(h.path("vault/occ/app"), 0o755)
    let again = try await h.run(["render", "prod"])
    #expect(again.stdout.contains("chmod vault/occ/app/prod.env"))
    let file = try FileManager.default.attributesOfItem(atPath: h.path("vault/occ/app/prod.env"))
    #expect((file[.posixPermissions] as? Int) == 0o600)
    try await h.run(["set", "prod", "app", "K"], stdin: "v2")
    #expect(try await h.run(["render", "prod"]).status == 0)
    let folder = try FileManager.default.attributesOfItem(atPath: h.path("vault/occ/app"))
    #expect((folder[.posixPermissions] as? Int) == 0o700)
    #expect(try FileManager.default.contentsOfDirectory(atPath: h.path("vault/occ/app")) == ["prod.env"])
  }

  @Test(arguments: Backend.allCases) func oneBadFileImportsNothingAndNamesThePosition(_ backend: Backend) async throws {
    let h = try await CLIHarness.withIdentityVault(backend)
    try write(
      h,
      [
        "vault/occ/aaa/prod.env": "GOOD=secret-canary-good\n",
        "vault/occ/bbb/prod.env": "# comment\nOK=1\nVALUE='unterminated-canary\n",
      ])
    let r = try await h.run(["import", "prod"])
    #expect(r.status == 2)
    #expect(r.stdout.isEmpty)
    #expect(r.stderr.contains("vault/occ/bbb/prod.env:3:7: unterminated single quote in value of VALUE"))
    #expect(!r.stderr.contains("canary"))
    #expect(try await h.run(["list"]).stdout == "no secrets\n")
  }

  @Test(arguments: Backend.allCases) func readableFilesAreWarnedAbout(_ backend: Backend) async throws {
    let h = try await CLIHarness.withIdentityVault(backend)
    try write(h, ["vault/occ/app/prod.env": "A=1\n"], mode: 0o644)
    let imported = try await h.run(["import", "prod"])
    #expect(imported.status == 0)
    #expect(imported.stderr.contains("warning: vault/occ/app/prod.env is readable by other users (mode 644)"))
    #expect(try await h.run(["status", "prod"]).stderr.contains("readable by other users"))
  }

  @Test(arguments: Backend.allCases) func renderRefusesAGitTrackedFolder(_ backend: Backend) async throws {
    let h = try await CLIHarness.withIdentityVault(backend)
    try await h.run(["set", "prod", "app", "K"], stdin: "v")
    #expect(try await h.runProcess("/usr/bin/env", ["git", "init", "-q", "."], stdin: nil, env: [:]).status == 0)
    let refused = try await h.run(["render", "prod"])
    #expect(refused.status == 2)
    #expect(refused.stderr.contains("refusing to write plaintext secrets into a git work tree"))
    #expect(refused.stderr.contains("add `*.env`"))
    #expect(!FileManager.default.fileExists(atPath: h.path("vault/occ/app/prod.env")))
    try write(h, ["vault/.gitignore": "*.env\n"])
    #expect(try await h.run(["render", "prod"]).status == 0)
    #expect(FileManager.default.fileExists(atPath: h.path("vault/occ/app/prod.env")))
  }

  @Test(arguments: Backend.allCases) func runPassesSecretsAndTheExitCode(_ backend: Backend) async throws {
    let h = try await CLIHarness.withIdentityVault(backend)
    try await h.run(["set", "prod", "openai", "OPENAI_KEY"], stdin: "sk-run")
    try await h.run(["set", "prod", "supabase", "SERVICE_KEY"], stdin: "multi\nline $HOME")
    let r = try await h.run([
      "run", "prod", "--", "/bin/sh", "-c", "printf '%s|%s' \"$OPENAI_KEY\" \"$SERVICE_KEY\"; exit 7",
    ])
    #expect(r.status == 7)
    #expect(r.stdout == "sk-run|multi\nline $HOME")
    let only = try await h.run([
      "run", "prod", "--service", "openai", "--", "/bin/sh", "-c", "printf '%s' \"${SERVICE_KEY-unset}\"",
    ])
    #expect(only.stdout == "unset")
    #expect(try await h.run(["run", "prod", "--", "no-such-command-xyz"]).status == 127)
    // The child never receives the means to unlock the vault.
    let env = try await h.run(["run", "prod", "--", "/usr/bin/env"], env: ["HOTSECRETS_PASSPHRASE": "master-pass"])
    #expect(!env.stdout.contains("HOTSECRETS_"))
    #expect(!env.stdout.contains("master-pass"))
    let unknown = try await h.run(["run", "prod", "--service", "nosuch", "--", "/bin/true"])
    #expect(unknown.status == 2)
    #expect(unknown.stderr.contains("no secrets match prod/nosuch/*"))
    #expect(try await h.run(["run", "prod"]).status == 64)

    try await h.run(["set", "prod", "other", "OPENAI_KEY"], stdin: "clash")
    let clash = try await h.run(["run", "prod", "--", "/bin/true"])
    #expect(clash.status == 2)
    #expect(clash.stderr.contains("OPENAI_KEY would be set by more than one secret (openai/OPENAI_KEY, other/OPENAI_KEY)"))
    // The run is audited by command name and key count only.
    let log = try await h.run(["audit", "log", "--format", "json"]).stdout
    #expect(log.contains("\"action\" : \"run\""))
    #expect(!log.contains("printf"))
  }

  @Test func killedImportLeavesAllOrNothing() async throws {
    let h = try await CLIHarness.withIdentityVault()
    var files: [String: String] = [:]
    for s in 0..<50 {
      files["vault/occ/svc\(s)/prod.env"] =
        (0..<200).map { "KEY_\($0)=value-\(s)-\($0)-xxxxxxxxxxxxxxxxxxxxxxxx" }.joined(separator: "\n") + "\n"
    }
    try write(h, files)
    // Kill once while the transaction is demonstrably writing (its pages are spilling into the
    // WAL file), and once at a fixed early moment.
    let wal = h.path("vault/hotsecrets.db-wal")
    for trigger in ["wal", "early"] {
      let child = try h.start(
        ["import", "prod"], environment: ["HOTSECRETS_IDENTITY": "ci.identity", "PATH": "/usr/bin:/bin"])
      // Watched and killed from a thread of its own: on the cooperative pool, other tests could delay the kill
      // until the import had finished.
      let killedMidWrite = await onDedicatedThread {
        if trigger == "wal" {
          let deadline = Date().addingTimeInterval(60)
          while Date() < deadline, child.isRunning {
            let size = (try? FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int) ?? 0
            if size > 256 * 1024 { break }
            usleep(2_000)
          }
        } else {
          usleep(200_000)
        }
        let running = child.isRunning
        child.signal(SIGKILL)
        return running
      }
      if trigger == "wal" { #expect(killedMidWrite, "the import finished before it could be killed mid-write") }
      _ = await child.output()
      let count = try await DatabaseQueue(path: h.path("vault/hotsecrets.db")).read { db in
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM secrets") ?? -1
      }
      #expect(count == 0, "killed (\(trigger)): \(count) secrets committed")
      #expect(try await h.run(["audit", "verify"]).status == 0)
    }
    let finished = try await h.run(["import", "prod"])
    #expect(finished.status == 0)
    #expect(try await h.run(["status", "prod"]).status == 0)
  }

  /// The issue's story: a value set in the vault is never reverted by `import`, an edit in a file is
  /// never overwritten by `render`, and each command says which side changed and what to run.
  @Test(arguments: Backend.allCases) func theMirrorKnowsWhichSideChanged(_ backend: Backend) async throws {
    let h = try await CLIHarness.withIdentityVault(backend)
    try write(h, ["vault/occ/openai/prod.env": "API_KEY_PROD=sk-old-canary\nORG=o\n"])
    #expect(try await h.run(["import", "prod"]).status == 0)
    #expect(FileManager.default.fileExists(atPath: h.path("vault/occ/.hotsecrets-base-prod.env")))
    try await h.run(["set", "prod", "openai", "API_KEY_PROD"], stdin: "sk-new-canary")

    let status = try await h.run(["status", "prod"])
    #expect(status.status == 1)
    #expect(status.stdout.contains("openai/API_KEY_PROD  vault changed (a new value in the vault)"))
    #expect(status.stdout.contains("run `hotsecrets render prod` to write the vault's changes into the files"))
    let statusJSON = try h.json(try await h.run(["status", "prod", "--format", "json"]))
    #expect(
      statusJSON["changed"] as? [[String: String]] == [["service": "openai", "key": "API_KEY_PROD", "side": "vault changed"]])

    // import refuses: exit 1, the key named, nothing written, no value anywhere.
    let refused = try await h.run(["import", "prod"])
    #expect(refused.status == 1)
    #expect(refused.stdout.isEmpty)
    #expect(refused.stderr.contains("hotsecrets: error: refusing to import prod"))
    #expect(refused.stderr.contains("openai/API_KEY_PROD  vault changed"))
    #expect(refused.stderr.contains("hotsecrets: hint: `hotsecrets render prod`"))
    let refusedJSON = try await h.run(["import", "prod", "--format", "json"])
    #expect(refusedJSON.status == 1)
    #expect(try h.json(refusedJSON)["refused"] as? Bool == true)
    let got = try await h.run(["get", "prod", "openai", "API_KEY_PROD"])
    #expect(got.stdout == "sk-new-canary")
    for r in [status, refused, refusedJSON] { #expect(!r.allOutput.contains("canary")) }

    // An edit in the file as well: both changed; render refuses too.
    try write(h, ["vault/occ/openai/prod.env": "API_KEY_PROD=sk-edited-canary\nORG=o\n"])
    let conflict = try await h.run(["status", "prod"])
    #expect(conflict.stdout.contains("both changed (different new values in the file and the vault)"))
    #expect(conflict.stdout.contains("conflict: keep the files' values with `hotsecrets import prod --take file`"))
    let renderRefused = try await h.run(["render", "prod"])
    #expect(renderRefused.status == 1)
    #expect(renderRefused.stderr.contains("refusing to render prod"))
    #expect(try String(contentsOfFile: h.path("vault/occ/openai/prod.env"), encoding: .utf8).contains("sk-edited-canary"))
    #expect(try await h.run(["render", "prod", "--take", "file"]).status == 64)
    #expect(try await h.run(["import", "prod", "--force", "--take", "vault"]).status == 64)

    // --force on render takes the vault's value; status is then in sync.
    #expect(try await h.run(["render", "prod", "--force"]).status == 0)
    #expect(try await h.run(["status", "prod"]).status == 0)
    #expect(try String(contentsOfFile: h.path("vault/occ/openai/prod.env"), encoding: .utf8).contains("sk-new-canary"))

    // A file edit alone: import takes it, as before.
    try write(h, ["vault/occ/openai/prod.env": "API_KEY_PROD=sk-file-canary\nORG=o\n"])
    #expect(try await h.run(["status", "prod"]).stdout.contains("file changed (a new value in the file)"))
    #expect(try await h.run(["render", "prod"]).status == 1)
    #expect(try await h.run(["import", "prod"]).status == 0)
    #expect(try await h.run(["get", "prod", "openai", "API_KEY_PROD"]).stdout == "sk-file-canary")

    // --take file stores the file's value over a vault change.
    try await h.run(["set", "prod", "openai", "ORG"], stdin: "vault-org")
    let taken = try await h.run(["import", "prod", "--take", "file"])
    #expect(taken.status == 0)
    #expect(taken.stdout.contains("1 changed"))
    #expect(try await h.run(["get", "prod", "openai", "ORG"]).stdout == "o")
  }

  @Test(arguments: Backend.allCases) func verifyNamesTheCommandForTheSideThatChanged(_ backend: Backend) async throws {
    let h = try await CLIHarness.withIdentityVault(backend)
    try h.writePolicy(
      """
      version: 1
      environment: prod
      services:
        openai:
          keys:
            API_KEY_PROD: {}
      """)
    try write(h, ["vault/occ/openai/prod.env": "API_KEY_PROD=sk-old\n"])
    #expect(try await h.run(["import", "prod"]).status == 0)
    #expect(try await h.run(["verify", "prod"]).status == 0)
    try await h.run(["set", "prod", "openai", "API_KEY_PROD"], stdin: "sk-new")
    let vaultSide = try await h.run(["verify", "prod"])
    #expect(vaultSide.status == 1)
    #expect(vaultSide.stdout.contains("the vault's value changed since the last import or render; run hotsecrets render prod"))
    try write(h, ["vault/occ/openai/prod.env": "API_KEY_PROD=sk-mine\n"])
    let both = try await h.run(["verify", "prod", "--format", "json"])
    let finding = (try h.json(both)["findings"] as? [[String: Any]])?.first
    #expect(finding?["check"] as? String == "drift")
    #expect((finding?["message"] as? String)?.contains("changed both in the file and in the vault") == true)
    #expect(try await h.run(["render", "prod", "--take", "vault"]).status == 0)
    try write(h, ["vault/occ/openai/prod.env": "API_KEY_PROD=sk-edit\n"])
    #expect(
      try await h.run(["verify", "prod"]).stdout.contains(
        "the file's value changed since the last import or render; run hotsecrets import prod"))
  }


  /// `run` names each variable as the deploy targets do (the policy's target_name), unless
  /// `--names vault`; two secrets setting one name stop it before the command starts.
  @Test(arguments: Backend.allCases) func runExportsThePolicysTargetNames(_ backend: Backend) async throws {
    let h = try await CLIHarness.withIdentityVault(backend)
    try await h.run(["set", "prod", "openai", "API_KEY_PROD"], stdin: "sk-openai")
    try await h.run(["set", "prod", "shopify", "API_KEY_PROD"], stdin: "shpat-shop")
    try await h.run(["set", "prod", "shopify", "SHOP"], stdin: "hot.myshopify.com")
    let script = "printf '%s|%s|%s|%s' \"${OPENAI_API_KEY-unset}\" \"${SHOPIFY_TOKEN-unset}\" \"${SHOP-unset}\" \"${API_KEY_PROD-unset}\""
    // Without a policy the vault's names clash.
    let clash = try await h.run(["run", "prod", "--", "/bin/sh", "-c", script])
    #expect(clash.status == 2)
    #expect(clash.stderr.contains("API_KEY_PROD would be set by more than one secret"))
    try h.writePolicy(
      """
      version: 1
      environment: prod
      services:
        openai:
          keys:
            API_KEY_PROD: {target_name: OPENAI_API_KEY}
        shopify:
          keys:
            API_KEY_PROD: {target_name: SHOPIFY_TOKEN}
            SHOP: {}
      """)
    let named = try await h.run(["run", "prod", "--", "/bin/sh", "-c", script])
    #expect(named.status == 0, "\(named.stderr)")
    #expect(named.stdout == "sk-openai|shpat-shop|hot.myshopify.com|unset")
    // --names vault keeps the vault's names (and --service avoids their clash).
    let vaultNames = try await h.run(["run", "prod", "--names", "vault", "--service", "openai", "--", "/bin/sh", "-c", script])
    #expect(vaultNames.stdout == "unset|unset|unset|sk-openai")
    // Two keys mapped onto one name: an error, and the command never starts.
    try h.writePolicy(
      """
      version: 1
      environment: prod
      services:
        openai:
          keys:
            API_KEY_PROD: {target_name: SHOP}
        shopify:
          keys:
            SHOP: {}
      """)
    let mapped = try await h.run(["run", "prod", "--", "/bin/sh", "-c", "echo started"])
    #expect(mapped.status == 2)
    #expect(mapped.stderr.contains("SHOP would be set by more than one secret (openai/API_KEY_PROD, shopify/SHOP)"))
    #expect(mapped.stdout.isEmpty)
  }

}
