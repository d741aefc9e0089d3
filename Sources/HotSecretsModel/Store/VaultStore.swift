import Foundation

/// Where a vault is kept: everything the vault needs from storage, and nothing else.
///
/// The store holds what the vault file holds (ciphertexts, fingerprints, MACs, metadata) and never
/// a key or a plaintext value: encryption, MACs and every integrity check happen above it. A
/// backend is an implementation of this protocol and of the repositories of `StoreTransaction`
/// with its own SQL dialect: SQLite (`SQLiteStore`, the default) today.
public protocol VaultStore: Sendable {
  /// Where the store is, as a user names it (a file path), for messages.
  var location: String { get }

  /// Runs `body` in one write transaction: all of its changes commit, or none do. A second writer
  /// waits up to the store's busy timeout, then gets `VaultError.busy`. Storage errors arrive as
  /// `VaultError` (never with SQL arguments, which may hold ciphertext).
  func write<T>(_ body: (any StoreTransaction) throws -> T) throws -> T

  /// Runs `body` against one consistent snapshot. Must not change anything.
  func read<T>(_ body: (any StoreTransaction) throws -> T) throws -> T

  /// Takes the exclusive lock of `environment`'s rotation runs, or throws `RotationError.busy` when
  /// another process holds it. Held until the returned value is released; the lock goes with the
  /// process (or connection) that holds it, so an unfinished run whose lock is free was interrupted.
  func rotationLock(environment: String) throws -> AnyObject

  /// Deletes a store whose creation failed before it held a vault (`VaultAccess.create`).
  func discard()
}

/// One transaction (or read snapshot) on a vault's store, by concern.
public protocol StoreTransaction {
  var header: any VaultHeaderRepository { get }
  var recipients: any RecipientRepository { get }
  var secrets: any SecretRepository { get }
  var audit: any AuditRepository { get }
  var journal: any RotationJournalRepository { get }
  var ledger: any PushLedgerRepository { get }
  var signingKey: any SigningKeyRepository { get }
  /// Whole tables, for `vault copy`.
  var tables: any TableCopyRepository { get }
}

// MARK: - Header

/// The one-row vault header: id, format, key check, key epoch and keyring, recipients MAC.
public protocol VaultHeaderRepository {
  /// The header, or nil when the store has none (an interrupted `init`).
  func read() throws -> VaultMetaRecord?
  func insert(_ header: VaultMetaRecord) throws
  /// The key epoch (0 for a vault never re-keyed).
  func epoch() throws -> Int
  /// Records a re-key: the new epoch, its sealed keyring and key check.
  func setKeys(epoch: Int, keyringNonce: [UInt8], keyring: [UInt8], keyCheck: String) throws
  /// The MAC over the recipients and exposures (`RecipientSet`), nil when never written.
  func recipientsMAC() throws -> Data?
  func setRecipientsMAC(_ mac: [UInt8]) throws
}

// MARK: - Recipients and exposures

/// Recipient rows (removed ones kept, their wraps erased) and the versions each removed recipient
/// could have read.
public protocol RecipientRepository {
  /// Every recipient, removed ones included, in id order.
  func all() throws -> [RecipientRecord]
  /// The recipients not removed, in id order.
  func active() throws -> [RecipientRecord]
  /// One recipient, removed or not.
  func find(id: Int64) throws -> RecipientRecord?
  /// Inserts `record` and sets its id.
  func insert(_ record: inout RecipientRecord) throws
  /// Rewrites the row of `record.id`.
  func update(_ record: RecipientRecord) throws

  /// Records as exposed to `recipientID` every version whose ciphertext is still stored and every
  /// version created since `addedAt`; returns how many rows were added.
  func recordExposures(recipientID: Int64, addedAt: String) throws -> Int
  /// Every exposure row, ordered by recipient, secret and version.
  func exposures() throws -> [ExposureRow]
  /// The removed recipients version `version` of `secretID` is exposed to, comma-separated ids in
  /// ascending order ("" for none): what a head stores.
  func exposedRecipients(secretID: Int64, version: Int) throws -> String
  /// `environment`'s exposures grouped by recipient and secret, ordered by recipient, service, key.
  func exposureSummaries(environment: String) throws -> [ExposureSummaryRow]
}

/// One row of the exposures table.
public struct ExposureRow: Sendable, Equatable {
  public let recipientID: Int64
  public let secretID: Int64
  public let version: Int

  package init(recipientID: Int64, secretID: Int64, version: Int) {
    self.recipientID = recipientID
    self.secretID = secretID
    self.version = version
  }
}

/// One removed recipient's exposure to one secret, as stored.
public struct ExposureSummaryRow: Sendable {
  public let recipientID: Int64
  public let service: String
  public let key: String
  /// The versions recorded, in no particular order.
  public let versions: [Int]
  /// The version the secret's head says is current (nil when removed).
  public let headVersion: Int?
  /// Creation time of that version.
  public let headCreatedAt: String?

  package init(
    recipientID: Int64, service: String, key: String, versions: [Int], headVersion: Int? = nil,
    headCreatedAt: String? = nil
  ) {
    self.recipientID = recipientID
    self.service = service
    self.key = key
    self.versions = versions
    self.headVersion = headVersion
    self.headCreatedAt = headCreatedAt
  }
}

// MARK: - Secrets, versions and heads

/// Secrets, their versions (ciphertexts), their authenticated heads and each environment's set.
public protocol SecretRepository {
  /// The rows of `address` joined with its current version (none, one, or — in a tampered store —
  /// several), with the highest version number ever written.
  func rows(at address: SecretAddress, ciphertexts: Bool) throws -> [SecretRow]
  /// The rows of every secret (of `environment` when given), joined with their current versions,
  /// ordered by environment, service and key.
  func rows(in environment: String?, ciphertexts: Bool) throws -> [SecretRow]
  /// Every secret's row with the exposures recorded for its current version (comma-separated
  /// recipient ids, ascending), in id order: for checking and rebuilding every head.
  func rowsWithRecordedExposures() throws -> [(row: SecretRow, recorded: String)]
  /// Every version of `address`, newest first.
  func versions(of address: SecretAddress) throws -> [SecretVersionRecord]
  /// The head a secret's row stores.
  func head(secretID: Int64) throws -> StoredHead?
  /// The current version's number, fingerprint and nonce of `secretID`, when it has one.
  func currentVersion(secretID: Int64) throws -> (version: Int, fingerprint: String, nonce: Data)?
  func setHead(secretID: Int64, version: Int?, exposed: String, mac: [UInt8]) throws
  /// The head MACs stored for `environment`'s secrets (nil where a row has none).
  func headMACs(environment: String) throws -> [Data?]
  func environmentHead(_ environment: String) throws -> EnvironmentHead?
  func setEnvironmentHead(_ environment: String, _ head: EnvironmentHead) throws
  /// Environments that have a stored set.
  func environmentsWithHeads() throws -> Set<String>
  func deleteEnvironmentHeads() throws

  /// Creates the secret row of `address`; returns its id.
  func insertSecret(_ address: SecretAddress, createdAt: String) throws -> Int64
  /// current → previous, previous → retired.
  func demoteCurrent(secretID: Int64) throws
  func insertVersion(_ version: NewVersion) throws
  /// Makes `version` (pending) current; false when there is no such pending version.
  func promotePending(secretID: Int64, version: Int) throws -> Bool
  /// Every version of `secretID` becomes `removed`, its ciphertext erased.
  func removeAll(secretID: Int64) throws
  /// A pending `version` of `address` becomes `failed`, its ciphertext erased.
  func failPending(_ address: SecretAddress, version: Int) throws
  /// The fingerprint of one version.
  func fingerprint(_ address: SecretAddress, version: Int) throws -> String?
  /// One version's nonce and ciphertext, when it still has a ciphertext.
  func sealedValue(_ address: SecretAddress, version: Int) throws -> (nonce: [UInt8], ciphertext: [UInt8])?
  /// Every version that still has a ciphertext (for a re-key).
  func sealedValues() throws -> [SealedVersion]
  func reseal(versionID: Int64, nonce: [UInt8], ciphertext: [UInt8]) throws
  /// Another secret whose current or pending version holds the same value (by fingerprint) as
  /// `address` version `version`, as `env/service/KEY`; nil when none.
  func sharedValue(_ address: SecretAddress, version: Int) throws -> String?
}

/// A secret's row joined with its current version.
public struct SecretRow: Sendable {
  public let id: Int64
  public let address: SecretAddress
  public let head: StoredHead
  /// nil when the secret has no current version row.
  public let current: CurrentVersionRow?
  /// Highest version number ever written (0 when none).
  public let maxVersion: Int

  public init(id: Int64, address: SecretAddress, head: StoredHead, current: CurrentVersionRow?, maxVersion: Int) {
    self.id = id
    self.address = address
    self.head = head
    self.current = current
    self.maxVersion = maxVersion
  }
}

/// What a secret's row records as its head (see `SecretHeads`).
public struct StoredHead: Sendable {
  public let version: Int?
  public let exposed: String
  public let mac: Data?

  public init(version: Int?, exposed: String, mac: Data?) {
    self.version = version
    self.exposed = exposed
    self.mac = mac
  }
}

/// A current version's row. `ciphertext` is empty unless it was asked for.
public struct CurrentVersionRow: Sendable {
  public let version: Int
  public let createdAt: String
  public let fingerprint: String
  public let nonce: [UInt8]
  public let ciphertext: [UInt8]

  public init(version: Int, createdAt: String, fingerprint: String, nonce: [UInt8], ciphertext: [UInt8]) {
    self.version = version
    self.createdAt = createdAt
    self.fingerprint = fingerprint
    self.nonce = nonce
    self.ciphertext = ciphertext
  }
}

/// An environment's stored set: its number of secrets, the XOR of their head MACs (hex) and the MAC.
public struct EnvironmentHead: Sendable, Equatable {
  public let secrets: Int
  public let digest: String
  public let mac: String

  public init(secrets: Int, digest: String, mac: String) {
    self.secrets = secrets
    self.digest = digest
    self.mac = mac
  }
}

/// A version to insert.
public struct NewVersion: Sendable {
  public let secretID: Int64
  public let version: Int
  public let state: VersionState
  public let createdAt: String
  public let source: VersionSource
  public let fingerprint: String
  public let nonce: [UInt8]
  public let ciphertext: [UInt8]

  package init(
    secretID: Int64, version: Int, state: VersionState, createdAt: String, source: VersionSource, fingerprint: String,
    nonce: [UInt8], ciphertext: [UInt8]
  ) {
    self.secretID = secretID
    self.version = version
    self.state = state
    self.createdAt = createdAt
    self.source = source
    self.fingerprint = fingerprint
    self.nonce = nonce
    self.ciphertext = ciphertext
  }
}

/// A stored ciphertext, for re-encryption.
public struct SealedVersion: Sendable {
  public let id: Int64
  public let address: SecretAddress
  public let version: Int
  public let nonce: [UInt8]
  public let ciphertext: [UInt8]

  package init(id: Int64, address: SecretAddress, version: Int, nonce: [UInt8], ciphertext: [UInt8]) {
    self.id = id
    self.address = address
    self.version = version
    self.nonce = nonce
    self.ciphertext = ciphertext
  }
}

// MARK: - Audit

/// The append-only audit trail's rows.
public protocol AuditRepository {
  /// The last entry's seq and hash, nil for an empty trail.
  func head() throws -> (seq: Int64, hash: String)?
  func append(_ entry: AuditEntry) throws
  /// Calls `visit` with every entry after `seq`, in seq order, until it returns false.
  func scan(after seq: Int64, _ visit: (AuditEntry) throws -> Bool) throws
  /// The hash of entry `seq`, nil when there is none.
  func hash(seq: Int64) throws -> String?
}

// MARK: - Rotation journal

/// Rotation runs, their items (each step journaled before the next begins) and the providers' ids
/// of the credentials minted.
public protocol RotationJournalRepository {
  /// The run of `environment` still `running`, if any.
  func unfinished(environment: String) throws -> RotationRunRecord?
  func run(id: Int64) throws -> RotationRunRecord?
  /// Starts a run with its items (state `running`, step `plan`); returns its id.
  func begin(
    environment: String, items: [RotationItem], deploy: String, revokeOld: String, actor: String, at: String
  ) throws -> Int64
  func items(run: Int64) throws -> [RotationItem]
  func update(_ item: RotationItem, run: Int64, at: String) throws
  func setStep(_ step: RotationStep, run: Int64) throws
  func finish(run: Int64, state: String, error: String?, at: String) throws
  func credentialID(environment: String, name: ServiceKey, version: Int) throws -> String?
  func recordCredentialID(_ id: String, environment: String, name: ServiceKey, version: Int) throws
  /// Records that the operator revoked by hand `name`'s credentials hotsecrets left live; returns
  /// the run concerned. Throws `RotationError.notPendingRevocation` when there is none.
  func confirmRevoked(environment: String, name: ServiceKey) throws -> Int64
  /// Keys whose previous credential is still live after their latest rotation.
  func liveOldCredentials(environment: String) throws -> [(ServiceKey, Revocation)]
  /// New credentials of failed rotations still live at the provider: revoking failed (`failed`), or
  /// kept because a target may run them (`live`).
  func orphanNewCredentials(environment: String) throws -> [OrphanCredential]
  /// The items of `environment`'s runs whose new value is `live` (kept after an incomplete rollback),
  /// by run and position.
  func liveNewValues(environment: String) throws -> [(run: Int64, item: RotationItem)]
  /// The latest done item of each key whose old credential was deferred (a staged Fly app), by key.
  func deferredOldCredentials(environment: String) throws -> [(run: Int64, item: RotationItem)]
  /// Every item of `environment`'s runs started within [since, until], by run and position.
  func history(environment: String, since: String, until: String) throws -> [RotationHistoryRow]
}

/// A new credential a failed run left live at the provider.
public struct OrphanCredential: Sendable, Equatable {
  public let name: ServiceKey
  public let run: Int64
  public let mode: String
  /// `failed` (revoking it failed) or `live` (kept: a target may run it).
  public let revocation: Revocation
  /// Its version in the vault (kept with its ciphertext while `live`).
  public let version: Int?

  package init(name: ServiceKey, run: Int64, mode: String, revocation: Revocation, version: Int?) {
    self.name = name
    self.run = run
    self.mode = mode
    self.revocation = revocation
    self.version = version
  }
}

/// One key of one run, for compliance evidence.
public struct RotationHistoryRow: Sendable {
  public let run: Int64
  public let startedAt: String
  public let finishedAt: String?
  public let runState: String
  public let actorUser: String
  public let item: RotationItem

  package init(
    run: Int64, startedAt: String, finishedAt: String? = nil, runState: String, actorUser: String, item: RotationItem
  ) {
    self.run = run
    self.startedAt = startedAt
    self.finishedAt = finishedAt
    self.runState = runState
    self.actorUser = actorUser
    self.item = item
  }
}

// MARK: - Push ledger

/// What `sync` pushed where (GitHub never gives values back), each Fly app's secrets version and
/// the version each machine was restarted with.
public protocol PushLedgerRepository {
  func entries(environment: String, target: String) throws -> [String: PushLedgerEntry]
  func record(_ entry: PushLedgerEntry, environment: String) throws
  func secretsVersion(environment: String, target: String) throws -> Int?
  func recordSecretsVersion(_ version: Int, environment: String, target: String, at: String) throws
  func machineVersions(environment: String, target: String) throws -> [String: Int]
  func recordMachineVersion(_ version: Int, machine: String, environment: String, target: String, at: String) throws
}

// MARK: - Signing key

/// The vault's audit-checkpoint signing key (one row, created on first use).
public protocol SigningKeyRepository {
  func read() throws -> SigningKeyRecord?
  func insert(_ record: SigningKeyRecord) throws
  func reseal(nonce: [UInt8], ciphertext: [UInt8]) throws
}
