import Foundation

/// Why a rotation cannot start (or resume). Nothing has changed when one is thrown.
public enum RotationError: LocalizedError, Equatable, Sendable {
  case nothingSelected(environment: String)
  case notInPolicy(String)
  case notInVault(String)
  case noProvider(String)
  case needsOperatorValue(String)
  case unfinished(environment: String, run: Int64, startedAt: String, by: String, step: String)
  case nothingToResume(environment: String)
  case busy(environment: String)
  case notPendingRevocation(String)
  case noCredentials(provider: String)
  case keyInUnfinishedRun(name: String, environment: String, run: Int64, step: String)

  public var errorDescription: String? {
    switch self {
    case .nothingSelected(let environment):
      "nothing to rotate in \(environment)"
    case .notInPolicy(let name): "\(name) is not declared in the policy"
    case .notInVault(let name): "\(name) is not in the vault"
    case .noProvider(let name): "\(name) has rotate: provider, but its service has no provider in the policy"
    case .needsOperatorValue(let name):
      "\(name) cannot be minted by hotsecrets: its new value must come from an operator"
    case .unfinished(let environment, let run, let startedAt, let by, let step):
      "a rotation of \(environment) is unfinished (run \(run), started \(startedAt) by \(by), at step \(step))"
    case .nothingToResume(let environment): "no unfinished rotation of \(environment) to resume"
    case .busy(let environment): "another rotation of \(environment) is running right now"
    case .notPendingRevocation(let name): "\(name) has no old credential waiting to be revoked by hand"
    case .keyInUnfinishedRun(let name, let environment, let run, let step):
      "\(name) is being rotated (run \(run), stopped at step \(step))"
    case .noCredentials(let provider):
      switch provider {
      case "openai":
        "rotating openai keys needs OPENAI_ADMIN_KEY (environment, or the vault's hotsecrets/OPENAI_ADMIN_KEY)"
      case "supabase":
        "rotating supabase keys needs SUPABASE_ACCESS_TOKEN (environment, or the vault's hotsecrets/SUPABASE_ACCESS_TOKEN)"
      default: "no credentials for the \(provider) provider"
      }
    }
  }
}
