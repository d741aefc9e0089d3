import Foundation
import HotSecretsModel
import HotSecretsVault
import RemoteAPIs

extension VaultSession {
  /// Appends the one `verify-live` audit entry of a `verify --live` run, before any probe starts:
  /// subject `environment`; detail `sent`, the SERVICE/KEY names whose credential goes to its
  /// provider in a request, and `connected`, those whose URL only gets a TCP connection (nothing
  /// of the value is sent). Names only, never a value. Throws storage errors (then nothing is sent).
  func recordLiveProbes(environment: String, _ checks: [(name: ServiceKey, check: LiveCheck)]) throws {
    var sent: [CanonicalJSON] = []
    var connected: [CanonicalJSON] = []
    for (name, check) in checks {
      if case .tcp = check {
        connected.append(.string(name.description))
      } else {
        sent.append(.string(name.description))
      }
    }
    try recordAudit(
      AuditEvent(
        action: .verifyLive, subject: environment,
        detail: .object(["sent": .array(sent), "connected": .array(connected)])))
  }
}
