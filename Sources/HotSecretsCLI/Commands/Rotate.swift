import ArgumentParser
import Foundation
import HotSecretsCompliance
import HotSecretsModel
import HotSecretsOperations
import HotSecretsPolicy
import HotSecretsVault
import Integrations

extension RotationOptions.RevokeOld: ExpressibleByArgument {}

extension HotSecrets {
  /// Rotates credentials at their providers and everywhere they are deployed.
  struct Rotate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "rotate",
      abstract: "Rotate ENV's credentials: mint, test, push, verify, promote, revoke — journaled.",
      discussion: """
        Each key named as SERVICE/KEY (or, with --due, each key whose current version is past its \
        max age or within 7 days of it; with --exposed, each key whose current value a removed \
        recipient could have read) is replaced according to the policy's `rotate`: \
        provider (OpenAI, Supabase, Chatwoot mint a new credential; Shopify's comes from the \
        operator), generate (a random value), manual (from the operator, with --value-from). \
        The run's steps — plan, create, test, push, verify, promote, revoke — are journaled in the \
        vault and audited before the next begins. All new values are pushed together (one Fly \
        secrets update per app, at most one restart per machine, one public-key fetch per GitHub \
        environment). A failure before promote rolls back: targets get the previous value again, \
        the new version is marked failed and the new credential revoked. An interrupted run is \
        completed or rolled back by --resume; a new run refuses to start while one is unfinished.

        Chatwoot is single-phase: minting kills the old token, so the new one is promoted and \
        pushed at once, without rollback. Shopify and manual keys: the new value comes from \
        --value-from FILE (- for stdin) or, on a terminal, a prompt; revoke the old credential by \
        hand, then run --confirm-revoked SERVICE/KEY. Old credentials that something may still use \
        are kept (a staged Fly target, the same value under another key) and `verify` warns.

        A run ends by appending a signed checkpoint of the audit chain's head to \
        ROOT/vault/audit-checkpoints.log (see `hotsecrets audit checkpoint`).

        Tokens (environment first, else the vault's ENV/hotsecrets/NAME): OPENAI_ADMIN_KEY, \
        SUPABASE_ACCESS_TOKEN, FLY_API_TOKEN, GITHUB_TOKEN. API bases: HOTSECRETS_OPENAI_API_URL, \
        HOTSECRETS_SUPABASE_API_URL, HOTSECRETS_FLY_API_URL, HOTSECRETS_GITHUB_API_URL. See \
        docs/rotation.md.

        Exit codes: 0 every key rotated; 1 a key failed or was rolled back (the others still \
        completed); 2 the run could not start (no vault, bad policy, nothing selected, an \
        unfinished run); 64 usage error.
        """
    )

    @OptionGroup var vault: VaultOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var policyOptions: PolicyOptions
    @Argument(help: "Environment, e.g. prod.", completion: Completions.environment) var environment: String
    @Argument(help: ArgumentHelp("Keys to rotate.", valueName: "service/key"), completion: Completions.serviceKey) var keys: [String] = []
    @Flag(help: "Also rotate every key past its max age or within 7 days of it.") var due = false
    @Flag(help: "Also rotate every key whose current value a removed recipient could have read.") var exposed = false
    @Flag(help: "Print the plan; change nothing.") var dryRun = false
    @Flag(help: "Complete or roll back the unfinished run (with none, settle what earlier runs left live).")
    var resume = false
    @Flag(
      help:
        "Settle what earlier runs left live: revoke old credentials deferred for staged Fly apps once every machine runs the new secrets, and revoke or promote new values kept after an incomplete rollback."
    )
    var finish = false
    @Option(help: "Fly: stage or rolling (default: each target's policy `deploy`, else stage).")
    var deploy: FlyDeployMode?
    @Option(help: "after-verify (default) or never: keep the old credential live.")
    var revokeOld: RotationOptions.RevokeOld = .afterVerify
    @Option(
      help: ArgumentHelp("The new value of the one key named (Shopify, manual keys); - for stdin.", valueName: "file"), completion: .file())
    var valueFrom: String?
    @Option(
      help: ArgumentHelp("Record that the old credential of this key was revoked by hand.", valueName: "service/key"))
    var confirmRevoked: String?
    @Option(help: ArgumentHelp("Measure ages for --due at this date (YYYY-MM-DD or ISO 8601).", valueName: "date"))
    var asOf: String?
    @Option(help: "Seconds each request may take.") var timeout: Double = 30
    @Option(help: "Seconds a restarted machine may take to start and pass its checks.") var machineTimeout: Int = 60

    func run() async throws {
      try output.print(try await report())
    }

    /// Rotates (or plans, settles, records a confirmation) and reports. `session` is the vault
    /// already unlocked (`hotsecrets mcp`); without it the vault is unlocked here.
    func report(session unlocked: VaultSession? = nil) async throws -> CommandReport {
      try SecretAddress.validateEnvironment(environment)
      let names = try keys.map(Self.parseName)
      if valueFrom != nil, names.count != 1 { throw ValidationError("--value-from needs exactly one SERVICE/KEY") }
      let policy = try policyOptions.load(environment: environment, root: vault.root)
      let session = try unlocked ?? vault.unlock()
      var values: [ServiceKey: [UInt8]] = [:]
      defer { for key in values.keys { wipe(&values[key]!) } }
      if let valueFrom, let name = names.first {
        values[name] = try Self.readValue(valueFrom)
      } else if unlocked == nil, names.count == 1, let name = names.first, !dryRun, StandardStreams.stdinIsTerminal,
        Self.needsOperator(name, in: policy),
        let typed = try Terminal.readSecret(prompt: "New value for \(environment)/\(name): ")
      {
        values[name] = typed.copyBytes()
      }
      // A plan needs no credential: none is read (from the environment or the vault) for one.
      let planOnly = dryRun && !resume && !finish && confirmRevoked == nil
      let clients =
        planOnly
        ? TargetClients(fly: nil, github: nil)
        : try TargetClients.make(
          policy: policy, kinds: Set(SyncTargetKind.allCases), session: session, timeout: timeout)
      let environment = environment
      let rotation = Rotation(
        session: session, policy: policy,
        providers: planOnly ? [:] : try ProviderClients.make(policy: policy, session: session, timeout: timeout),
        probe: ProviderProbe(
          endpoints: .init(openAI: try ProviderClients.openAIBase(checked: true)),
          timeout: timeout),
        fly: clients.fly, github: clients.github,
        options: RotationOptions(
          keys: names, due: due, dryRun: dryRun, deploy: deploy, revokeOld: revokeOld, operatorValues: values,
          asOf: try asOf.map { try DateArgument.parse($0) } ?? Date(), machineTimeout: machineTimeout,
          exposed: exposed),
        progress: { RotateOutput.show($0, environment: environment) },
        checkpoint: Self.crashHook)
      if let confirmRevoked {
        let name = try Self.parseName(confirmRevoked)
        try rotation.confirmRevoked(name)
        let line = "recorded: the old credential of \(environment)/\(name) was revoked by hand"
        return CommandReport(
          ["environment": environment, "confirmed_revoked": name.description], summary: line) { line }
      }
      if finish { return try await settle(rotation, session: session) }
      let report: RotationReport
      if resume {
        do { report = try await rotation.resume() } catch RotationError.nothingToResume(let environment) {
          // Nothing unfinished: settle what earlier runs left live, if anything.
          let left = try session.database.read { tx in
            try tx.journal.liveNewValues(environment: environment).count
              + tx.journal.deferredOldCredentials(environment: environment).count
          }
          guard left > 0 else { throw RotationError.nothingToResume(environment: environment) }
          return try await settle(rotation, session: session)
        }
      } else {
        report = try await rotation.run()
      }
      // A rolling run restarted the machines: old credentials deferred by earlier staged runs may
      // go now.
      if !dryRun, report.pushes.contains(where: { $0.deploy == .rolling && $0.restart?.failure == nil }) {
        await DeferredRevocations.finish(
          command: "rotate", policy: policy, session: session, fly: clients.fly, github: clients.github,
          timeout: timeout)
      }
      // The rotation has happened either way. (--resume ignores --dry-run.)
      if resume || !dryRun { writeCheckpoint(session) }
      ProgressOutput.shared.finish()
      let dryRun = dryRun
      let selection = exposed ? (due ? "due or exposed" : "exposed") : "due"
      let text = RotateOutput.text(report, dryRun: dryRun, selection: selection)
      return CommandReport(
        RotateOutput.json(report, dryRun: dryRun),
        summary: text.split(separator: "\n").last.map(String.init) ?? "",
        exitStatus: report.succeeded ? ExitStatus.success : ExitStatus.checkFailed
      ) { text }
    }

    /// `--finish`: settles, anchors the audit trail, reports what happened; exit 1 when something
    /// is still waiting.
    private func settle(_ rotation: Rotation, session: VaultSession) async throws -> CommandReport {
      let settlement = try await rotation.settle()
      if !settlement.entries.isEmpty { writeCheckpoint(session) }
      let text = RotateOutput.text(settlement)
      return CommandReport(
        RotateOutput.json(settlement), summary: text.split(separator: "\n").last.map(String.init) ?? "",
        exitStatus: settlement.settled ? ExitStatus.success : ExitStatus.checkFailed
      ) { text }
    }

    /// Anchors the run's audit entries: a signed checkpoint of the head (docs/security.md). Failing
    /// to write it only warns: what it anchors has happened.
    private func writeCheckpoint(_ session: VaultSession) {
      let path = AuditCheckpoints.path(explicit: nil, root: vault.root)
      do {
        let written = try AuditCheckpoints.write(session: session, path: path)
        StandardStreams.error(
          "rotate \(environment): audit checkpoint: seq \(written.checkpoint.seq) appended to \(path)")
      } catch {
        StandardStreams.warning(
        "the audit checkpoint was not written to \(path): \(ErrorMessage.describe(error))")
      }
    }

    /// Whether the new value of `name` comes from a person (Shopify tokens, `rotate: manual`).
    static func needsOperator(_ name: ServiceKey, in policy: Policy) -> Bool {
      guard let service = policy.service(name.service), let key = service.key(name.key) else { return false }
      switch key.rotate {
      case .manual: return true
      case .provider: return service.provider?.kind == .shopify
      case .generate: return false
      }
    }

    static func parseName(_ text: String) throws -> ServiceKey {
      let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
      guard parts.count == 2, SecretAddress.isServiceName(parts[0]), SecretAddress.isKeyName(parts[1]) else {
        throw ValidationError("'\(text)' is not SERVICE/KEY")
      }
      return ServiceKey(service: parts[0], key: parts[1])
    }

    static func readValue(_ source: String) throws -> [UInt8] {
      var data: [UInt8]
      if source == "-" {
        guard let bytes = FileDescriptorIO.readAll(0) else {
          throw CLIError.io(path: "standard input", reason: "cannot read")
        }
        data = bytes
      } else {
        guard let contents = FileManager.default.contents(atPath: source) else {
          throw CLIError.io(path: source, reason: "cannot read the value file")
        }
        data = Array(contents)
      }
      defer { wipe(&data) }
      let value = Array(InputText.droppingOneTrailingNewline(data))
      guard !value.isEmpty else { throw CLIError.invalidInput("\(source): the new value is empty") }
      return value
    }

    #if DEBUG
      /// Test hook, debug builds only (the tests run the debug binary): `HOTSECRETS_TEST_CRASH_AFTER=STEP`
      /// ends the process abruptly once STEP is journaled, as a crash would (the crash-and-resume
      /// tests). A release build has no such hook: nothing in the environment can stop a rotation.
      static let crashHook: @Sendable (RotationStep) -> Void = { step in
        if ProcessEnvironment.value("HOTSECRETS_TEST_CRASH_AFTER") == step.rawValue { _exit(137) }
      }
    #else
      static let crashHook: @Sendable (RotationStep) -> Void = { _ in }
    #endif
  }
}

/// Formatting of `rotate` results.
enum RotateOutput {
  struct PlanJSON: Encodable {
    let service, key, provider: String
    let targets: [String]
    let singlePhase: Bool
    let ageDays, currentVersion: Int
    enum CodingKeys: String, CodingKey {
      case service, key, provider, targets
      case singlePhase = "single_phase"
      case ageDays = "age_days"
      case currentVersion = "current_version"
    }
  }
  struct KeyJSON: Encodable {
    let service, key, provider, state: String
    let targets: [String]
    @NullEncoded var oldVersion: Int?
    @NullEncoded var newVersion: Int?
    @NullEncoded var revocation: String?
    /// What happened to the new credential of a failed or rolled-back key: `revoked`, `failed`
    /// (still live at the provider), `live` (kept: a target may run it; `--finish` settles it).
    @NullEncoded var newRevocation: String?
    @NullEncoded var error: String?
    enum CodingKeys: String, CodingKey {
      case service, key, provider, state, targets, revocation, error
      case oldVersion = "old_version"
      case newVersion = "new_version"
      case newRevocation = "new_revocation"
    }
  }
  struct Report: Encodable {
    let environment, outcome: String
    @NullEncoded var run: Int64?
    let dryRun: Bool
    let plan: [PlanJSON]
    let needsOperator: [String]
    let keys: [KeyJSON]
    @NullEncoded var failedStep: String?
    @NullEncoded var error: String?
    let pushes: [SyncOutput.TargetJSON]
    enum CodingKeys: String, CodingKey {
      case environment, outcome, run, plan, keys, error, pushes
      case dryRun = "dry_run"
      case needsOperator = "needs_operator"
      case failedStep = "failed_step"
    }
  }

  static func json(_ report: RotationReport, dryRun: Bool) -> Report {
    Report(
      environment: report.environment, outcome: report.outcome.rawValue, run: report.run, dryRun: dryRun,
      plan: report.plan.filter { !$0.needsOperator }.map {
        PlanJSON(
          service: $0.name.service, key: $0.name.key, provider: $0.mode.rawValue,
          targets: $0.targets.map(\.description),
          singlePhase: $0.singlePhase, ageDays: $0.ageDays, currentVersion: $0.currentVersion)
      },
      needsOperator: report.plan.filter(\.needsOperator).map(\.name.description),
      keys: report.items.map {
        KeyJSON(
          service: $0.service, key: $0.key, provider: $0.mode.rawValue, state: $0.state.rawValue,
          targets: (report.targets[$0.name] ?? []).map(\.description), oldVersion: $0.oldVersion,
          newVersion: $0.newVersion, revocation: $0.revocation?.rawValue,
          newRevocation: $0.newRevocation?.rawValue, error: $0.error)
      },
      failedStep: report.failedStep?.rawValue, error: report.error,
      pushes: report.pushes.map(SyncOutput.target))
  }

  /// `--finish --format json`.
  struct SettlementJSON: Encodable {
    struct Entry: Encodable {
      let service, key: String
      let run: Int64
      /// `new-revoked`, `promoted`, `old-revoked`, `old-shared` or `waiting`.
      let outcome: String
      let revocation: String?
      let reason: String?
    }
    let environment: String
    let settled: Bool
    let entries: [Entry]
  }

  static func json(_ settlement: RotationSettlement) -> SettlementJSON {
    SettlementJSON(
      environment: settlement.environment, settled: settlement.settled,
      entries: settlement.entries.map { entry in
        let (outcome, revocation, reason): (String, String?, String?) =
          switch entry.outcome {
          case .newRevoked: ("new-revoked", nil, nil)
          case .promoted(let revocation): ("promoted", revocation?.rawValue, nil)
          case .oldRevoked: ("old-revoked", Revocation.revoked.rawValue, nil)
          case .oldShared(let other):
            ("old-shared", Revocation.shared.rawValue, "the same value is current in \(other)")
          case .waiting(let why): ("waiting", nil, why)
          }
        return SettlementJSON.Entry(
          service: entry.name.service, key: entry.name.key, run: entry.run, outcome: outcome, revocation: revocation,
          reason: reason)
      })
  }

  /// One line per settled or waiting credential, then a summary line.
  static func text(_ settlement: RotationSettlement) -> String {
    var lines = settlement.entries.map { entry in
      let what =
        switch entry.outcome {
        case .newRevoked: "no target held the new value: it was revoked"
        case .promoted(let revocation):
          "a target held the new value: it is current everywhere now (old credential: \(revocation?.rawValue ?? "handled"))"
        case .oldRevoked: "every machine runs the new secrets: the old credential was revoked"
        case .oldShared(let other): "old credential kept: the same value is current in \(other)"
        case .waiting(let why): "not settled: \(why)"
        }
      return "  \(entry.name) (run \(entry.run)): \(what)"
    }
    let waiting = settlement.entries.filter { if case .waiting = $0.outcome { true } else { false } }.count
    lines.append(
      settlement.entries.isEmpty
        ? "rotate \(settlement.environment) --finish: nothing left live by earlier runs"
        : "rotate \(settlement.environment) --finish: \(settlement.entries.count - waiting) settled, \(waiting) waiting"
    )
    return lines.joined(separator: "\n")
  }

  /// A rotation event as progress: a target's steps on the live line, everything else a line.
  static func show(_ event: RotationProgress, environment: String) {
    if case .targetStep(let step) = event.event {
      SyncOutput.show(step, prefix: "rotate \(environment): push:")
    } else {
      ProgressOutput.shared.line(progress(event, environment: environment))
    }
  }

  static func progress(_ event: RotationProgress, environment: String) -> String {
    let subject = event.name.map { " \($0)" } ?? ""
    let name = event.name.map(\.description) ?? ""
    return
      "rotate \(environment)\(subject): \(event.step.rawValue): \(words(event.event, environment: environment, name: name))"
  }

  /// A rotation event in words: the only place its commands and flags are named.
  static func words(_ event: RotationEvent, environment: String, name: String) -> String {
    switch event {
    case .needsOperator: "needs an operator: hotsecrets rotate \(environment) \(name) --value-from FILE"
    case .started(let run, let keys): "run \(run): " + keys.joined(separator: ", ")
    case .singlePhase:
      "single-phase: minting the new token kills the old one at once, so it is pushed right away and cannot be rolled back"
    case .created(let version, let mode): "new version \(version) created (\(mode))"
    case .currentAtOnce: "the old token stopped working when the new one was minted: it is current now"
    case .failed(let reason): name.isEmpty ? reason : Colour.paint("FAILED", .red, fd: 2) + ": \(reason)"
    case .accepted: "the provider accepts the new credential"
    case .sent(let targets): "sent to " + targets.joined(separator: ", ")
    case .target(let target):
      "\(target.id): "
        + (target.succeeded
          ? "pushed \(target.pushed.count), unchanged \(target.unchanged.count)"
            + (target.restart.map { ", restarted \(Plural.count($0.restarted.count, "machine"))" } ?? "")
          : Colour.paint("FAILED", .red, fd: 2)
            + ": \(target.error ?? target.failed.first?.reason ?? target.restart?.failure ?? "failed")")
    case .targetStep(let step): "\(step.target): " + SyncOutput.words(step.step, kind: step.target.kind)
    case .verified: "every target holds the new value"
    case .promoted(let version, let previous): "version \(version) is current; version \(previous) is previous"
    case .resuming(let run, let startedAt, let by, let step):
      "resuming run \(run) of \(startedAt) by \(by), stopped at step \(step.rawValue)"
    case .oldRevoked(let mode): "old credential revoked at \(mode)"
    case .oldKept(let revocation, let apps, let shared):
      switch revocation {
      case .deferred:
        "old credential kept live: the machines of \(apps.map { "fly:\($0)" }.joined(separator: ", ")) load the new value only at their next deploy (`fly secrets deploy`); revoke it afterwards, then run --confirm-revoked \(name)"
      case .shared: "old credential kept live: the same value is current in \(shared ?? "another key")"
      case .pendingOperator:
        "revoke the old credential by hand, then run hotsecrets rotate \(environment) --confirm-revoked \(name)"
      default: "old credential kept live (--revoke-old never)"
      }
    case .oldNotFound(let mode):
      "no certain match for the old credential at \(mode): it is still live; revoke it by hand"
    case .newRevoked(let mode): "the new credential was revoked at \(mode)"
    case .newRevokeFailed(let reason): "FAILED to revoke the new credential: \(reason)"
    case .newKeptLive:
      "the previous value could not be restored everywhere, so the new value is kept live; hotsecrets rotate \(environment) --finish settles it"
    case .rollingBack(let reason): "rolling back: \(reason)"
    case .restoreNotNeeded(let targets):
      targets.joined(separator: ", ") + " already hold\(targets.count == 1 ? "s" : "") the previous values: not re-sent"
    case .restoreFailed(let reason): "restoring the previous values failed: \(reason)"
    case .finished(let run, let outcome): "run \(run): \(outcome.rawValue)"
    }
  }

  /// `selection` words what picked the keys ("due", "exposed"), for a plan that is empty.
  static func text(_ report: RotationReport, dryRun: Bool, selection: String = "due") -> String {
    var lines: [String] = []
    if dryRun {
      var table = TextTable("KEY", "PROVIDER", "VERSION", "AGE", "TARGETS", "NOTE")
      for p in report.plan {
        var note = p.singlePhase ? "single-phase: the old token dies at once; no rollback" : ""
        if p.needsOperator { note = "needs --value-from (operator)" }
        table.add(
          p.name.description, p.mode.rawValue, String(p.currentVersion), "\(p.ageDays)d",
          p.targets.map(\.description).joined(separator: ", "), note)
      }
      if report.plan.isEmpty {
        return "rotate \(report.environment): nothing to rotate: no key is \(selection) (dry run: nothing was changed)"
      }
      lines.append(table.rendered)
      lines.append(
        "rotate \(report.environment): plan of \(Plural.count(report.plan.count, "key")) (dry run: nothing was changed)")
      return lines.joined(separator: "\n")
    }
    var table = TextTable("KEY", "PROVIDER", "OLD", "NEW", "TARGETS", "RESULT", "OLD CREDENTIAL")
    for item in report.items {
      table.add(
        item.name.description, item.mode.rawValue, item.oldVersion.map(String.init) ?? "-",
        item.newVersion.map(String.init) ?? "-",
        (report.targets[item.name] ?? []).map(\.description).joined(separator: ", "), item.state.rawValue,
        item.revocation?.rawValue ?? "-")
    }
    for name in report.plan.filter(\.needsOperator).map(\.name) {
      table.add(name.description, "operator", "-", "-", "", "needs --value-from", "-")
    }
    lines.append(table.rendered)
    for item in report.items where item.error != nil { lines.append("  \(item.name): \(item.error!)") }
    var summary = "rotate \(report.environment): run \(report.run.map(String.init) ?? "-") \(report.outcome.rawValue)"
    if let step = report.failedStep { summary += " (failed at \(step.rawValue))" }
    lines.append(summary)
    return lines.joined(separator: "\n")
  }
}
