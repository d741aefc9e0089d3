import ArgumentParser
import Foundation
import HotSecretsCore
import Integrations

extension HotSecrets {
  /// Checks an environment's secrets against its policy; the pre-deploy gate.
  struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "verify",
      abstract: "Check ENV's secrets against policies/ENV.yaml: the pre-deploy gate.",
      discussion: """
        Checks every key the policy declares: missing, empty, placeholder, format, age (error \
        past max age, warning within 14 days of it), drift against the mirror files when \
        DIR exists, and with --live whether each provider accepts the credential. With \
        --targets, each Fly app and GitHub environment of the policy is asked what it holds: \
        target-missing (a key is absent), target-drift (Fly's digest differs from the current \
        value's MD5; GitHub's secret is not the version hotsecrets last pushed, or was changed \
        there since), target-stale (a machine of a `deploy: rolling` Fly target runs an older \
        secrets version); tokens as for `sync` (reading one from the vault is an audited read). \
        Keys in the vault that the policy does not declare get a warning. No secret is changed; \
        no value is ever printed.

        Exit codes: 0 no check failed (warnings fail only with --strict); 1 a check failed; \
        2 verification could not run (no vault, cannot unlock, bad policy); 64 usage error.
        """
    ).parsedDirectly()

    @OptionGroup var vault: VaultOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var policyOptions: PolicyOptions
    @Argument(help: "Environment, e.g. prod.") var environment: String
    @Option(
      help: ArgumentHelp("Mirror folder checked for drift when it exists (default: ROOT/vault/occ).", valueName: "dir"))
    var from: String?
    @Flag(help: "Also ask each provider whether the credential works (network).") var live = false
    @Flag(help: "Also check the policy's Fly apps and GitHub environments hold the current values (network).")
    var targets = false
    @Flag(help: "Warnings fail too.") var strict = false
    @Option(
      help: ArgumentHelp("Measure ages at this date (YYYY-MM-DD or ISO 8601), e.g. the next deploy.", valueName: "date")
    )
    var asOf: String?
    @Option(help: "Seconds each --live probe or --targets request may take.") var timeout: Double = 10

    func run() async throws {
      try SecretAddress.validateEnvironment(environment)
      let date = try asOf.map { try DateArgument.parse($0) } ?? Date()
      // The vault is opened, unlocked and read while the policy is parsed on another core.
      let (parsed, (session, current)) = try await policyOptions.load(
        environment: environment, root: vault.root, concurrently: vault.unlocksWithoutPrompt
      ) {
        let session = try vault.unlock()
        return (session, try session.currentVersions(environment: environment))
      }
      let probe = ProviderProbe(
        endpoints: .init(openAI: try ProviderClients.openAIBase(checked: live)),
        timeout: timeout)
      var report = try await PolicyCheck(
        session: session, policy: parsed, probe: live ? probe : nil,
        options: .init(live: live, mirrorDirectory: MirrorFolder.resolve(from, root: vault.root), asOf: date),
        current: current
      ).run()
      if targets {
        let clients = try TargetClients.make(
          policy: parsed, kinds: Set(SyncTargetKind.allCases), session: session, timeout: timeout)
        try await TargetCheck(session: session, policy: parsed, fly: clients.fly, github: clients.github)
          .run(into: &report)
      }
      try output.write(VerifyOutput.json(report, policy: parsed, strict: strict)) {
        VerifyOutput.text(report, policy: parsed)
      }
      if !report.passed(strict: strict) { throw ExitCode(ExitStatus.checkFailed) }
    }
  }
}

/// Dates given on the command line.
enum DateArgument {
  /// `YYYY-MM-DD` (midnight UTC, or with `endOfDay` the day's last second) or `YYYY-MM-DDTHH:MM:SSZ`.
  static func parse(_ text: String, endOfDay: Bool = false) throws -> Date {
    // Round-tripped, so that impossible dates (2026-02-30) are refused rather than normalised.
    if let date = Timestamp.date(from: text), Timestamp.string(from: date) == text { return date }
    if let date = Timestamp.date(from: text + "T00:00:00Z"), Timestamp.string(from: date) == text + "T00:00:00Z" {
      return endOfDay ? date + 86_399 : date
    }
    throw ValidationError("invalid date '\(text)': use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ")
  }
}

/// Formatting of `verify` results.
enum VerifyOutput {
  static func json(_ report: VerifyReport, policy: Policy, strict: Bool) -> VerifyReportJSON {
    VerifyReportJSON(report, policy: policy, strict: strict)
  }

  /// One block per service, one line per key: `ok`, `FAIL` or `warn`, then each finding. The
  /// policy's services and keys come first, in its order; keys only findings name (undeclared)
  /// follow in the order found.
  static func text(_ report: VerifyReport, policy: Policy) -> String {
    var blocks = policy.services.map { (service: $0.name, keys: $0.keys.map(\.name)) }
    var blockIndex = Dictionary(blocks.enumerated().map { ($1.service, $0) }, uniquingKeysWith: { first, _ in first })
    var listed = Set(policy.services.flatMap { service in service.keys.map { ServiceKey(service: service.name, key: $0.name) } })
    var byKey: [ServiceKey: [Finding]] = [:]
    for finding in report.findings {
      let name = ServiceKey(service: finding.service, key: finding.key)
      byKey[name, default: []].append(finding)
      guard listed.insert(name).inserted else { continue }
      if let index = blockIndex[finding.service] {
        blocks[index].keys.append(finding.key)
      } else {
        blockIndex[finding.service] = blocks.count
        blocks.append((finding.service, [finding.key]))
      }
    }
    let width = max(12, blocks.lazy.flatMap(\.keys).map(\.count).max() ?? 12)
    var lines: [String] = []
    lines.reserveCapacity(listed.count + blocks.count + 1)
    for (service, keys) in blocks {
      lines.append(service)
      for key in keys {
        guard let findings = byKey[ServiceKey(service: service, key: key)] else {
          lines.append("  ok    \(key)")
          continue
        }
        for (i, finding) in findings.enumerated() {
          let mark = finding.severity == .error ? "FAIL" : "warn"
          let name = i == 0 ? pad(key, width) : pad("", width)
          lines.append("  \(mark)  \(name)  \(pad(finding.check.rawValue, 12))\(finding.message)")
        }
      }
    }
    let warnings = report.warnings == 1 ? "1 warning" : "\(report.warnings) warnings"
    lines.append("verify \(report.environment): \(report.passedChecks) passed, \(report.errors) failed, \(warnings)")
    return lines.joined(separator: "\n")
  }

  /// `text` followed by spaces up to `width` characters.
  private static func pad(_ text: String, _ width: Int) -> String {
    text + String(repeating: " ", count: max(0, width - text.count))
  }
}
