import Foundation
import Testing

@testable import HotSecretsCLI
@testable import HotSecretsModel

@Suite struct ScheduleTemplatesTests {
  static let commit = "0123456789abcdef0123456789abcdef01234567"

  static func workflow(_ environment: String = "prod", githubEnvironment: String = "production") throws -> String {
    try RotationSchedule.githubActions(
      environment: environment,
      options: GitHubActionsScheduleOptions(
        githubEnvironment: githubEnvironment, hotsecretsVersion: "0.1.0", hotsecretsCommit: commit)
    ).content
  }

  /// The lines of the step whose `- name:` or `- uses:` line contains `marker`, up to the next step.
  static func step(_ marker: String, in text: String) -> [String] {
    let lines = text.components(separatedBy: "\n")
    guard let start = lines.firstIndex(where: { $0.hasPrefix("      - ") && $0.contains(marker) }) else { return [] }
    var block = [lines[start]]
    for line in lines[(start + 1)...] {
      if line.hasPrefix("      - ") || line.hasPrefix("      # ") || (!line.isEmpty && !line.hasPrefix("        ")) {
        break
      }
      block.append(line)
    }
    return block
  }

  @Test func workflowRunsQuarterlyAndOnDemand() throws {
    let text = try Self.workflow()
    #expect(text.contains("on:\n  schedule:\n"))
    #expect(text.contains("    - cron: '17 6 1 1,4,7,10 *'\n"))
    #expect(text.contains("  workflow_dispatch:\n"))
    #expect(text.contains("concurrency:\n  group: hotsecrets-rotate-prod\n  cancel-in-progress: false\n"))
    #expect(text.contains("name: hotsecrets-rotate-prod\n"))
  }

  @Test func workflowJobUsesTheGitHubEnvironmentAndMinimalPermissions() throws {
    let text = try Self.workflow(githubEnvironment: "prod-secrets")
    #expect(text.contains("    environment: prod-secrets\n"))
    #expect(text.contains("    permissions:\n      contents: write"))
    // No other permission is granted.
    let permissions = text.components(separatedBy: "\n").filter { $0.hasPrefix("      ") && $0.contains(": write") }
    #expect(permissions.count == 1)
    #expect(try Self.workflow().contains("    environment: production\n"))
  }

  @Test func workflowRotatesAndPropagatesTheExitStatus() throws {
    let text = try Self.workflow()
    let rotate = Self.step("Rotate", in: text).joined(separator: "\n")
    #expect(rotate.contains("id: rotate"))
    #expect(rotate.contains("hotsecrets rotate prod --due --deploy rolling --format json > rotation-report.json"))
    #expect(rotate.contains("set +e"))
    #expect(rotate.contains("status=$?"))
    #expect(rotate.contains("exit $status"))
    for (variable, secret) in [
      ("FLY_API_TOKEN", "FLY_API_TOKEN"), ("GITHUB_TOKEN", "HOTSECRETS_GITHUB_TOKEN"),
      ("OPENAI_ADMIN_KEY", "OPENAI_ADMIN_KEY"), ("SUPABASE_ACCESS_TOKEN", "SUPABASE_ACCESS_TOKEN"),
    ] {
      #expect(rotate.contains("\(variable): ${{ secrets.\(secret) }}"))
    }
  }

  @Test func workflowKeepsTheReportAndCommitsOnlyTheVault() throws {
    let text = try Self.workflow()
    let upload = Self.step("Keep the report", in: text)
    #expect(upload.contains("        if: always()"))
    #expect(upload.contains("        uses: actions/upload-artifact@v4"))
    #expect(upload.contains("          path: |"))
    #expect(upload.contains("            rotation-report.json"))
    #expect(upload.contains("            finish-report.json"))
    // --finish runs first, and what still waits does not stop the rotation.
    let rotate = Self.step("Rotate — hotsecrets rotate prod --due --deploy rolling", in: text).joined(separator: "\n")
    #expect(rotate.contains("hotsecrets rotate prod --finish --format json > finish-report.json \\\n"))
    #expect(rotate.contains("|| echo \"::warning title=hotsecrets rotate prod --finish::"))
    let commit = Self.step("Commit the updated vault", in: text).joined(separator: "\n")
    #expect(commit.contains("git add vault/hotsecrets.db"))
    #expect(commit.contains("git add vault/audit-checkpoints.log"))
    #expect(commit.contains("git push"))
    #expect(!commit.contains("git add -A") && !commit.contains("git add ."))
    // The report, the identity and the hotsecrets checkout are never added.
    #expect(!commit.contains("rotation-report.json") && !commit.contains("identity"))
    // Steps run in this order.
    let order = ["Install hotsecrets", "Write the CI identity", "Rotate", "Keep the report", "Commit", "Summary"]
    let positions = order.map { text.range(of: "- name: \($0)")?.lowerBound }
    #expect(positions.allSatisfy { $0 != nil })
    #expect(positions.compactMap { $0 } == positions.compactMap { $0 }.sorted())
  }

  @Test func workflowWritesTheIdentityPrivately() throws {
    let identity = Self.step("Write the CI identity", in: try Self.workflow()).joined(separator: "\n")
    #expect(identity.contains("IDENTITY: ${{ secrets.HOTSECRETS_IDENTITY }}"))
    #expect(identity.contains("umask 077"))
    #expect(identity.contains("HOTSECRETS_IDENTITY=$RUNNER_TEMP/ci.identity"))
    #expect(Self.step("Remove the identity", in: try Self.workflow()).contains("        if: always()"))
  }

  @Test func workflowIsPlainYAML() throws {
    let text = try Self.workflow()
    #expect(!text.contains("\t"))
    #expect(text.hasSuffix("\n") && !text.hasSuffix("\n\n"))
    for line in text.components(separatedBy: "\n") where !line.isEmpty {
      let indent = line.prefix { $0 == " " }.count
      #expect(indent % 2 == 0, "odd indentation: \(line)")
      #expect(!line.hasSuffix(" "), "trailing space: \(line)")
    }
    let topLevel = text.components(separatedBy: "\n").filter { !$0.isEmpty && !$0.hasPrefix(" ") && !$0.hasPrefix("#") }
    #expect(topLevel == ["name: hotsecrets-rotate-prod", "on:", "concurrency:", "jobs:"])
  }

  @Test func workflowRejectsBadNames() {
    #expect(throws: VaultError.self) { try Self.workflow("Prod") }
    #expect(throws: VaultError.self) { try Self.workflow("prod; rm -rf /") }
    #expect(throws: ScheduleError.invalidGitHubEnvironment("prod env")) {
      try Self.workflow(githubEnvironment: "prod env")
    }
    #expect(throws: ScheduleError.self) { try Self.workflow(githubEnvironment: "") }
    #expect(throws: ScheduleError.self) { try Self.workflow(githubEnvironment: "x\ny") }
    #expect(throws: ScheduleError.self) {
      try RotationSchedule.githubActions(
        environment: "prod",
        options: .init(githubEnvironment: "production", hotsecretsVersion: "1.0 && x", hotsecretsCommit: Self.commit))
    }
    for commit in ["v0.1.0", "0123456", Self.commit + "0", "g123456789abcdef0123456789abcdef01234567", "main; rm -rf /"] {
      #expect(throws: ScheduleError.invalidCommit(commit)) {
        try RotationSchedule.githubActions(
          environment: "prod",
          options: .init(githubEnvironment: "production", hotsecretsVersion: "0.1.0", hotsecretsCommit: commit))
      }
    }
  }

  /// hotsecrets is fetched by commit, built with the README's Swift, and cached under that commit.
  @Test func theWorkflowPinsHotsecretsByCommit() throws {
    let text = try Self.workflow()
    #expect(text.contains("git -C .hotsecrets fetch -q --depth 1 https://github.com/hotrodan/hotsecrets \(Self.commit)\n"))
    #expect(text.contains("git -C .hotsecrets checkout -q FETCH_HEAD\n"))
    #expect(text.contains("key: hotsecrets-${{ runner.os }}-swift6.3-\(Self.commit)\n"))
    #expect(text.contains("swift-version: \"6.3\"\n"))
    #expect(!text.contains("--branch"))
    #expect(text.contains("libcurl4-openssl-dev libyaml-dev"))
    let readme = try String(contentsOfFile: #filePath.replacingOccurrences(
      of: "Tests/HotSecretsCLITests/ScheduleTemplatesTests.swift", with: "README.md"), encoding: .utf8)
    #expect(readme.contains("Swift \(RotationSchedule.swiftVersion)"))
    // The pre-deploy recipe follows the same rules.
    let recipe = try String(contentsOfFile: #filePath.replacingOccurrences(
      of: "Tests/HotSecretsCLITests/ScheduleTemplatesTests.swift", with: "docs/ci/predeploy.yml"), encoding: .utf8)
    #expect(recipe.contains("swift-version: \"\(RotationSchedule.swiftVersion)\""))
    #expect(recipe.range(of: #"HOTSECRETS_COMMIT: [0-9a-f]{40}\n"#, options: .regularExpression) != nil)
    #expect(recipe.contains("key: hotsecrets-${{ runner.os }}-swift\(RotationSchedule.swiftVersion)-${{ env.HOTSECRETS_COMMIT }}"))
    #expect(!recipe.contains("--branch"))
    #expect(recipe.contains(RotationSchedule.aptPackages))
  }

  @Test func systemdUnits() throws {
    let units = try RotationSchedule.systemd(environment: "staging", options: .init(root: "/srv/app/"))
    #expect(units.service.name == "hotsecrets-rotate-staging.service")
    #expect(units.timer.name == "hotsecrets-rotate-staging.timer")
    let service = units.service.content.components(separatedBy: "\n")
    for line in [
      "Type=oneshot", "WorkingDirectory=/srv/app", "EnvironmentFile=/etc/hotsecrets/staging.env",
      "ExecStartPre=-/usr/local/bin/hotsecrets rotate staging --finish",
      "ExecStart=/usr/local/bin/hotsecrets rotate staging --due --deploy rolling --format json",
      "NoNewPrivileges=yes", "PrivateTmp=yes", "ProtectSystem=strict", "ReadWritePaths=/srv/app",
      "StandardOutput=truncate:/srv/app/rotation-report.json",
    ] {
      #expect(service.contains(line), "missing \(line)")
    }
    let timer = units.timer.content.components(separatedBy: "\n")
    for line in [
      "OnCalendar=*-01,04,07,10-01 06:17:00", "Persistent=true", "RandomizedDelaySec=15m", "WantedBy=timers.target",
    ] {
      #expect(timer.contains(line), "missing \(line)")
    }
  }

  @Test func systemdDefaultsAndBadPaths() throws {
    let units = try RotationSchedule.systemd(environment: "prod")
    #expect(units.service.content.contains("\nWorkingDirectory=/srv/hotsecrets\n"))
    for root in ["srv/hotsecrets", "/", "/srv/hot secrets", "/srv/%i", "/srv/a\nExecStart=/bin/sh", "/srv/../etc"] {
      #expect(throws: ScheduleError.self, "\(root)") {
        try RotationSchedule.systemd(environment: "prod", options: .init(root: root))
      }
    }
    #expect(throws: VaultError.self) { try RotationSchedule.systemd(environment: "../prod") }
  }

  /// With the vault on PostgreSQL the workflow takes the URI from a secret and commits no vault file.
  @Test func aPostgresVaultWorkflowCommitsOnlyTheCheckpoints() throws {
    let file = try RotationSchedule.githubActions(
      environment: "prod", options: .init(hotsecretsVersion: "1.0.0", hotsecretsCommit: Self.commit, postgres: true))
    let text = file.content
    #expect(text.contains("HOTSECRETS_VAULT: ${{ secrets.HOTSECRETS_VAULT }}"))
    #expect(text.contains("#   HOTSECRETS_VAULT         postgresql:// URI of the vault"))
    #expect(text.contains("git add vault/audit-checkpoints.log"))
    #expect(!text.contains("git add vault/hotsecrets.db"))
    #expect(!text.contains("vault-prod-not-pushed"))
    #expect(text.contains("libpq-dev"))
    // The file workflow is as it was.
    let plain = try RotationSchedule.githubActions(
      environment: "prod", options: .init(hotsecretsVersion: "1.0.0", hotsecretsCommit: Self.commit))
    #expect(plain.content.contains("git add vault/hotsecrets.db"))
    #expect(!plain.content.contains("secrets.HOTSECRETS_VAULT"))
  }

}
