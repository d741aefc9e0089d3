import TestSupport
import Testing

/// Tests that send requests through `HTTPTransport` in this process share libcurl's handles (and so their
/// connection caches) with each other: `CurlHandlePool.shared`, one pool for the process, handed out last in first
/// out. A test that counts the connections its requests open needs the pool to itself — another test's transfer
/// between two of its requests leaves a different handle on top — so it takes the pool `.exclusive`, and every
/// other user takes it `.shared` (many at once).
struct CurlHandlePoolUse: SuiteTrait, TestTrait, TestScoping {
  enum Mode: Sendable { case shared, exclusive }

  static let pool = AsyncGate(capacity: 1 << 20)

  let mode: Mode

  var isRecursive: Bool { true }

  /// Each test case takes the pool; a shared claim inherited from the suite yields to the test's own exclusive one.
  func scopeProvider(for test: Test, testCase: Test.Case?) -> Self? {
    guard testCase != nil else { return nil }
    if mode == .shared, test.traits.contains(where: { ($0 as? Self)?.mode == .exclusive }) { return nil }
    return self
  }

  func provideScope(
    for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
  ) async throws {
    let weight = mode == .exclusive ? Self.pool.capacity : 1
    await Self.pool.acquire(weight)
    defer { Self.pool.release(weight) }
    try await function()
  }
}

extension Trait where Self == CurlHandlePoolUse {
  /// See `CurlHandlePoolUse`.
  static func curlHandlePool(_ mode: CurlHandlePoolUse.Mode) -> Self { CurlHandlePoolUse(mode: mode) }
}
