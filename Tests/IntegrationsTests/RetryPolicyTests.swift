import Foundation
import Testing

@testable import Integrations

/// Answers from a script, one per attempt.
final class Script: @unchecked Sendable {
  private let lock = NSLock()
  private var answers: [Result<HTTPResponse, HTTPFailure>]
  private(set) var calls = 0
  init(_ answers: [Result<HTTPResponse, HTTPFailure>]) { self.answers = answers }
  func next() throws -> HTTPResponse {
    try lock.withLock {
      calls += 1
      return try answers.removeFirst().get()
    }
  }
}

final class Waits: @unchecked Sendable {
  private let lock = NSLock()
  private(set) var values: [TimeInterval] = []
  func add(_ v: TimeInterval) { lock.withLock { values.append(v) } }
}

func response(_ status: Int, _ headers: [String: String] = [:]) -> HTTPResponse {
  HTTPResponse(status: status, headers: headers, body: Data())
}

@Suite struct RetryPolicyTests {
  func policy(_ waits: Waits, attempts: Int = 5, total: TimeInterval = 30) -> RetryPolicy {
    RetryPolicy(maxAttempts: attempts, baseDelay: 0.5, maxDelay: 8, maxTotal: total, sleep: { waits.add($0) })
  }

  @Test func retriesServerErrorsAndConnectionFailuresThenSucceeds() async throws {
    let waits = Waits()
    let script = Script([
      .success(response(500)), .failure(HTTPFailure(.refused, host: "h")), .success(response(200)),
    ])
    let result = try await policy(waits).run { try script.next() }
    #expect(result.status == 200)
    #expect(script.calls == 3)
    #expect(waits.values.count == 2)
    #expect(waits.values.allSatisfy { $0 >= 0 && $0 <= 8 })
  }

  @Test func honoursRetryAfter() async throws {
    let waits = Waits()
    let script = Script([
      .success(response(429, ["Retry-After": "3"])), .success(response(429, ["retry-after-ms": "250"])),
      .success(response(201)),
    ])
    #expect(try await policy(waits).run { try script.next() }.status == 201)
    #expect(waits.values == [3, 0.25])
  }

  @Test func clientErrorsAreNotRetried() async throws {
    let waits = Waits()
    let script = Script([.success(response(422)), .success(response(200))])
    #expect(try await policy(waits).run { try script.next() }.status == 422)
    #expect(script.calls == 1)
    #expect(waits.values.isEmpty)
  }

  @Test func givesUpAfterMaxAttempts() async throws {
    let waits = Waits()
    let script = Script(Array(repeating: .success(response(503)), count: 10))
    #expect(try await policy(waits).run { try script.next() }.status == 503)
    #expect(script.calls == 5)
    let failing = Script(Array(repeating: .failure(HTTPFailure(.timedOut, host: "h")), count: 10))
    await #expect(throws: HTTPFailure(.timedOut, host: "h")) { try await policy(waits).run { try failing.next() } }
    #expect(failing.calls == 5)
  }

  @Test func neverWaitsPastTheTotalBudget() async throws {
    let waits = Waits()
    let script = Script([.success(response(429, ["Retry-After": "120"])), .success(response(200))])
    #expect(try await policy(waits, total: 30).run { try script.next() }.status == 429)
    #expect(script.calls == 1)
  }
}
