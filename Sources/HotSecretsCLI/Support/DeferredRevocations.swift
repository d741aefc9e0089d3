import Foundation
import HotSecretsModel
import HotSecretsOperations
import HotSecretsPolicy
import HotSecretsVault
import RemoteAPIs

/// After a rolling restart (`sync --deploy rolling`, `rotate --deploy rolling`): revokes the old
/// credentials earlier rotations deferred for staged Fly apps, now that their machines may run the
/// new secrets (`Rotation.settle(deferredOnly:)`). What happened goes to stderr; a failure here is a
/// warning: the command's own work is done, and `verify` keeps warning about what is left.
enum DeferredRevocations {
  static func finish(
    command: String, policy: Policy, session: VaultSession, fly: FlyMachinesAPI?, github: GitHubSecretsAPI?,
    timeout: Double
  ) async {
    let environment = policy.environment
    do {
      let deferred = try session.database.read { tx in
        try tx.journal.deferredOldCredentials(environment: environment).count
      }
      guard deferred > 0 else { return }
      let rotation = Rotation(
        session: session, policy: policy,
        providers: try ProviderClients.make(policy: policy, session: session, timeout: timeout), probe: nil, fly: fly,
        github: github, options: RotationOptions())
      let settlement = try await rotation.settle(deferredOnly: true)
      for line in RotateOutput.text(settlement).split(separator: "\n").dropLast() {
        StandardStreams.error("\(command) \(environment): deferred revocation:\(line.dropFirst(1))")
      }
    } catch {
      StandardStreams.warning(
        "\(command) \(environment): deferred revocations not finished: \(ErrorMessage.describe(error))")
    }
  }
}
