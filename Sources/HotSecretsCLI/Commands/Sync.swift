import ArgumentParser
import Foundation
import HotSecretsCompliance
import HotSecretsModel
import HotSecretsOperations
import HotSecretsVault

/// Which targets `sync` pushes to.
enum TargetSelection: String, ExpressibleByArgument, CaseIterable {
  case fly, github, all

  var kinds: Set<SyncTargetKind> {
    switch self {
    case .fly: [.fly]
    case .github: [.github]
    case .all: Set(SyncTargetKind.allCases)
    }
  }
}

extension FlyDeployMode: ExpressibleByArgument {}

extension HotSecrets {
  /// Pushes an environment's secrets to its Fly apps and GitHub Actions environments.
  struct Sync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "sync",
      abstract: "Push ENV's secrets to the policy's Fly apps and GitHub Actions environments.",
      discussion: """
        Every key the vault holds for a target's services is sent, under the policy's target_name \
        or its KEY. Fly: the app's secrets are listed (names and MD5 digests) and only what \
        differs goes out, in one bulk update per app. --deploy stage (default, or the target's \
        `deploy` in the policy) leaves the machines to load the secrets at the next deploy; \
        --deploy rolling restarts them one at a time with the new secrets version, waiting for \
        each to start and pass its checks, and stops at the first that does not. GitHub: values \
        are sealed to the environment's public key; a push ledger in the vault records what was \
        sent, so unchanged secrets are skipped and secrets changed elsewhere are pushed again.

        Tokens: $FLY_API_TOKEN and $GITHUB_TOKEN, else the vault's ENV/hotsecrets/FLY_API_TOKEN \
        and ENV/hotsecrets/GITHUB_TOKEN. API bases: $HOTSECRETS_FLY_API_URL, \
        $HOTSECRETS_GITHUB_API_URL. Connection errors, 429 and 5xx are retried (5 tries, \
        honouring Retry-After); other errors are reported with the API's message.

        --dry-run asks each target what it holds and names what would change. Without a \
        target's token it plans from the vault and the push ledger instead (what hotsecrets last \
        sent there), saying that the target was not asked (compared_with_target false in JSON).

        Exit codes: 0 every target succeeded (or was planned); 1 a target failed (the others \
        were still done); 2 nothing could run (no vault, cannot unlock, bad policy, a name \
        collision, no target reachable or no token); 64 usage error.
        """
    )

    @OptionGroup var vault: VaultOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var policyOptions: PolicyOptions
    @Argument(help: "Environment, e.g. prod.", completion: Completions.environment) var environment: String
    @Option(help: "Targets to push to: fly, github or all.") var target: TargetSelection = .all
    @Flag(help: "Print what would change (names only); send no write.") var dryRun = false
    @Option(help: "Fly: stage (machines load the secrets at the next deploy) or rolling (restart them now).")
    var deploy: FlyDeployMode?
    @Option(help: "Seconds each request may take.") var timeout: Double = 30
    @Option(help: "Seconds a restarted machine may take to start and pass its checks.") var machineTimeout: Int = 60

    func run() async throws {
      try output.print(try await report())
    }

    /// Pushes (or with --dry-run plans) and reports. `session` is the vault already unlocked
    /// (`hotsecrets mcp`); without it the vault is unlocked here.
    func report(session unlocked: VaultSession? = nil) async throws -> CommandReport {
      try SecretAddress.validateEnvironment(environment)
      guard timeout > 0, machineTimeout > 0 else {
        throw ValidationError("--timeout and --machine-timeout must be positive")
      }
      let policy = try policyOptions.load(environment: environment, root: vault.root)
      let session = try unlocked ?? vault.unlock()
      let clients = try TargetClients.make(policy: policy, kinds: target.kinds, session: session, timeout: timeout)
      var options = SyncOptions(kinds: target.kinds, dryRun: dryRun, deploy: deploy, machineTimeout: machineTimeout)
      options.onStep = { SyncOutput.show($0, prefix: "sync") }
      let sync = SecretsSync(
        session: session, policy: policy, fly: clients.fly, github: clients.github, options: options)
      let dryRun = dryRun
      let report = try await sync.run { ProgressOutput.shared.line(SyncOutput.progress($0, dryRun: dryRun)) }
      if !dryRun, report.targets.contains(where: { $0.deploy == .rolling && $0.restart?.failure == nil }) {
        await DeferredRevocations.finish(
          command: "sync", policy: policy, session: session, fly: clients.fly, github: clients.github,
          timeout: timeout)
      }
      ProgressOutput.shared.finish()
      // A dry run's plan from the ledger ran nothing at the target, and is still the answer asked for.
      let ranNothing = report.targets.allSatisfy { !$0.reached && $0.comparedWithTarget }
      let status = ranNothing ? ExitStatus.error : report.succeeded ? ExitStatus.success : ExitStatus.checkFailed
      return CommandReport(SyncOutput.json(report), summary: SyncOutput.summary(report), exitStatus: status) {
        SyncOutput.text(report)
      }
    }
  }
}

/// Formatting of `sync` results.
enum SyncOutput {
  struct PushedJSON: Encodable {
    let name, source: String
    let version: Int
    let fingerprint: String
    let repairedDrift: Bool
    enum CodingKeys: String, CodingKey {
      case name, source, version, fingerprint
      case repairedDrift = "repaired_drift"
    }
  }
  struct FailedJSON: Encodable {
    let name, source, reason, category: String
  }
  struct RestartJSON: Encodable {
    let restarted: [String]
    @NullEncoded var failedMachine: String?
    @NullEncoded var failure: String?
    let untouched: [String]
    enum CodingKeys: String, CodingKey {
      case restarted, failure, untouched
      case failedMachine = "failed_machine"
    }
  }
  struct TargetJSON: Encodable {
    let target, kind, status: String
    let pushed: [PushedJSON]
    let unchanged: [String]
    let failed: [FailedJSON]
    @NullEncoded var error: String?
    let notes: [String]
    let comparedWithTarget: Bool
    @NullEncoded var secretsVersion: Int?
    @NullEncoded var deploy: String?
    @NullEncoded var restart: RestartJSON?
    let seconds: Double
    enum CodingKeys: String, CodingKey {
      case target, kind, status, pushed, unchanged, failed, error, notes, deploy, restart, seconds
      case secretsVersion = "secrets_version"
      case comparedWithTarget = "compared_with_target"
    }
  }
  struct Summary: Encodable {
    let targets, pushed, unchanged, failed: Int
  }
  struct Report: Encodable {
    let environment: String
    let dryRun, succeeded: Bool
    let targets: [TargetJSON]
    let summary: Summary
    enum CodingKeys: String, CodingKey {
      case environment, succeeded, targets, summary
      case dryRun = "dry_run"
    }
  }

  static func json(_ report: SyncReport) -> Report {
    Report(
      environment: report.environment, dryRun: report.dryRun, succeeded: report.succeeded,
      targets: report.targets.map(target),
      summary: Summary(
        targets: report.targets.count, pushed: report.targets.reduce(0) { $0 + $1.pushed.count },
        unchanged: report.targets.reduce(0) { $0 + $1.unchanged.count },
        failed: report.targets.reduce(0) { $0 + $1.failed.count + ($1.error != nil && $1.failed.isEmpty ? 1 : 0) }))
  }

  /// One target's JSON object.
  static func target(_ t: TargetReport) -> TargetJSON {
    TargetJSON(
      target: t.id.description, kind: t.id.kind.rawValue, status: t.succeeded ? "ok" : "failed",
      pushed: t.pushed.map {
        PushedJSON(
          name: $0.name, source: $0.source.description, version: $0.version, fingerprint: $0.fingerprint,
          repairedDrift: $0.repairedDrift)
      },
      unchanged: t.unchanged,
      failed: t.failed.map {
        FailedJSON(name: $0.name, source: $0.source.description, reason: $0.reason, category: $0.category)
      },
      error: t.error, notes: notes(t), comparedWithTarget: t.comparedWithTarget, secretsVersion: t.secretsVersion, deploy: t.deploy?.rawValue,
      restart: t.restart.map {
        RestartJSON(
          restarted: $0.restarted, failedMachine: $0.failedMachine, failure: $0.failure, untouched: $0.untouched)
      }, seconds: (t.seconds * 1000).rounded() / 1000)
  }

  /// The target's notes, and how to load staged secrets now (flyctl's command).
  static func notes(_ t: TargetReport) -> [String] {
    var notes = t.notes
    if !t.comparedWithTarget {
      let token = t.id.kind == .fly ? "FLY_API_TOKEN" : "GITHUB_TOKEN"
      notes.append(
        "not compared with the target (no \(token)): planned from the vault and the push ledger (what hotsecrets last sent); a value changed at the target since is not seen")
    }
    if t.stagedForNextDeploy {
      notes.append(
        "staged: the app's machines load the new secrets at the next deploy, or run `fly secrets deploy -a \(t.id.name)`")
    }
    return notes
  }

  /// A step of a target as progress: the live line on a terminal (a failed machine stays).
  static func show(_ progress: SyncProgress, prefix: String) {
    let text = "\(prefix) \(progress.target): " + words(progress.step, kind: progress.target.kind)
    if case .machineFailed = progress.step {
      ProgressOutput.shared.line(text)
    } else {
      ProgressOutput.shared.step(text)
    }
  }

  /// A step in words: names and counts only.
  static func words(_ step: SyncStep, kind: SyncTargetKind) -> String {
    switch step {
    case .listing: kind == .fly ? "listing the app's secrets" : "listing the environment's secrets"
    case .sending(let count):
      kind == .fly
        ? "sending \(Plural.count(count, "secret")) in one bulk update"
        : "sealing and sending \(Plural.count(count, "secret"))"
    case .sent(let count, let failed, let version):
      (failed == 0 ? "sent \(Plural.count(count, "secret"))" : "sent \(count - failed) of \(count), "
        + Colour.paint("\(failed) refused", .red, fd: 2))
        + (version.map { " (secrets version \($0))" } ?? "")
    case .restarting(let machine): "restarting machine \(machine) with the new secrets"
    case .machineState(let machine, let state): "machine \(machine) \(state)"
    case .machineFailed(let machine, let reason): "machine \(machine) " + Colour.paint("FAILED", .red, fd: 2) + ": \(reason)"
    }
  }

  /// The one stderr line per target, as it finishes.
  static func progress(_ t: TargetReport, dryRun: Bool) -> String {
    let verb = dryRun ? "would push" : "pushed"
    var line = "sync \(t.id): \(verb) \(t.pushed.count), unchanged \(t.unchanged.count)"
    if !t.failed.isEmpty { line += ", failed \(t.failed.count)" }
    if let restart = t.restart { line += ", restarted \(Plural.count(restart.restarted.count, "machine"))" }
    if !t.comparedWithTarget { line += " (from the push ledger; target not asked)" }
    if t.error != nil || restart(t) != nil { line += " — " + Colour.paint("FAILED", .red, fd: 2) }
    return line + String(format: " (%.1f s)", t.seconds)
  }

  private static func restart(_ t: TargetReport) -> String? { t.restart?.failure }

  /// A table per target, then its notes, deploy outcome and errors; then a summary line.
  static func text(_ report: SyncReport) -> String {
    var lines: [String] = []
    let pushedWord = report.dryRun ? "would push" : "pushed"
    for t in report.targets {
      var head = "\(t.id)"
      if let version = t.secretsVersion { head += " (secrets version \(version))" }
      lines.append(head)
      var table = TextTable("  NAME", "RESULT", "FROM", "REASON")
      for p in t.pushed {
        table.add(
          "  " + p.name, p.repairedDrift ? "\(pushedWord) (repaired drift)" : pushedWord, p.source.description, "")
      }
      for f in t.failed { table.add("  " + f.name, "failed", f.source.description, f.reason) }
      let same = t.comparedWithTarget ? "unchanged" : "unchanged (ledger)"
      for name in t.unchanged { table.add("  " + name, same, "", "") }
      if !table.rows.isEmpty { lines.append(table.rendered) }
      if let error = t.error { lines.append("  error: \(error)") }
      for note in notes(t) { lines.append("  note: \(note)") }
      if let restart = t.restart {
        if !restart.restarted.isEmpty {
          lines.append("  rolling restart: \(restart.restarted.joined(separator: ", ")) started with the new secrets")
        }
        if let failure = restart.failure {
          lines.append("  rolling restart stopped: \(failure)")
        }
        if !restart.untouched.isEmpty {
          let why = restart.failure != nil ? "left untouched" : "not running; they load the secrets when next started"
          lines.append("  machines \(why): \(restart.untouched.joined(separator: ", "))")
        }
      }
    }
    lines.append(summary(report, colour: true))
    return lines.joined(separator: "\n")
  }

  /// `sync prod: 2 targets, pushed 3, unchanged 9, all succeeded`: the text's last line, coloured
  /// on a terminal when `colour`.
  static func summary(_ report: SyncReport, colour: Bool = false) -> String {
    let pushedWord = report.dryRun ? "would push" : "pushed"
    let pushed = report.targets.reduce(0) { $0 + $1.pushed.count }
    let unchanged = report.targets.reduce(0) { $0 + $1.unchanged.count }
    let failedTargets = report.targets.filter { !$0.succeeded }.count
    let paint = { (text: String, c: Colour) in colour ? Colour.paint(text, c, fd: 1) : text }
    var summary =
      "sync \(report.environment): \(Plural.count(report.targets.count, "target")), \(pushedWord) \(pushed), unchanged \(unchanged)"
    summary += failedTargets == 0 ? ", " + paint("all succeeded", .green) : ", " + paint("\(failedTargets) failed", .red)
    if report.dryRun { summary += " (dry run: nothing was sent)" }
    return summary
  }
}
