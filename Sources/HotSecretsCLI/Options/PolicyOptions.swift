import ArgumentParser
import HotSecretsCore

/// `--policy FILE`, default `ROOT/policies/ENV.yaml`, for every command that reads a policy.
struct PolicyOptions: ParsableArguments {
  @Option(help: ArgumentHelp("Policy file (default: ROOT/policies/ENV.yaml).", valueName: "file"))
  var policy: String?

  /// Reads and checks the policy of `environment`. Throws `PolicyError` (with FILE:LINE:COL) or
  /// `invalidInput` when the file is another environment's policy.
  func load(environment: String, root: String) throws -> Policy {
    let path = policy ?? VaultLocation.join(root, "policies/\(environment).yaml")
    let parsed = try PolicyParser.load(path: path)
    guard parsed.environment == environment else {
      throw CLIError.invalidInput("\(path) is the policy for \(parsed.environment), not \(environment)")
    }
    return parsed
  }
}
