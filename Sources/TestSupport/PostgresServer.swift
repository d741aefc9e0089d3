import Foundation

/// A PostgreSQL server of the tests' own: Debian's PostgreSQL (`apt-get install postgresql`),
/// `initdb` into a temporary folder and started on a free loopback port as the unprivileged
/// `postgres` user (PostgreSQL refuses to run as root), stopped when the test process ends.
///
/// Local socket connections are trusted (the harness's own set-up); TCP connections need a password
/// (SCRAM): the role `team` / `team-password` owns the database `vaults`, where each test gets a schema
/// of its own. No TLS: a URI asking for it is refused, which the bad-input tests use.
public final class PostgresServer: Sendable {
  public let port: Int
  public let directory: String
  public static let role = "team"
  public static let password = "team-password"
  public static let database = "vaults"

  /// The one server of this test process, started on first use; nil (with the reason) when
  /// PostgreSQL is not installed or does not start.
  public static let shared: Result<PostgresServer, PostgresServerError> = Result { () throws(PostgresServerError) in
    try start()
  }

  /// `shared`, awaited on a thread of its own: starting the server (initdb, pg_ctl) blocks for seconds,
  /// which must not take one of the few Swift-concurrency threads the loopback fakes and the other
  /// tests run on.
  public static func started() async throws -> PostgresServer {
    let result = await withCheckedContinuation { continuation in
      Thread.detachNewThread { continuation.resume(returning: shared) }
    }
    return try result.get()
  }

  /// `superuser(_:)` on a thread of its own (psql blocks), for async tests.
  @discardableResult
  public func superuserAsync(_ sql: String, database: String = PostgresServer.database) async -> (Int32, String) {
    await withCheckedContinuation { continuation in
      Thread.detachNewThread { continuation.resume(returning: self.superuser(sql, database: database)) }
    }
  }

  /// A URI for the test role over TCP, with `extra` query parameters.
  public func uri(password: String = PostgresServer.password, _ extra: String = "") -> String {
    "postgresql://\(Self.role):\(password)@127.0.0.1:\(port)/\(Self.database)" + (extra.isEmpty ? "" : "?\(extra)")
  }

  /// A fresh schema name for one test (`hs_` and 12 hex digits).
  public static func schemaName() -> String {
    "hs_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(12)
  }

  private init(port: Int, directory: String) {
    self.port = port
    self.directory = directory
  }

  static func binaries() -> String? {
    let root = "/usr/lib/postgresql"
    let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted()
    guard let newest = versions.last else { return nil }
    return "\(root)/\(newest)/bin"
  }

  static func start() throws(PostgresServerError) -> PostgresServer {
    guard let bin = binaries() else { throw PostgresServerError("PostgreSQL is not installed (apt-get install postgresql)") }
    let directory = NSTemporaryDirectory() + "hotsecrets-pg-" + UUID().uuidString.prefix(8)
    let data = directory + "/data"
    do {
      try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
    } catch {
      throw PostgresServerError("cannot create \(data)")
    }
    let port = freePort()
    if geteuid() == 0 { _ = shell("chown -R postgres:postgres '\(directory)' && chmod 700 '\(data)'") }
    let run = asPostgresUser
    var (status, output) = run(
      "'\(bin)/initdb' -D '\(data)' -U postgres --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --no-sync")
    guard status == 0 else { throw PostgresServerError("initdb failed: \(output)") }
    (status, output) = run(
      "'\(bin)/pg_ctl' -D '\(data)' -l '\(directory)/log' -w -t 30 -o \"-p \(port) -k '\(directory)' -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100\" start"
    )
    guard status == 0 else { throw PostgresServerError("pg_ctl start failed: \(output)") }
    // Two commands: CREATE DATABASE cannot run in the transaction one `-c` makes.
    for sql in ["CREATE ROLE \(role) LOGIN PASSWORD '\(password)'", "CREATE DATABASE \(database) OWNER \(role)"] {
      (status, output) = run("'\(bin)/psql' -X -h '\(directory)' -p \(port) -U postgres -d postgres -v ON_ERROR_STOP=1 -c \"\(sql)\"")
      guard status == 0 else { throw PostgresServerError("creating the test role and database failed: \(output)") }
    }
    atexit { if case .success(let server) = PostgresServer.shared { server.stopNow() } }
    return PostgresServer(port: port, directory: directory)
  }

  /// Runs SQL as the superuser over the local socket (for tests that play the database
  /// administrator); returns psql's exit status and output.
  @discardableResult
  public func superuser(_ sql: String, database: String = PostgresServer.database) -> (Int32, String) {
    guard let bin = Self.binaries() else { return (127, "no PostgreSQL") }
    let command = "'\(bin)/psql' -X -A -t -h '\(directory)' -p \(port) -U postgres -d \(database) -v ON_ERROR_STOP=1 -c \"\(sql.replacingOccurrences(of: "\"", with: "\\\""))\""
    return Self.asPostgresUser(command)
  }

  func stopNow() {
    guard let bin = Self.binaries() else { return }
    _ = Self.asPostgresUser("'\(bin)/pg_ctl' -D '\(directory)/data' -m immediate stop")
    try? FileManager.default.removeItem(atPath: directory)
  }

  /// `shell(command)` as the `postgres` user when this process is root (PostgreSQL refuses root).
  static func asPostgresUser(_ command: String) -> (Int32, String) {
    geteuid() == 0 ? shell("runuser -u postgres -- \(command)") : shell(command)
  }

  /// Runs `command` with /bin/sh; returns its status and combined output. The output goes through a
  /// file, not a pipe: the server `pg_ctl` starts would hold a pipe open for its whole life.
  static func shell(_ command: String) -> (Int32, String) {
    let log = NSTemporaryDirectory() + "hotsecrets-pg-shell-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: log) }
    // posix_spawn and waitpid: Foundation's Process.waitUntilExit can miss the child's exit in a
    // test process (it waits for a run loop's SIGCHLD handling).
    let arguments = ["/bin/sh", "-c", "(\(command)) > '\(log)' 2>&1 < /dev/null"]
    var argv = arguments.map { strdup($0) } + [nil]
    defer { for pointer in argv { free(pointer) } }
    // Nothing but 0, 1 and 2 is inherited: a fake's listening socket held by the long-lived server
    // would keep its port accepting connections after the fake stopped.
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    _ = LibC.shared.addCloseFrom(&actions, 3)
    var pid: pid_t = 0
    guard posix_spawn(&pid, "/bin/sh", &actions, nil, &argv, environ) == 0 else {
      return (127, "cannot run /bin/sh")
    }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let exit = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return (exit, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
  }

  /// A loopback port nothing listens on now and no fake of this process has used: a test that
  /// checks a stopped fake's port refuses connections must not find the server there.
  static func freePort() -> Int {
    while true {
      let port = anyFreePort()
      if FakeServer.usedPorts.withLock({ $0.insert(port).inserted }) { return port }
    }
  }

  private static func anyFreePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    }
    _ = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
  }
}

/// Why the tests' PostgreSQL server could not start.
public struct PostgresServerError: Error, CustomStringConvertible {
  public let description: String
  init(_ description: String) { self.description = description }
}
