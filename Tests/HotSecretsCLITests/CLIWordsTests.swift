import Foundation
import Testing

@testable import HotSecretsCLI
@testable import HotSecretsModel
@testable import HotSecretsOperations
@testable import HotSecretsPolicy

/// The core states facts; the CLI adds what to run about them (its own command and flag names).
@Suite struct CLIWordsTests {
  @Test func errorsGetTheCommandToRun() {
    #expect(
      ErrorMessage.describe(VaultError.noVault(path: "vault/hotsecrets.db"))
        == "no vault at vault/hotsecrets.db; run `hotsecrets init` to create one (or pass --vault / set HOTSECRETS_VAULT)")
    #expect(
      ErrorMessage.describe(RotationError.unfinished(environment: "prod", run: 3, startedAt: "t", by: "ci", step: "push"))
        .hasSuffix("at step push): run hotsecrets rotate prod --resume"))
    #expect(
      ErrorMessage.describe(MirrorError.keyCollision(key: "K", secrets: ["a/K", "b/K"]))
        == "K would be set by more than one secret (a/K, b/K); choose with --service, or map them apart with target_name in the policy")
    #expect(
      ErrorMessage.describe(PolicyError(file: "policies/prod.yaml", position: nil, problem: PolicyError.noSuchFile))
        == "policies/prod.yaml: no such file (write one: see docs/policy.md), or pass --policy FILE")
    #expect(
      ErrorMessage.describe(VaultError.incompleteVault(path: "v.db"))
        == "v.db is not a hotsecrets vault, or its creation was interrupted: if it holds no secrets, delete it and run `hotsecrets init` again"
    )
    // An error without a hint is its own description.
    #expect(ErrorMessage.describe(VaultError.cannotUnlock) == "cannot unlock: wrong passphrase or identity")
  }

  @Test func findingsGetTheirRemedyInWords() {
    let drift = Finding(
      service: "openai", key: "API_KEY", check: .drift, severity: .error, message: "in vault/occ but not in the vault",
      remedy: .importFiles)
    #expect(FindingWords.line(drift, environment: "prod") == "in vault/occ but not in the vault; run hotsecrets import prod")
    let old = Finding(
      service: "openai", key: "API_KEY", check: .oldCredential, severity: .warning,
      message: "the previous credential is still live: revoke it by hand", remedy: .confirmRevoked)
    #expect(
      FindingWords.line(old, environment: "prod")
        == "the previous credential is still live: revoke it by hand; then run hotsecrets rotate prod --confirm-revoked openai/API_KEY"
    )
    let plain = Finding(service: "a", key: "B", check: .missing, severity: .error, message: "not in the vault")
    #expect(FindingWords.line(plain, environment: "prod") == "not in the vault")
  }

  @Test func rotationEventsAreWordedByTheCLI() {
    let name = ServiceKey(service: "shopify", key: "TOKEN")
    #expect(
      RotateOutput.progress(RotationProgress(name: name, step: .plan, event: .needsOperator), environment: "prod")
        == "rotate prod shopify/TOKEN: plan: needs an operator: hotsecrets rotate prod shopify/TOKEN --value-from FILE")
    #expect(
      RotateOutput.progress(
        RotationProgress(name: name, step: .revoke, event: .oldKept(.deferred, stagedApps: ["web"])), environment: "prod"
      ).contains("fly:web load the new value only at their next deploy"))
    #expect(
      RotateOutput.progress(RotationProgress(name: nil, step: .done, event: .finished(run: 4, outcome: .completed)), environment: "prod")
        == "rotate prod: done: run 4: completed")
  }

  /// No check name runs into its message, however long (`target-missing`, `orphan-credential`).
  @Test func verifyTextKeepsTheCheckColumnApart() throws {
    var report = VerifyReport(environment: "prod")
    report.record(
      Finding(
        service: "openai", key: "API_KEY", check: .orphanCredential, severity: .warning, message: "minted and kept",
        remedy: nil))
    report.record(
      Finding(service: "openai", key: "API_KEY", check: .targetMissing, severity: .error, message: "fly:web has no KEY"))
    let policy = try PolicyParser.parse(
      "version: 1\nenvironment: prod\nservices:\n  openai:\n    keys:\n      API_KEY: {}\n", file: "p.yaml")
    let text = VerifyOutput.text(report, policy: policy)
    #expect(text.contains("orphan-credential  minted and kept"), "\(text)")
    #expect(text.contains("target-missing     fly:web has no KEY"), "\(text)")
  }
}
