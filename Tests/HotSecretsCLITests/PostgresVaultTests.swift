import Foundation
import TestSupport
import Testing

/// The team vault on PostgreSQL end to end: many writers at once, a writer killed mid-transaction,
/// and bad addresses. (The commands' ordinary behaviour is checked on both backends by the suites
/// parametrised with `Backend`.)
@Suite(.endToEnd) struct PostgresVaultTests {
  /// 8 processes × 50 `set`s against one PostgreSQL vault: 400 new versions, nothing lost, one
  /// unbroken audit chain.
  @Test func eightWritersAtOnceLoseNothing() async throws {
    let h = try await CLIHarness.withIdentityVault(.postgres)
    let perWriter = 50
    let script = """
      for i in $(seq 1 \(perWriter)); do printf "$1-$i" | "$0" set prod "svc$1" KEY >/dev/null || exit 1; done
      """
    try await withThrowingTaskGroup(of: Int32.self) { group in
      for writer in 1...8 {
        group.addTask {
          try await h.runProcess("/bin/sh", ["-c", script, CLIHarness.binary, String(writer)], stdin: nil, env: [:])
            .status
        }
      }
      for try await status in group { #expect(status == 0) }
    }
    for writer in 1...8 {
      let history = try h.json(try await h.run(["history", "prod", "svc\(writer)", "KEY", "--format", "json"]))
      #expect((history["versions"] as? [[String: Any]])?.count == perWriter)
    }
    let audit = try await h.run(["audit", "verify"])
    #expect(audit.status == 0, "\(audit.allOutput)")
    // init, recipient-add, then one entry per version.
    #expect(audit.stdout.contains("audit chain intact: 402 entries"), "\(audit.stdout)")
  }

  /// A writer killed with SIGKILL in the middle of its transaction: what it had not committed is gone,
  /// what was committed stays, and the next writer does not wait for the dead one.
  @Test func aKilledWriterLosesOnlyItsOwnTransactionAndBlocksNobody() async throws {
    let h = try await CLIHarness.withIdentityVault(.postgres)
    try await h.run(["set", "prod", "app", "KEPT"], stdin: "committed-before")
    // A large import: one transaction of 5,000 keys, killed part-way.
    var tree = ""
    for i in 0..<5_000 { tree += "KEY_\(i)=value-\(i)\n" }
    try FileManager.default.createDirectory(atPath: h.path("vault/occ/big"), withIntermediateDirectories: true)
    try tree.write(toFile: h.path("vault/occ/big/prod.env"), atomically: true, encoding: .utf8)
    let child = try h.start(["import", "prod"], environment: h.runEnvironment())
    try await Task.sleep(for: .milliseconds(400))
    _ = child.signal(SIGKILL)
    _ = await child.output()
    let started = Date()
    let set = try await h.run(["set", "prod", "app", "AFTER"], stdin: "x", env: ["HOTSECRETS_BUSY_TIMEOUT": "20"])
    #expect(set.status == 0, "\(set.stderr)")
    #expect(Date().timeIntervalSince(started) < 10)
    let list = try await h.run(["list", "prod", "--format", "json"])
    let count = (try h.json(list)["secrets"] as? [Any])?.count ?? -1
    // Either the whole import committed before the kill, or none of it did.
    #expect(count == 2 || count == 5_002, "\(count)")
    #expect(try await h.run(["get", "prod", "app", "KEPT"]).stdout == "committed-before")
    #expect(try await h.run(["audit", "verify"]).status == 0)
  }

  /// Bad addresses fail with one line and exit 2, and create nothing.
  @Test func badAddressesAreOneLineErrors() async throws {
    let server = try await PostgresServer.started()
    let h = try CLIHarness()
    let identity = try await h.run(["identity", "new", "--out", "id"])
    let recipient = identity.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    let schema = PostgresServer.schemaName()
    let cases: [(String, String)] = [
      ("postgresql://team:\(PostgresServer.password)@127.0.0.1:1/vaults", "Connection refused"),
      (server.uri(password: "not-the-password"), "password authentication failed"),
      (server.uri("sslmode=require"), "server does not support SSL, but SSL was required"),
      ("postgresql://team:\(PostgresServer.password)@127.0.0.1:\(server.port)/vaultz", "database \"vaultz\" does not exist"),
      ("postgresql://team:\(PostgresServer.password)@127.0.0.1:\(server.port)/vaults?sslmdoe=require", "invalid URI query parameter"),
    ]
    for (uri, expected) in cases {
      let r = try await h.run(["init", "--recipient", recipient, "--vault", uri, "--schema", schema])
      #expect(r.status == 2, "\(uri)")
      #expect(r.stderr.contains(expected), "\(uri): \(r.stderr)")
      #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
      #expect(!r.stderr.contains("not-the-password") && !r.stderr.contains(PostgresServer.password))
    }
    // A schema of another application: refused, and nothing of ours is left in it.
    await server.superuserAsync("CREATE SCHEMA \(schema) AUTHORIZATION team; CREATE TABLE \(schema).orders (id int)")
    let other = try await h.run(["init", "--recipient", recipient, "--vault", server.uri(), "--schema", schema])
    #expect(other.status == 2)
    #expect(other.stderr.contains("is not a hotsecrets vault; choose another schema (--schema NAME or $HOTSECRETS_SCHEMA)"), "\(other.stderr)")
    let (_, tables) = await server.superuserAsync(
      "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '\(schema)' AND c.relkind = 'r'")
    #expect(tables.trimmingCharacters(in: .whitespacesAndNewlines) == "1")
    // And no schema was created by the failed attempts.
    let (_, schemas) = await server.superuserAsync("SELECT count(*) FROM pg_namespace WHERE nspname = '\(schema)'")
    #expect(schemas.trimmingCharacters(in: .whitespacesAndNewlines) == "1")
    // An invalid schema name is refused before connecting.
    let bad = try await h.run(["list", "--vault", server.uri(), "--schema", "Robert'); DROP"])
    #expect(bad.status == 2)
    #expect(bad.stderr.contains("invalid schema name"))
  }

  /// `vault copy` file → PostgreSQL → file: the same vault each time (every table's rows and digest),
  /// readable with the same identity, its chain verifying against the committed checkpoints; a
  /// destination that holds a vault is refused.
  @Test func vaultCopyRoundTripsExactly() async throws {
    let server = try await PostgresServer.started()
    let h = try await CLIHarness.withIdentityVault()
    try await h.run(["set", "prod", "openai", "API_KEY"], stdin: "sk-copy-1")
    try await h.run(["set", "prod", "openai", "API_KEY"], stdin: "sk-copy-2")
    try await h.run(["set", "prod", "app", "GONE"], stdin: "x")
    try await h.run(["rm", "prod", "app", "GONE", "--yes"])
    let bob = try await h.run(["identity", "new", "--out", "bob.identity"])
    try await h.run(["recipients", "add", bob.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "--name", "bob"])
    try await h.run(["recipients", "remove", "2", "--yes"])
    #expect(try await h.run(["audit", "checkpoint"]).status == 0)
    let schema = PostgresServer.schemaName()
    let toPostgres = try await h.run(
      ["vault", "copy", "--from", "vault/hotsecrets.db", "--to", server.uri(), "--to-schema", schema, "--format", "json"])
    #expect(toPostgres.status == 0, "\(toPostgres.stderr)")
    let first = try h.json(toPostgres)
    #expect(first["verified"] as? Bool == true)
    #expect(first["checkpoints"] as? Int == 1)
    #expect(!toPostgres.allOutput.contains(PostgresServer.password))
    let pg = ["HOTSECRETS_VAULT": server.uri(), "HOTSECRETS_SCHEMA": schema]
    #expect(try await h.run(["get", "prod", "openai", "API_KEY"], env: pg).stdout == "sk-copy-2")
    #expect(try await h.run(["history", "prod", "openai", "API_KEY"], env: pg).stdout.contains("previous"))
    let audit = try await h.run(["audit", "verify"], env: pg)
    #expect(audit.status == 0, "\(audit.allOutput)")
    #expect(audit.stdout.contains("checkpoints: 1 verified"))
    // The copy goes on as the same vault: a write there, then back to a new file.
    try await h.run(["set", "prod", "openai", "API_KEY"], stdin: "sk-copy-3", env: pg)
    let back = try await h.run(
      ["vault", "copy", "--from", server.uri(), "--from-schema", schema, "--to", "back.db", "--format", "json"])
    #expect(back.status == 0, "\(back.stderr)")
    #expect(try await h.run(["get", "prod", "openai", "API_KEY", "--vault", "back.db"]).stdout == "sk-copy-3")
    #expect(try await h.run(["audit", "verify", "--vault", "back.db"]).status == 0)
    let tables = { (json: [String: Any]) in (json["tables"] as? [[String: Any]] ?? []).map { "\($0["table"]!)=\($0["rows"]!)" } }
    // bob's exposures to the two versions stored while he could read them moved too.
    #expect(tables(first).contains { $0.hasPrefix("exposures=") && $0 != "exposures=0" })
    let backJSON = try h.json(back)
    #expect(backJSON["verified"] as? Bool == true)
    #expect(tables(backJSON).contains("audit_log=\(backJSON["audit_entries"] as? Int ?? -1)"))
    // A destination that holds a vault is refused, and left as it was.
    let again = try await h.run(["vault", "copy", "--from", "vault/hotsecrets.db", "--to", server.uri(), "--to-schema", schema])
    #expect(again.status == 2)
    #expect(again.stderr.contains("a vault already exists"))
    #expect(try await h.run(["get", "prod", "openai", "API_KEY"], env: pg).stdout == "sk-copy-3")
    let toFile = try await h.run(["vault", "copy", "--from", "vault/hotsecrets.db", "--to", "back.db"])
    #expect(toFile.status == 2)
  }


  /// Shell completion reads a PostgreSQL vault's names too, without unlocking.
  @Test func completionNamesComeFromAPostgresVault() async throws {
    let h = try await CLIHarness.withIdentityVault(.postgres)
    try await h.run(["set", "prod", "openai", "API_KEY"], stdin: "sk-1")
    let line = ["hotsecrets", "get", "prod", ""]
    let r = try await h.run(
      ["---completion", "get", "--", "positional@1", String(line.count - 1), "0"] + line, env: ["HOTSECRETS_IDENTITY": ""])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout == "openai\n")
  }


  /// What docs/team.md says a database administrator's edits do: a deleted secret, a value moved to
  /// another secret and the newest audit entries truncated are each detected; no value is readable.
  @Test func aDatabaseAdministratorsEditsAreDetected() async throws {
    let server = try await PostgresServer.started()
    let h = try await CLIHarness.withIdentityVault(.postgres)
    let schema = try #require(h.environment["HOTSECRETS_SCHEMA"])
    try await h.run(["set", "prod", "openai", "API_KEY"], stdin: "sk-dba-canary-1")
    try await h.run(["set", "prod", "app", "OTHER"], stdin: "other-canary")
    #expect(try await h.run(["audit", "checkpoint"]).status == 0)
    let (_, dump) = await server.superuserAsync("SELECT encode(ciphertext, 'escape') FROM \(schema).secret_versions")
    #expect(!dump.contains("canary"))

    // A ciphertext moved from one secret to another: an integrity error, never the other value.
    await server.superuserAsync(
      """
      UPDATE \(schema).secret_versions SET nonce = o.nonce, ciphertext = o.ciphertext
      FROM (SELECT v.nonce, v.ciphertext FROM \(schema).secret_versions v JOIN \(schema).secrets s ON s.id = v.secret_id WHERE s.key = 'OTHER') o
      WHERE secret_id = (SELECT id FROM \(schema).secrets WHERE key = 'API_KEY')
      """)
    let moved = try await h.run(["get", "prod", "openai", "API_KEY"])
    #expect(moved.status == 2)
    #expect(!moved.allOutput.contains("canary"))

    // A secret's rows deleted: its environment's set no longer matches.
    await server.superuserAsync(
      "DELETE FROM \(schema).secret_versions WHERE secret_id = (SELECT id FROM \(schema).secrets WHERE key = 'OTHER'); DELETE FROM \(schema).secrets WHERE key = 'OTHER'")
    let listed = try await h.run(["list", "prod"])
    #expect(listed.status == 2, "\(listed.allOutput)")
    #expect(listed.stderr.contains("integrity"), "\(listed.stderr)")

    // The newest audit entries truncated: the committed checkpoint names the gap.
    await server.superuserAsync("DELETE FROM \(schema).audit_log WHERE seq > 3")
    let audit = try await h.run(["audit", "verify"])
    #expect(audit.status == 1, "\(audit.allOutput)")
    #expect(audit.stdout.contains("is not in the audit chain"), "\(audit.stdout)")
  }

}
