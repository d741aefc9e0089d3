import Foundation

@testable import HotSecretsModel
@testable import HotSecretsOperations
@testable import RemoteAPIs

// In-memory stand-ins for the remote services, behind the same protocols the HTTP clients
// implement: for in-process tests of sync, rotation and target checks (no HTTP, no binary).

/// A Fly app in memory: its secrets and their digests; a bulk update can be made to fail.
final class MemoryFly: FlyMachinesAPI, @unchecked Sendable {
  private let lock = NSLock()
  var values: [String: String] = [:]
  var version = 0
  var refusal: RemoteError?
  /// Refuse every bulk update from this one on (1-based), with `refusal` or a 500.
  var refuseFrom: Int?
  var updates = 0
  /// The app's machines, as the Machines API lists them.
  var machines: [FlyMachine] = []

  func listSecrets(app: String) async throws -> [FlyAppSecret] {
    lock.withLock { values.map { FlyAppSecret(name: $0.key, digest: FlyDigest.of(Array($0.value.utf8)) ?? "", updatedAt: nil) } }
  }

  func updateSecrets(app: String, values new: [String: String]) async throws -> FlySecretsUpdate {
    try lock.withLock {
      updates += 1
      if let refusal, refuseFrom == nil { throw refusal }
      if let refuseFrom, updates >= refuseFrom {
        throw refusal ?? RemoteError(status: 500, reason: "fly answered HTTP 500")
      }
      values.merge(new) { $1 }
      version += 1
      return FlySecretsUpdate(version: version, secrets: [])
    }
  }

  func listMachines(app: String) async throws -> [FlyMachine] { lock.withLock { machines } }
  func machine(app: String, id: String) async throws -> FlyMachine { throw RemoteError(status: 404, reason: "none") }
  func updateMachine(app: String, machine: FlyMachine, minSecretsVersion: Int) async throws -> FlyMachine { machine }
  func waitStarted(app: String, machineID: String, instanceID: String?, timeout: Int) async throws -> Bool { true }
}

/// A credential provider in memory: mints `<prefix>-N` with id `cred-N`, knows which credentials are
/// live, and can be told to fail a mint or a revocation.
final class MemoryProvider: CredentialProvider, @unchecked Sendable {
  private let lock = NSLock()
  private var minted = 0
  /// Live credentials at the provider, by id.
  private(set) var live: [String: String] = [:]
  var failMint = false
  var failRevoke = false
  let singlePhase = false
  let prefix: String

  init(prefix: String = "sk-new", live: [String: String] = [:]) {
    self.prefix = prefix
    self.live = live
  }

  var liveValues: Set<String> { lock.withLock { Set(live.values) } }

  func mint(_ context: CredentialContext, current: String) async throws -> MintedCredential {
    try lock.withLock {
      if failMint { throw RemoteError(status: 500, reason: "provider answered HTTP 500") }
      minted += 1
      let value = "\(prefix)-\(minted)-0123456789abcdef"
      live["cred-\(minted)"] = value
      return MintedCredential(value: value, id: "cred-\(minted)")
    }
  }

  func test(_ context: CredentialContext, value: String) async -> LiveResult {
    lock.withLock { live.values.contains(value) ? .accepted : .rejected("unknown credential") }
  }

  func findID(_ context: CredentialContext, value: String) async throws -> String? {
    lock.withLock { live.first { $0.value == value }?.key }
  }

  func revoke(_ context: CredentialContext, id: String) async throws {
    try lock.withLock {
      if failRevoke { throw RemoteError(status: 500, reason: "provider answered HTTP 500") }
      live[id] = nil
    }
  }
}

/// Live probes in memory: health URLs answer `health`; everything else is accepted.
final class MemoryProbe: LiveProbe, @unchecked Sendable {
  private let lock = NSLock()
  private var healthResult: LiveResult = .accepted

  var health: LiveResult {
    get { lock.withLock { healthResult } }
    set { lock.withLock { healthResult = newValue } }
  }

  func check(_ check: LiveCheck) async -> LiveResult {
    if case .health = check { return health }
    return .accepted
  }
}
