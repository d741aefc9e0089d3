import ArgumentParser
import HotSecretsModel

/// `ENV SERVICE KEY`, the three positional arguments naming one secret.
struct SecretAddressArguments: ParsableArguments {
  @Argument(help: "Environment, e.g. prod.", completion: Completions.environment) var environment: String
  @Argument(help: "Service, e.g. openai.", completion: Completions.service) var service: String
  @Argument(help: "Key, e.g. API_KEY_PROD.", completion: Completions.key) var key: String

  /// The validated address; throws `invalidName` (exit 2) for a bad name.
  func address() throws -> SecretAddress {
    try SecretAddress(environment: environment, service: service, key: key)
  }
}
