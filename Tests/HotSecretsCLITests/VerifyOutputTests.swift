import HotSecretsModel
import HotSecretsOperations
import HotSecretsPolicy
import HotSecretsVault
import RemoteAPIs
import VaultSQLite
import Testing

@testable import HotSecretsCLI

@Suite struct VerifyOutputTests {
  @Test func blocksFollowThePolicyThenWhatOnlyFindingsName() throws {
    let policy = try PolicyParser.parse(
      """
      version: 1
      environment: prod
      services:
        app:
          keys:
            FIRST: {}
            SECOND: { format: '^x' }
        db:
          keys:
            URL: {}
      """, file: "policies/prod.yaml")
    var report = VerifyReport(environment: "prod")
    report.passedChecks = 7
    for (service, key, check, severity, message) in [
      ("app", "SECOND", Finding.Check.format, Finding.Severity.error, "value does not match format '^x'"),
      ("other", "LOOSE", .undeclared, .warning, "in the vault but not in policies/prod.yaml"),
      ("app", "EXTRA", .undeclared, .warning, "in the vault but not in policies/prod.yaml"),
      ("app", "SECOND", .age, .warning, "current version is 80 days old; max age 90 reached in 10 days"),
    ] {
      report.findings.append(Finding(service: service, key: key, check: check, severity: severity, message: message))
    }
    #expect(
      VerifyOutput.text(report, policy: policy) == """
        app
          ok    FIRST
          FAIL  SECOND        format      value does not match format '^x'
          warn                age         current version is 80 days old; max age 90 reached in 10 days
          warn  EXTRA         undeclared  in the vault but not in policies/prod.yaml
        db
          ok    URL
        other
          warn  LOOSE         undeclared  in the vault but not in policies/prod.yaml
        verify prod: 7 passed, 1 failed, 3 warnings
        """)
  }
}
