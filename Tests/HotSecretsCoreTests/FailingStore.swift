import Foundation

@testable import HotSecretsModel

/// A store that fails one chosen rotation-journal write, through the store's protocols: every other
/// call goes to the real store. `journalWrites` counts the journal writes seen, so a test can first
/// count a clean run's writes and then fail each of them in turn.
final class FailingStore: VaultStore, @unchecked Sendable {
  struct InjectedFailure: Error, Equatable {}

  let base: any VaultStore
  private let lock = NSLock()
  private var writes = 0
  /// The 1-based journal write that throws `InjectedFailure`; nil: none.
  var failAt: Int?

  init(_ base: any VaultStore, failAt: Int? = nil) {
    self.base = base
    self.failAt = failAt
  }

  var journalWrites: Int { lock.withLock { writes } }

  /// Counts one journal write; throws at the chosen one.
  fileprivate func journalWrite() throws {
    let count = lock.withLock {
      writes += 1
      return writes
    }
    if count == failAt { throw InjectedFailure() }
  }

  var location: String { base.location }
  func write<T>(_ body: (any StoreTransaction) throws -> T) throws -> T {
    try base.write { try body(Transaction(base: $0, store: self)) }
  }
  func read<T>(_ body: (any StoreTransaction) throws -> T) throws -> T {
    try base.read { try body(Transaction(base: $0, store: self)) }
  }
  func rotationLock(environment: String) throws -> AnyObject { try base.rotationLock(environment: environment) }
  func discard() { base.discard() }

  private struct Transaction: StoreTransaction {
    let base: any StoreTransaction
    let store: FailingStore
    var header: any VaultHeaderRepository { base.header }
    var recipients: any RecipientRepository { base.recipients }
    var secrets: any SecretRepository { base.secrets }
    var audit: any AuditRepository { base.audit }
    var journal: any RotationJournalRepository { Journal(base: base.journal, store: store) }
    var ledger: any PushLedgerRepository { base.ledger }
    var signingKey: any SigningKeyRepository { base.signingKey }
    var tables: any TableCopyRepository { base.tables }
  }

  private struct Journal: RotationJournalRepository {
    let base: any RotationJournalRepository
    let store: FailingStore

    func unfinished(environment: String) throws -> RotationRunRecord? { try base.unfinished(environment: environment) }
    func run(id: Int64) throws -> RotationRunRecord? { try base.run(id: id) }
    func begin(
      environment: String, items: [RotationItem], deploy: String, revokeOld: String, actor: String, at: String
    ) throws -> Int64 {
      try store.journalWrite()
      return try base.begin(
        environment: environment, items: items, deploy: deploy, revokeOld: revokeOld, actor: actor, at: at)
    }
    func items(run: Int64) throws -> [RotationItem] { try base.items(run: run) }
    func update(_ item: RotationItem, run: Int64, at: String) throws {
      try store.journalWrite()
      try base.update(item, run: run, at: at)
    }
    func setStep(_ step: RotationStep, run: Int64) throws {
      try store.journalWrite()
      try base.setStep(step, run: run)
    }
    func finish(run: Int64, state: String, error: String?, at: String) throws {
      try store.journalWrite()
      try base.finish(run: run, state: state, error: error, at: at)
    }
    func credentialID(environment: String, name: ServiceKey, version: Int) throws -> String? {
      try base.credentialID(environment: environment, name: name, version: version)
    }
    func recordCredentialID(_ id: String, environment: String, name: ServiceKey, version: Int) throws {
      try store.journalWrite()
      try base.recordCredentialID(id, environment: environment, name: name, version: version)
    }
    func confirmRevoked(environment: String, name: ServiceKey) throws -> Int64 {
      try store.journalWrite()
      return try base.confirmRevoked(environment: environment, name: name)
    }
    func liveOldCredentials(environment: String) throws -> [(ServiceKey, Revocation)] {
      try base.liveOldCredentials(environment: environment)
    }
    func orphanNewCredentials(environment: String) throws -> [OrphanCredential] {
      try base.orphanNewCredentials(environment: environment)
    }
    func liveNewValues(environment: String) throws -> [(run: Int64, item: RotationItem)] {
      try base.liveNewValues(environment: environment)
    }
    func deferredOldCredentials(environment: String) throws -> [(run: Int64, item: RotationItem)] {
      try base.deferredOldCredentials(environment: environment)
    }
    func history(environment: String, since: String, until: String) throws -> [RotationHistoryRow] {
      try base.history(environment: environment, since: since, until: until)
    }
  }
}
