import Foundation
import HotSecretsCompliance
import HotSecretsModel
import HotSecretsOperations
import HotSecretsVault
import VaultSQLite
import TestSupport
import Testing

/// What one run of the built `hotsecrets` binary did.
struct CLIResult {
  let status: Int32
  let stdoutData: Data
  let stderr: String
  var stdout: String { String(decoding: stdoutData, as: UTF8.self) }
  /// Everything the process printed, for "no secret in any output" checks.
  var allOutput: String { stdout + stderr }
}

/// Where an end-to-end test's vault lives: the same tests run on both (`@Test(arguments: Backend.allCases)`).
enum Backend: String, CaseIterable, Sendable, CustomStringConvertible {
  case file, postgres
  var description: String { rawValue }
}

/// Runs the built binary in a scratch directory with a clean environment, as a `ChildProcess`: tests run in
/// parallel and may serve loopback fakes the binary talks to, so no run ever blocks a Swift-concurrency thread.
final class CLIHarness: @unchecked Sendable {
  let directory: String
  /// Environment given to every run, on top of PATH and HOME; tests add to it.
  var environment: [String: String] = [:]

  static let binary: String = {
    // The test bundle sits next to the products it was built with.
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    var dir = (exe as NSString).deletingLastPathComponent
    for _ in 0..<4 {
      let candidate = dir + "/hotsecrets"
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
      dir = (dir as NSString).deletingLastPathComponent
    }
    return ProcessInfo.processInfo.environment["HOTSECRETS_BIN"] ?? "hotsecrets"
  }()

  init() throws {
    directory = FileManager.default.temporaryDirectory.path + "/hotsecrets-e2e-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
  }

  deinit { try? FileManager.default.removeItem(atPath: directory) }

  func path(_ relative: String) -> String { directory + "/" + relative }

  /// The environment of a run: PATH, HOME (the scratch directory) and USER, then `environment`, then `extra`.
  func runEnvironment(_ extra: [String: String] = [:]) -> [String: String] {
    var env = ["PATH": "/usr/bin:/bin", "HOME": directory, "USER": "tester"]
    env.merge(environment) { $1 }
    env.merge(extra) { $1 }
    return env
  }

  /// Runs `hotsecrets ARGS` with `stdin` and extra environment in the scratch directory; suspends (never blocks a
  /// Swift-concurrency thread) until it exits.
  @discardableResult
  func run(_ arguments: [String], stdin: String? = nil, env extra: [String: String] = [:]) async throws -> CLIResult {
    try await runProcess(Self.binary, arguments, stdin: stdin.map { Data($0.utf8) }, env: extra)
  }

  /// Runs `executable ARGS` as `run` does.
  func runProcess(_ executable: String, _ arguments: [String], stdin: Data?, env extra: [String: String]) async throws
    -> CLIResult
  {
    let output = try await ChildProcess.run(
      executable, arguments, environment: runEnvironment(extra), directory: directory, stdin: stdin)
    return CLIResult(
      status: output.status, stdoutData: output.stdout, stderr: String(decoding: output.stderr, as: UTF8.self))
  }

  /// Starts `hotsecrets ARGS` in the scratch directory with exactly `environment` and its output discarded, for
  /// tests that kill it part-way; await `output()` on the result for its end.
  func start(_ arguments: [String], environment: [String: String]) throws -> ChildProcess {
    try ChildProcess.spawn(
      Self.binary, arguments, environment: environment, directory: directory, output: .discard)
  }

  /// A vault unlocked by an identity file `ci.identity`, set through HOTSECRETS_IDENTITY: the default
  /// file, or (`.postgres`) a schema of its own on the tests' PostgreSQL server, set through
  /// HOTSECRETS_VAULT and HOTSECRETS_SCHEMA, so every later run uses it.
  static func withIdentityVault(_ backend: Backend = .file) async throws -> CLIHarness {
    let h = try CLIHarness()
    if backend == .postgres {
      let server = try await PostgresServer.started()
      h.environment["HOTSECRETS_VAULT"] = server.uri()
      h.environment["HOTSECRETS_SCHEMA"] = PostgresServer.schemaName()
    }
    let id = try await h.run(["identity", "new", "--out", "ci.identity"])
    try #require(id.status == 0)
    let recipient = id.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    try #require(try await h.run(["init", "--recipient", recipient, "--name", "ci"]).status == 0)
    h.environment["HOTSECRETS_IDENTITY"] = "ci.identity"
    return h
  }

  /// Writes `text` as ROOT/policies/ENV.yaml.
  func writePolicy(_ text: String, environment: String = "prod") throws {
    try FileManager.default.createDirectory(atPath: path("policies"), withIntermediateDirectories: true)
    try text.write(toFile: path("policies/\(environment).yaml"), atomically: true, encoding: .utf8)
  }

  func json(_ result: CLIResult) throws -> [String: Any] {
    try #require(JSONSerialization.jsonObject(with: result.stdoutData) as? [String: Any])
  }
}
