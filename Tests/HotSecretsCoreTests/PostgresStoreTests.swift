import Foundation
import TestSupport
import Testing

@testable import HotSecretsModel
@testable import HotSecretsOperations
@testable import HotSecretsVault
@testable import VaultPostgres

/// The PostgreSQL store against a real server the tests start (TestSupport.PostgresServer): the same
/// vault operations as on a file, the schema rules, the write lock and the rotation lock.
@Suite(.serialized) struct PostgresStoreTests {
  let server: PostgresServer
  let address: PostgresURI

  init() async throws {
    server = try await PostgresServer.started()
    address = try PostgresURI(server.uri(), schema: PostgresServer.schemaName())
  }

  func newVault(_ identity: Identity) throws -> VaultSession {
    try VaultAccess.create(
      in: try PostgresStore.create(address), firstRecipient: .x25519(identity.recipient), name: "pg", user: "tester")
  }

  @Test func aVaultInASchemaDoesWhatAFileDoes() async throws {
    let identity = try Identity.generate()
    let session = try newVault(identity)
    try session.set(try HotSecretsModel.SecretAddress(environment: "prod", service: "openai", key: "API_KEY"), value: Array("sk-1".utf8))
    try session.set(try SecretAddress(environment: "prod", service: "openai", key: "API_KEY"), value: Array("sk-2".utf8))
    // Reopened by another connection, unlocked by the same identity.
    let again = try VaultAccess.unlock(try PostgresStore.open(address), with: .identity(identity), user: "tester")
    let address = try SecretAddress(environment: "prod", service: "openai", key: "API_KEY")
    #expect(try again.get(address).copyBytes() == Array("sk-2".utf8))
    #expect(try again.history(address).map(\.version) == [2, 1])
    #expect(try again.list(environment: "prod").map(\.address.key) == ["API_KEY"])
    let audit = try again.verifyAudit(checkpoints: "/nonexistent/audit-checkpoints.log")
    #expect(audit.intact)
    // The server holds ciphertext only.
    let (_, dump) = await server.superuserAsync("SELECT encode(ciphertext, 'escape') FROM \(self.address.schema).secret_versions")
    #expect(!dump.contains("sk-2"))
  }

  @Test func schemasAreCheckedBeforeAnythingIsCreated() async throws {
    // Nothing there yet: open says so.
    #expect(throws: VaultError.self) { try PostgresStore.open(address) }
    // A schema of another application is refused, and left as it was.
    await server.superuserAsync("CREATE SCHEMA \(address.schema) AUTHORIZATION team; CREATE TABLE \(address.schema).orders (id int)")
    do {
      _ = try PostgresStore.create(address)
      Issue.record("created a vault in another application's schema")
    } catch let error as VaultError {
      #expect("\(error.localizedDescription)".contains("not a hotsecrets vault"))
    }
    let (_, tables) = await server.superuserAsync(
      "SELECT string_agg(table_name, ',') FROM information_schema.tables WHERE table_schema = '\(address.schema)'")
    #expect(tables.trimmingCharacters(in: .whitespacesAndNewlines) == "orders")
    // A vault there already: create refuses.
    let other = try PostgresURI(server.uri(), schema: PostgresServer.schemaName())
    _ = try VaultAccess.create(
      in: try PostgresStore.create(other), firstRecipient: .x25519(try Identity.generate().recipient), name: "a",
      user: "t")
    #expect(throws: VaultError.self) { try PostgresStore.create(other) }
  }

  @Test func aVaultOfANewerHotsecretsIsRefused() async throws {
    _ = try newVault(try Identity.generate())
    await server.superuserAsync("INSERT INTO \(address.schema).hotsecrets_migrations (identifier) VALUES ('v99-future')")
    #expect(throws: VaultError.unsupportedVaultFormat(found: VaultFormat.current + 1, supported: VaultFormat.current)) {
      try PostgresStore.open(address)
    }
  }

  @Test func aSecondWriterWaitsThenGetsBusy() throws {
    let identity = try Identity.generate()
    _ = try newVault(identity)
    let holder = try PostgresStore.open(address, busyTimeout: 5)
    let waiter = try PostgresStore.open(address, busyTimeout: 0.3)
    let started = Date()
    try holder.write { _ in
      #expect(throws: VaultError.busy(seconds: 0.3)) { try waiter.write { _ in } }
    }
    #expect(Date().timeIntervalSince(started) >= 0.3)
    // Once the first commits, the second writes.
    try waiter.write { _ in }
  }

  @Test func theRotationLockIsOnePerEnvironmentAndGoesWithItsHolder() throws {
    _ = try newVault(try Identity.generate())
    let store = try PostgresStore.open(address)
    var lock: AnyObject? = try store.rotationLock(environment: "prod")
    #expect(throws: RotationError.self) { try store.rotationLock(environment: "prod") }
    _ = try store.rotationLock(environment: "staging")
    _ = lock
    lock = nil
    _ = try store.rotationLock(environment: "prod")
  }

  @Test func passwordsNeverAppearInLocations() throws {
    #expect(PostgresURI.redact("postgresql://team:s3cret@db:5432/vaults?sslmode=require") == "postgresql://team:***@db:5432/vaults?sslmode=require")
    #expect(PostgresURI.redact("host=db password=s3cret user=team") == "host=db password=*** user=team")
    #expect(try PostgresURI("postgresql://h/db?options=-csearch_path%3Dteam_vault").schema == "team_vault")
    #expect(throws: PostgresURIError.self) { try PostgresURI("postgresql://h/db", schema: "Robert'); DROP") }
    // Another machine: TLS is required unless the URI asks for it; this machine is left as given.
    func info(_ uri: String) throws -> String { try PostgresURI(uri).connectionInfo() }
    #expect(try info("postgresql://u:p@db.example.com:5432/v") == "postgresql://u:p@db.example.com:5432/v?sslmode=require")
    #expect(try info("postgresql://db.example.com/v?connect_timeout=5").hasSuffix("?connect_timeout=5&sslmode=require"))
    #expect(try info("postgresql://db.example.com/v?sslmode=verify-full").hasSuffix("?sslmode=verify-full"))
    #expect(try info("postgresql://127.0.0.1:5432/v") == "postgresql://127.0.0.1:5432/v")
    // Anything that may reach another host counts as remote.
    for remote in [
      "postgresql:///v?host=db.example.com", "postgresql://localhost/v?hostaddr=203.0.113.7",
      "postgresql://localhost,db.example.com/v", "postgresql://[::1],db.example.com/v",
      "postgresql://127.0.0.1.nip.io/v", "postgresql://localhost/v?service=prod",
      "postgresql://localhost/v?application_name=sslmode=disable",
    ] {
      #expect(try !PostgresURI(remote).hostIsLocal || remote.contains("application_name"), "\(remote)")
    }
    #expect(try info("postgresql://localhost,db.example.com/v").hasSuffix("&sslmode=require") == false)
    #expect(try info("postgresql://localhost,db.example.com/v").hasSuffix("?sslmode=require"))
    // A mode that allows plain text to another host is refused before connecting.
    #expect(throws: PostgresURIError.plainText(mode: "prefer")) { try info("postgresql://db.example.com/v?sslmode=prefer") }
    #expect(throws: PostgresURIError.plainText(mode: "disable")) { try info("postgresql://db.example.com/v?sslmode=disable") }
    #expect(try PostgresURI("postgresql://localhost/v").hostIsLocal)
    #expect(try PostgresURI("postgresql://[::1]:5432/v").hostIsLocal)
    #expect(try PostgresURI("postgresql://%2Fvar%2Frun%2Fpostgresql/v").hostIsLocal)
    #expect(try !PostgresURI("postgresql://user@10.0.0.5/v").hostIsLocal)
    // Passwords with '?' or '#', and every password parameter, are redacted.
    #expect(PostgresURI.redact("postgresql://u:pa?ss@db/v") == "postgresql://u:***@db/v")
    #expect(PostgresURI.redact("postgresql://db/v?password=a&x=1&password=b") == "postgresql://db/v?password=***&x=1&password=***")
    #expect(PostgresURI.redact("postgresql://db/v?pass%77ord=a") == "postgresql://db/v?pass%77ord=***")
    #expect(try PostgresURI("postgresql://u:pa?ss@db/v").password == "pa?ss")
    let wrong = server.uri(password: "wrong-password")
    do {
      _ = try PostgresStore.open(try PostgresURI(wrong, schema: address.schema))
      Issue.record("connected with a wrong password")
    } catch {
      let text = "\(error)"
      #expect(!text.contains("wrong-password"))
      #expect(text.contains("password authentication failed"))
    }
  }
}
