import ArgumentParser
import HotSecretsCompliance
import HotSecretsPolicy
import HotSecretsVault

/// `--policy FILE`, default `ROOT/policies/ENV.yaml`, for every command that reads a policy.
struct PolicyOptions: ParsableArguments {
  @Option(help: ArgumentHelp("Policy file (default: ROOT/policies/ENV.yaml).", valueName: "file"), completion: .file())
  var policy: String?

  /// Reads and checks the policy of `environment`. Throws `PolicyError` (with FILE:LINE:COL) or
  /// `invalidInput` when the file is another environment's policy.
  func load(environment: String, root: String) throws -> Policy {
    try Self.load(path: path(environment: environment, root: root), environment: environment)
  }

  /// `load` on another thread while `work` runs on this one: parsing a policy and opening a vault
  /// take milliseconds each and neither needs the other. The policy's error is thrown in preference
  /// to `work`'s, as if the two had run in order. Unless `concurrently` (pass false when `work` may
  /// prompt on the terminal), the policy is read first, so a bad one fails before any prompt.
  func load<T: Sendable>(
    environment: String, root: String, concurrently: Bool, while work: () throws -> T
  ) async throws -> (Policy, T) {
    let path = path(environment: environment, root: root)
    guard concurrently else { return (try Self.load(path: path, environment: environment), try work()) }
    let policy = Task.detached { try Self.load(path: path, environment: environment) }
    let result = Result { try work() }
    return (try await policy.value, try result.get())
  }

  private func path(environment: String, root: String) -> String {
    policy ?? VaultLocation.join(root, "policies/\(environment).yaml")
  }

  private static func load(path: String, environment: String) throws -> Policy {
    let parsed = try PolicyParser.load(path: path)
    guard parsed.environment == environment else {
      throw CLIError.invalidInput("\(path) is the policy for \(parsed.environment), not \(environment)")
    }
    return parsed
  }
}
