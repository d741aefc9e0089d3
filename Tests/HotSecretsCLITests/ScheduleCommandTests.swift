import Foundation
import Testing

/// `hotsecrets schedule`: the printed workflow and units, --out, and usage errors.
@Suite(.endToEnd) struct ScheduleCommandTests {
  @Test func githubActionsWorkflow() async throws {
    let h = try CLIHarness()
    let r = try await h.run(["schedule", "prod", "--github-actions"])
    #expect(r.status == 0)
    #expect(r.stderr.isEmpty)
    let text = r.stdout
    #expect(text.contains("    - cron: '17 6 1 1,4,7,10 *'\n"))
    #expect(text.contains("  workflow_dispatch:\n"))
    #expect(text.contains("hotsecrets rotate prod --due --deploy rolling --format json > rotation-report.json"))
    #expect(text.contains("    environment: production\n"))
    #expect(text.contains("  group: hotsecrets-rotate-prod\n  cancel-in-progress: false\n"))
    // The rotate step keeps its exit status and fails with it.
    let rotate = Self.block(after: "- name: Rotate", in: text)
    #expect(rotate.contains("set +e"))
    #expect(rotate.contains("status=$?"))
    #expect(rotate.contains("exit $status"))
    // The report is uploaded whatever happened.
    let upload = Self.block(after: "- name: Keep the report", in: text)
    #expect(upload.contains("if: always()"))
    #expect(upload.contains("uses: actions/upload-artifact@v4"))
    #expect(upload.contains("rotation-report.json"))
    #expect(upload.contains("finish-report.json"))
    #expect(text.contains(#">> "$GITHUB_STEP_SUMMARY""#))
    // Printing a schedule never opens the vault.
    #expect(!FileManager.default.fileExists(atPath: h.path("vault")))
  }

  @Test func githubEnvironmentOption() async throws {
    let h = try CLIHarness()
    let r = try await h.run(["schedule", "staging", "--github-actions", "--github-environment", "staging-secrets"])
    #expect(r.status == 0)
    #expect(r.stdout.contains("    environment: staging-secrets\n"))
    #expect(r.stdout.contains("hotsecrets rotate staging --due --deploy rolling"))
    let bad = try await h.run(["schedule", "prod", "--github-actions", "--github-environment", "a b"])
    #expect(bad.status == 2)
    #expect(bad.stdout.isEmpty)
    #expect(bad.stderr.contains("invalid GitHub environment name"))
  }

  /// When python3 with PyYAML is on this machine, the workflow must parse to the expected shape.
  @Test(arguments: [false, true]) func workflowParsesAsYAML(postgres: Bool) async throws {
    let h = try CLIHarness()
    let r = try await h.run(["schedule", "prod", "--github-actions", "--out", "wf"] + (postgres ? ["--postgres"] : []))
    try #require(r.status == 0)
    let script = """
      import sys, yaml
      d = yaml.safe_load(open(sys.argv[1]))
      on = d.get("on", d.get(True))
      assert on["schedule"] == [{"cron": "17 6 1 1,4,7,10 *"}], on
      assert "workflow_dispatch" in on
      assert d["concurrency"] == {"group": "hotsecrets-rotate-prod", "cancel-in-progress": False}
      job = d["jobs"]["rotate"]
      assert job["environment"] == "production" and job["permissions"] == {"contents": "write"}
      steps = {s.get("name", s.get("uses")): s for s in job["steps"]}
      assert steps["Keep the report"]["if"] == "always()"
      assert steps["Keep the report"]["uses"] == "actions/upload-artifact@v4"
      rotate = [s for s in job["steps"] if s.get("id") == "rotate"][0]
      assert "exit $status" in rotate["run"]
      assert ("HOTSECRETS_VAULT" in rotate["env"]) == (sys.argv[2] == "true"), rotate["env"]
      print("ok")
      """
    let python = try? await h.runProcess(
      "/usr/bin/env", ["python3", "-c", script, h.path("wf/hotsecrets-rotate-prod.yml"), String(postgres)], stdin: nil,
      env: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"])
    guard let python, !python.stderr.contains("No module named"), !python.stderr.contains("No such file") else {
      return  // no python3 or no PyYAML here: the plain assertions above and in ScheduleTemplatesTests stand
    }
    #expect(python.status == 0, "\(python.stderr)")
    #expect(python.stdout == "ok\n")
  }

  @Test func systemdUnits() async throws {
    let h = try CLIHarness()
    let r = try await h.run(["schedule", "prod", "--systemd"])
    #expect(r.status == 0)
    #expect(r.stderr.isEmpty)
    let lines = r.stdout.components(separatedBy: "\n")
    #expect(lines.first == "# FILE: hotsecrets-rotate-prod.service")
    #expect(
      lines.filter { $0.hasPrefix("# FILE: ") } == [
        "# FILE: hotsecrets-rotate-prod.service", "# FILE: hotsecrets-rotate-prod.timer",
      ])
    #expect(lines.contains("OnCalendar=*-01,04,07,10-01 06:17:00"))
    #expect(lines.contains("WorkingDirectory=/srv/hotsecrets"))
    #expect(lines.contains("EnvironmentFile=/etc/hotsecrets/prod.env"))
    #expect(lines.contains("ExecStart=/usr/local/bin/hotsecrets rotate prod --due --deploy rolling --format json"))
    #expect(lines.contains("Type=oneshot"))
    #expect(lines.contains("Persistent=true"))

    let rooted = try await h.run(["schedule", "prod", "--systemd", "--root", "/opt/dash"])
    #expect(rooted.status == 0)
    #expect(rooted.stdout.contains("\nWorkingDirectory=/opt/dash\n"))
    #expect(rooted.stdout.contains("\nReadWritePaths=/opt/dash\n"))
    let relative = try await h.run(["schedule", "prod", "--systemd", "--root", "srv"])
    #expect(relative.status == 2)
    #expect(relative.stderr.contains("absolute path"))
  }

  @Test func outWritesFilesAndRefusesToOverwrite() async throws {
    let h = try CLIHarness()
    let r = try await h.run(["schedule", "prod", "--systemd", "--out", "units"])
    #expect(r.status == 0)
    #expect(r.stdout == "units/hotsecrets-rotate-prod.service\nunits/hotsecrets-rotate-prod.timer\n")
    let service = try String(contentsOfFile: h.path("units/hotsecrets-rotate-prod.service"), encoding: .utf8)
    let timer = try String(contentsOfFile: h.path("units/hotsecrets-rotate-prod.timer"), encoding: .utf8)
    #expect(service.contains("\n[Service]\nType=oneshot\n"))
    #expect(!service.contains("# FILE:"))
    #expect(timer.contains("\nOnCalendar=*-01,04,07,10-01 06:17:00\n"))
    let printed = try await h.run(["schedule", "prod", "--systemd"]).stdout
    #expect(
      printed == "# FILE: hotsecrets-rotate-prod.service\n\(service)\n# FILE: hotsecrets-rotate-prod.timer\n\(timer)")

    // The timer alone exists: nothing is written, the service is not touched either.
    try FileManager.default.removeItem(atPath: h.path("units/hotsecrets-rotate-prod.service"))
    try "mine\n".write(toFile: h.path("units/hotsecrets-rotate-prod.timer"), atomically: true, encoding: .utf8)
    let again = try await h.run(["schedule", "prod", "--systemd", "--out", "units"])
    #expect(again.status == 2)
    #expect(again.stdout.isEmpty)
    #expect(again.stderr.contains("hotsecrets-rotate-prod.timer: already exists; refusing to overwrite it"))
    #expect(!FileManager.default.fileExists(atPath: h.path("units/hotsecrets-rotate-prod.service")))
    #expect(try String(contentsOfFile: h.path("units/hotsecrets-rotate-prod.timer"), encoding: .utf8) == "mine\n")

    let forced = try await h.run(["schedule", "prod", "--systemd", "--out", "units", "--force"])
    #expect(forced.status == 0)
    #expect(try String(contentsOfFile: h.path("units/hotsecrets-rotate-prod.timer"), encoding: .utf8) == timer)

    let workflow = try await h.run(["schedule", "prod", "--github-actions", "--out", ".github/workflows"])
    #expect(workflow.status == 0)
    #expect(workflow.stdout == ".github/workflows/hotsecrets-rotate-prod.yml\n")
    let written = try String(contentsOfFile: h.path(".github/workflows/hotsecrets-rotate-prod.yml"), encoding: .utf8)
    #expect(written == (try await h.run(["schedule", "prod", "--github-actions"]).stdout))
    #expect(try await h.run(["schedule", "prod", "--github-actions", "--out", ".github/workflows"]).status == 2)
  }

  @Test func usageErrors() async throws {
    let h = try CLIHarness()
    for arguments in [
      ["schedule", "prod"],
      ["schedule", "prod", "--github-actions", "--systemd"],
      ["schedule", "prod", "--github-actions", "--root", "/srv/x"],
      ["schedule", "prod", "--systemd", "--github-environment", "production"],
      ["schedule", "prod", "--systemd", "--force"],
      ["schedule", "--systemd"],
    ] {
      let r = try await h.run(arguments)
      #expect(r.status == 64, "\(arguments)")
      #expect(r.stdout.isEmpty, "\(arguments)")
    }
    #expect(try await h.run(["schedule", "prod"]).stderr.contains("exactly one of --github-actions and --systemd"))
  }

  @Test func badEnvironment() async throws {
    let h = try CLIHarness()
    for flag in ["--github-actions", "--systemd"] {
      let r = try await h.run(["schedule", "Prod!", flag])
      #expect(r.status == 2)
      #expect(r.stdout.isEmpty)
      #expect(r.stderr.contains("invalid environment name \"Prod!\""))
    }
  }

  @Test func helpDocumentsExitCodes() async throws {
    let h = try CLIHarness()
    let r = try await h.run(["schedule", "--help"])
    #expect(r.status == 0)
    let help = r.stdout.replacingOccurrences(of: "\n", with: " ").split(separator: " ").joined(separator: " ")
    #expect(help.contains("Exit codes: 0"))
    #expect(help.contains("64 usage error"))
    #expect(help.contains("--github-environment"))
  }

  /// The lines of `text` from the one containing `marker` to the next step (`- ` at the same indent).
  static func block(after marker: String, in text: String) -> String {
    let lines = text.components(separatedBy: "\n")
    guard let start = lines.firstIndex(where: { $0.contains(marker) }) else { return "" }
    let indent = lines[start].prefix { $0 == " " }.count
    var block = [lines[start]]
    for line in lines[(start + 1)...] {
      let lineIndent = line.prefix { $0 == " " }.count
      if !line.isEmpty && lineIndent <= indent { break }
      block.append(line)
    }
    return block.joined(separator: "\n")
  }

  /// `--drill`: the monthly restore drill, as a workflow (parsed when PyYAML is here) and as units.
  @Test(arguments: [false, true]) func theMonthlyDrill(postgres: Bool) async throws {
    let h = try CLIHarness()
    let r = try await h.run(["schedule", "prod", "--github-actions", "--drill", "--out", "wf"] + (postgres ? ["--postgres"] : []))
    #expect(r.status == 0, "\(r.allOutput)")
    #expect(r.stdout.trimmingCharacters(in: .newlines) == h.path("wf/hotsecrets-drill-prod.yml").replacingOccurrences(of: h.directory + "/", with: ""))
    let text = try String(contentsOfFile: h.path("wf/hotsecrets-drill-prod.yml"), encoding: .utf8)
    #expect(text.contains("    - cron: '43 5 1 * *'\n"))
    #expect(text.contains("hotsecrets drill --env prod --format json > drill-report.json"))
    #expect(text.contains("Commit the drill's audit entry") == !postgres)
    #expect(text.contains("HOTSECRETS_VAULT: ${{ secrets.HOTSECRETS_VAULT }}") == postgres)
    let script = """
      import sys, yaml
      d = yaml.safe_load(open(sys.argv[1]))
      on = d.get("on", d.get(True))
      assert on["schedule"] == [{"cron": "43 5 1 * *"}], on
      job = d["jobs"]["drill"]
      assert job["permissions"] == {"contents": "write"}
      drill = [s for s in job["steps"] if s.get("id") == "drill"][0]
      assert "exit $status" in drill["run"]
      print("ok")
      """
    let python = try? await h.runProcess(
      "/usr/bin/env", ["python3", "-c", script, h.path("wf/hotsecrets-drill-prod.yml")], stdin: nil,
      env: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"])
    if let python, !python.stderr.contains("No module named"), !python.stderr.contains("No such file") {
      #expect(python.stdout == "ok\n", "\(python.stderr)")
    }
    let units = try await h.run(["schedule", "prod", "--systemd", "--drill"])
    #expect(units.status == 0)
    let lines = units.stdout.components(separatedBy: "\n")
    #expect(lines.filter { $0.hasPrefix("# FILE: ") } == ["# FILE: hotsecrets-drill-prod.service", "# FILE: hotsecrets-drill-prod.timer"])
    #expect(lines.contains("ExecStart=/usr/local/bin/hotsecrets drill --env prod --format json"))
    #expect(lines.contains("OnCalendar=*-*-01 05:43:00"))
    #expect(lines.contains("ProtectSystem=strict"))
  }
}
