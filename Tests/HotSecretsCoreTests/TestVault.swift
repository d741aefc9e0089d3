import Foundation
import GRDB
import Testing

@testable import HotSecretsCompliance
@testable import HotSecretsModel
@testable import HotSecretsPolicy
@testable import HotSecretsVault
@testable import RemoteAPIs
@testable import VaultSQLite

/// A scratch folder removed when the value goes away.
final class ScratchDirectory {
  let path: String

  init() throws {
    let base = FileManager.default.temporaryDirectory.path + "/hotsecrets-core-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
    path = base
  }

  deinit { try? FileManager.default.removeItem(atPath: path) }

  func file(_ name: String) -> String { path + "/" + name }
}

/// A vault with one X25519 recipient, for tests that do not care about passphrases.
struct TestVault {
  let scratch: ScratchDirectory
  let identity: Identity
  var session: VaultSession
  var path: String { scratch.file("vault/hotsecrets.db") }

  init(now: @escaping @Sendable () -> Date = Date.init) throws {
    scratch = try ScratchDirectory()
    identity = try Identity.generate()
    session = try VaultAccess.create(
      path: scratch.file("vault/hotsecrets.db"), firstRecipient: .x25519(identity.recipient), name: "test",
      user: "tester", now: now)
  }

  func reopen() throws -> VaultSession {
    try VaultAccess.unlock(try SQLiteStore.open(path: path), with: .identity(identity), user: "tester")
  }

  /// Raw SQL against the file, bypassing the core (to simulate tampering).
  func tamper(_ sql: String, _ arguments: StatementArguments = []) throws {
    let queue = try DatabaseQueue(path: path)
    try queue.write { db in try db.execute(sql: sql, arguments: arguments) }
  }
}

func address(_ env: String = "prod", _ service: String = "openai", _ key: String = "API_KEY") throws -> SecretAddress {
  try SecretAddress(environment: env, service: service, key: key)
}

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

extension VaultAccess {
  /// `create(in:…)` in a new SQLite file at `path`.
  static func create(
    path: String, firstRecipient: NewRecipient, name: String?, user: String,
    now: @escaping @Sendable () -> Date = Date.init
  ) throws -> VaultSession {
    try create(in: try SQLiteStore.create(path: path), firstRecipient: firstRecipient, name: name, user: user, now: now)
  }
}

extension VaultSession {
  /// The SQLite store behind this session, for tests that read or edit the file directly.
  var sqlite: SQLiteStore { database as! SQLiteStore }
}

extension SQLiteTransaction {
  /// Every audit entry, in seq order.
  func auditEntries() throws -> [AuditEntry] {
    var entries: [AuditEntry] = []
    try scan(after: 0) { entries.append($0); return true }
    return entries
  }
}
