import Foundation
import Testing

/// `RemoteDiagnostics` is process-wide: one handler, and one set of the lines already passed to it. A test that
/// installs a handler and checks exactly what it received must not overlap a test whose code reports an API's
/// message (`RemoteReason.of` a `RemoteError` with one): in a parallel run that line would reach its handler too.
/// Every test case in a suite with this trait holds the one lock for its duration (they take milliseconds).
struct RemoteDiagnosticsUse: SuiteTrait, TestTrait, TestScoping {
  static let lock = AsyncLock()

  var isRecursive: Bool { true }

  func scopeProvider(for test: Test, testCase: Test.Case?) -> Self? { testCase == nil ? nil : self }

  func provideScope(
    for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
  ) async throws {
    await Self.lock.lock()
    defer { Self.lock.unlock() }
    try await function()
  }

  /// A lock whose waiters suspend (first come, first served) instead of blocking a thread.
  final class AsyncLock: @unchecked Sendable {
    private let mutex = NSLock()
    private var held = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func lock() async {
      await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        mutex.lock()
        let free = !held
        if free { held = true } else { waiting.append(continuation) }
        mutex.unlock()
        if free { continuation.resume() }
      }
    }

    /// Hands the lock to the first waiter, or frees it.
    func unlock() {
      mutex.lock()
      let next = waiting.isEmpty ? nil : waiting.removeFirst()
      if next == nil { held = false }
      mutex.unlock()
      next?.resume()
    }
  }
}

extension Trait where Self == RemoteDiagnosticsUse {
  /// See `RemoteDiagnosticsUse`.
  static var remoteDiagnostics: Self { RemoteDiagnosticsUse() }
}
