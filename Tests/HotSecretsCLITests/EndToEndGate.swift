import Foundation
import TestSupport
import Testing

/// A suite trait for tests that run the built binary: at most `width` of their test cases run at once (twice the
/// processor count, at least 2); the others wait for a slot, suspended, holding no thread.
///
/// Swift Testing starts every test case of a parallel run at once, and a test awaiting its child process holds no
/// thread. Unbounded, some 20 `hotsecrets` processes ran together on 2 cores, each talking to loopback fakes served
/// from this process, all of them on the fakes' 2 threads: fakes did not even start listening within 10 s, requests
/// timed out (about 150 issues in a full run). Bounded, the cores stay busy and the fakes answer. Timings a test
/// measures start once its slot is granted.
struct EndToEnd: SuiteTrait, TestTrait, TestScoping {
  static let width = max(2, 2 * ProcessInfo.processInfo.activeProcessorCount)
  static let slots = AsyncGate(capacity: width)

  var isRecursive: Bool { true }

  /// Each test case (of every test in the suite) takes a slot; the suite itself does not.
  func scopeProvider(for test: Test, testCase: Test.Case?) -> Self? { testCase == nil ? nil : self }

  func provideScope(
    for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
  ) async throws {
    await Self.slots.acquire()
    defer { Self.slots.release() }
    try await function()
  }
}

extension Trait where Self == EndToEnd {
  /// See `EndToEnd`.
  static var endToEnd: Self { EndToEnd() }
}
