import ArgumentParser
import Foundation
import HotSecretsModel
import HotSecretsOperations
import HotSecretsVault
import Integrations
import RemoteAPIs

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
    @Argument(help: "Environment, e.g. prod.", completion: Completions.environment) var environment: String
    @Option(
      help: ArgumentHelp("Mirror folder checked for drift when it exists (default: ROOT/vault/occ).", valueName: "dir"), completion: .directory)
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
      try output.print(try await report())
    }

    /// The gate's result. `session` is the vault already unlocked (`hotsecrets mcp`); without it the
    /// vault is opened and unlocked here.
    func report(session unlocked: VaultSession? = nil) async throws -> CommandReport {
      try SecretAddress.validateEnvironment(environment)
      let date = try asOf.map { try DateArgument.parse($0) } ?? Date()
      // The vault is opened, unlocked and read while the policy is parsed on another core.
      let (parsed, (session, current)) = try await policyOptions.load(
        environment: environment, root: vault.root, concurrently: unlocked != nil || vault.unlocksWithoutPrompt
      ) {
        let session = try unlocked ?? vault.unlock()
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
      let passed = report.passed(strict: strict)
      return CommandReport(
        VerifyOutput.json(report, policy: parsed, strict: strict), summary: VerifyOutput.summary(report, passed: passed),
        exitStatus: passed ? ExitStatus.success : ExitStatus.checkFailed
      ) { [report] in VerifyOutput.text(report, policy: parsed) }
    }
  }
}
