import Foundation
import HotSecretsCompliance
import HotSecretsModel
import HotSecretsOperations
import HotSecretsVault
import VaultSQLite
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

/// Runs the built binary in a scratch directory with a clean environment.
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

  /// Runs `hotsecrets ARGS` with `stdin` and extra environment; waits for it to exit.
  @discardableResult
  func run(_ arguments: [String], stdin: String? = nil, env extra: [String: String] = [:]) throws -> CLIResult {
    try runProcess(Self.binary, arguments, stdin: stdin.map { Data($0.utf8) }, env: extra)
  }

  /// `run` on a Dispatch thread, so a test that serves loopback fakes from its own process does not
  /// hold a Swift-concurrency thread while the binary talks to them.
  func runAsync(_ arguments: [String], stdin: String? = nil, env extra: [String: String] = [:]) async throws
    -> CLIResult
  {
    try await withCheckedThrowingContinuation { continuation in
      DispatchQueue.global().async {
        continuation.resume(with: Result { try self.run(arguments, stdin: stdin, env: extra) })
      }
    }
  }

  func runProcess(_ executable: String, _ arguments: [String], stdin: Data?, env extra: [String: String]) throws
    -> CLIResult
  {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    var env = ["PATH": "/usr/bin:/bin", "HOME": directory, "USER": "tester"]
    env.merge(environment) { $1 }
    env.merge(extra) { $1 }
    process.environment = env
    let out = Pipe()
    let err = Pipe()
    let input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    try process.run()
    // POSIX reads and writes: FileHandle's legacy methods crash on EINTR.
    if let stdin { FileDescriptorIO.writeAll(input.fileHandleForWriting.fileDescriptor, Array(stdin)) }
    try input.fileHandleForWriting.close()
    // Drain both pipes concurrently so a chatty process cannot block on a full pipe.
    nonisolated(unsafe) var errData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
      errData = Data(FileDescriptorIO.readAll(err.fileHandleForReading.fileDescriptor) ?? [])
      group.leave()
    }
    let outData = Data(FileDescriptorIO.readAll(out.fileHandleForReading.fileDescriptor) ?? [])
    group.wait()
    process.waitUntilExit()
    return CLIResult(
      status: process.terminationStatus, stdoutData: outData, stderr: String(decoding: errData, as: UTF8.self))
  }

  /// A vault unlocked by an identity file `ci.identity`, set through HOTSECRETS_IDENTITY.
  static func withIdentityVault() throws -> CLIHarness {
    let h = try CLIHarness()
    let id = try h.run(["identity", "new", "--out", "ci.identity"])
    try #require(id.status == 0)
    let recipient = id.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    try #require(h.run(["init", "--recipient", recipient, "--name", "ci"]).status == 0)
    h.environment["HOTSECRETS_IDENTITY"] = "ci.identity"
    return h
  }

  /// `withIdentityVault()` and then `setup`, run on a Dispatch thread: async tests that serve loopback
  /// fakes must not block a Swift-concurrency thread on the binary.
  static func withIdentityVault(setup: @escaping @Sendable (CLIHarness) throws -> Void) async throws -> CLIHarness {
    try await withCheckedThrowingContinuation { continuation in
      DispatchQueue.global().async {
        continuation.resume(
          with: Result {
            let h = try withIdentityVault()
            try setup(h)
            return h
          })
      }
    }
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
