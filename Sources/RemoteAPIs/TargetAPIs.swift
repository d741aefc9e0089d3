import Foundation

/// What a Fly.io app says about one of its secrets: its name and digest, never its value.
public struct FlyAppSecret: Sendable, Equatable {
  public let name: String
  /// Fly's digest of the value; the hex MD5 of the value when it is 32 hex characters.
  public let digest: String
  public let updatedAt: String?

  public init(name: String, digest: String, updatedAt: String?) {
    self.name = name
    self.digest = digest
    self.updatedAt = updatedAt
  }
}

/// The answer to a bulk secrets update.
public struct FlySecretsUpdate: Sendable {
  /// The app's new secrets version (machines started with `min_secrets_version` ≥ it see the values).
  public let version: Int
  public let secrets: [FlyAppSecret]

  public init(version: Int, secrets: [FlyAppSecret]) {
    self.version = version
    self.secrets = secrets
  }
}

/// A Fly Machine, as much of it as a rolling restart needs.
public struct FlyMachine: Sendable {
  /// One health check and its status (`passing`, `warning`, `critical`).
  public struct Check: Sendable, Equatable {
    public let name: String
    public let status: String
    public init(name: String, status: String) {
      self.name = name
      self.status = status
    }
  }

  public let id: String
  public let state: String
  public let instanceID: String?
  /// The machine's config exactly as Fly returned it (a JSON object), sent back unchanged on
  /// update; nil when Fly returned none (such a machine is never updated: it would lose its image).
  public let config: Data?
  public let checks: [Check]
  /// The secrets version the machine was last started with, when Fly reports it (*unconfirmed* field).
  public let minSecretsVersion: Int?

  public init(id: String, state: String, instanceID: String?, config: Data?, checks: [Check], minSecretsVersion: Int?) {
    self.id = id
    self.state = state
    self.instanceID = instanceID
    self.config = config
    self.checks = checks
    self.minSecretsVersion = minSecretsVersion
  }

  /// True when the machine has checks and every one of them passes.
  public var checksPassing: Bool { !checks.isEmpty && checks.allSatisfy { $0.status == "passing" } }
}

/// The Fly Machines REST API calls `sync` makes. Implementations retry what may succeed when asked
/// again and throw `RemoteError` for anything else; no call ever logs a value.
public protocol FlyMachinesAPI: Sendable {
  func listSecrets(app: String) async throws -> [FlyAppSecret]
  /// One bulk update (`null` deletes); returns the new secrets version.
  func updateSecrets(app: String, values: [String: String]) async throws -> FlySecretsUpdate
  func listMachines(app: String) async throws -> [FlyMachine]
  func machine(app: String, id: String) async throws -> FlyMachine
  /// Updates the machine with its current config and `min_secrets_version`: Fly restarts it.
  func updateMachine(app: String, machine: FlyMachine, minSecretsVersion: Int) async throws -> FlyMachine
  /// Waits up to `timeout` seconds for the machine (instance) to be `started`; false when Fly's wait timed out.
  func waitStarted(app: String, machineID: String, instanceID: String?, timeout: Int) async throws -> Bool
}

/// A GitHub repository environment (`owner/repo` + environment name).
public struct GitHubEnvironment: Sendable, Hashable, CustomStringConvertible {
  public let repository: String
  public let environment: String
  public init(repository: String, environment: String) {
    self.repository = repository
    self.environment = environment
  }
  public var description: String { "\(repository):\(environment)" }
}

/// An environment's public key, to which secret values are sealed.
public struct GitHubPublicKey: Sendable, Equatable {
  public let keyID: String
  /// The 32-byte Curve25519 public key.
  public let key: [UInt8]
  public init(keyID: String, key: [UInt8]) {
    self.keyID = keyID
    self.key = key
  }
}

/// What GitHub says about an environment secret: never its value.
public struct GitHubSecret: Sendable, Equatable {
  public let name: String
  public let updatedAt: String
  public init(name: String, updatedAt: String) {
    self.name = name
    self.updatedAt = updatedAt
  }
}

/// The GitHub Actions environment-secrets calls `sync` makes.
public protocol GitHubSecretsAPI: Sendable {
  func publicKey(_ environment: GitHubEnvironment) async throws -> GitHubPublicKey
  /// Every secret of the environment (all pages).
  func listSecrets(_ environment: GitHubEnvironment) async throws -> [GitHubSecret]
  /// Creates or updates `name` with a value sealed to the key `keyID`.
  func putSecret(_ environment: GitHubEnvironment, name: String, encryptedValue: String, keyID: String) async throws
}
