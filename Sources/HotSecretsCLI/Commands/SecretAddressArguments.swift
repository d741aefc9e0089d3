import ArgumentParser
import HotSecretsModel

/// `ENV SERVICE KEY`, the three positional arguments naming one secret.
struct SecretAddressArguments: ParsableArguments {
  @Argument(help: "Environment, e.g. prod.") var environment: String
  @Argument(help: "Service, e.g. openai.") var service: String
  @Argument(help: "Key, e.g. API_KEY_PROD.") var key: String

  /// The validated address; throws `invalidName` (exit 2) for a bad name.
  func address() throws -> SecretAddress {
    try SecretAddress(environment: environment, service: service, key: key)
  }
}
