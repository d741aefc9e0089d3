import Testing

@testable import HotSecretsModel
@testable import HotSecretsOperations
@testable import HotSecretsPolicy
@testable import HotSecretsVault
@testable import RemoteAPIs
@testable import VaultSQLite

/// The audit trail's action names are a contract (auditors' scripts, compliance bundles, old
/// entries): the typed values must spell exactly what was always written.
@Suite struct AuditActionTests {
  @Test func spellingsAreTheRecordedOnes() {
    let expected: [(AuditAction, String)] = [
      (.initVault, "init"), (.get, "get"), (.remove, "remove"), (.rekey, "rekey"),
      (.signingKeyCreate, "signing-key-create"), (.recipientAdd, "recipient-add"),
      (.recipientRemove, "recipient-remove"), (.recipientUpgrade, "recipient-upgrade"), (.render, "render"),
      (.run, "run"), (.verifyLive, "verify-live"), (.exportCompliance, "export-compliance"), (.sync, "sync"),
      (.syncRestart, "sync-restart"), (.rotatePlan, "rotate-plan"), (.rotateFinish, "rotate-finish"),
      (.rotateConfirmRevoked, "rotate-confirm-revoked"), (.rotate(.create), "rotate-create"),
      (.rotate(.promote), "rotate-promote"), (.rotate(.rollback), "rotate-rollback"), (.rotate(.revoke), "rotate-revoke"),
      (.version(.set), "set"), (.version(.import), "import"), (.version(.rotate), "rotate"),
    ]
    for (action, text) in expected { #expect(action.rawValue == text) }
  }

  @Test func rotationEntriesAreRecognisedFromTheirText() {
    #expect(AuditAction(rawValue: "rotate-push").rotationStep == "push")
    #expect(AuditAction(rawValue: "rotate-confirm-revoked").rotationStep == "confirm-revoked")
    #expect(AuditAction(rawValue: "rotate-plan").isRotation && AuditAction(rawValue: "rotate-plan").rotationStep == nil)
    #expect(AuditAction(rawValue: "rotate-finish").rotationStep == nil)
    #expect(!AuditAction(rawValue: "rotate").isRotation)
    #expect(AuditAction(rawValue: "recipient-add") == .recipientAdd)
  }
}

/// The rotation source's spelling is what the journal and reports hold.
@Suite struct RotationSourceTests {
  @Test func spellingsRoundTrip() {
    for source in [RotationSource.generate, .manual] + ProviderKind.allCases.map(RotationSource.provider) {
      #expect(RotationSource(rawValue: source.rawValue) == source)
    }
    #expect(RotationSource.provider(.openai).rawValue == "openai")
    #expect(RotationSource(rawValue: "provider") == nil)
    #expect(RotationSource.provider(.shopify).needsOperatorValue && RotationSource.manual.needsOperatorValue)
    #expect(RotationSource.provider(.shopify).mintingProvider == nil)
    #expect(RotationSource.provider(.chatwoot).isSinglePhase && !RotationSource.provider(.openai).isSinglePhase)
  }
}
