import Foundation

/// A failure or slowdown a fake API (`FakeFly`, `FakeGitHub`) is told to produce.
///
/// Requests are matched by their "METHOD /path" line (the path as sent, without the query), e.g.
/// "POST /v1/apps/web/secrets"; `matching` is a substring of that line, "" matches every request.
public enum InjectedFault: Sendable, Equatable {
  /// The Nth request (1-based) whose "METHOD /path" contains `matching` ("" = every request) is answered with
  /// `status` and a JSON error body (Fly style {"error": "..."} / GitHub style {"message": "..."} — each fake
  /// picks), plus a `Retry-After: retryAfter` header when given. Only that one request fails.
  case failRequest(number: Int, status: Int, matching: String = "", retryAfter: Int? = nil)
  /// Like `failRequest`, but the error message quotes the request's body and credential headers, each cut to
  /// `echoLength` characters (`FakeEcho.message(for:echoLength:)`), as real APIs echo what they were sent.
  case echoRequest(number: Int, status: Int, matching: String = "", echoLength: Int)
  /// Every request matching waits `seconds` before being handled.
  case delay(seconds: Double, matching: String = "")
}

/// The front door of a fake API: logs each request as "METHOD /path", sleeps for the global latency plus any
/// injected delay, and answers an injected failure instead of the real handler when one is due.
final class RequestGate: Sendable {
  private struct ArmedFault: Sendable {
    let fault: InjectedFault
    /// Matching requests seen since the fault was injected.
    var seen = 0
  }

  private struct State: Sendable {
    var requests: [String] = []
    var faults: [ArmedFault] = []
  }

  /// Seconds added to every request.
  let latency: Double
  private let state = Locked(State())
  private let errorResponse: @Sendable (_ status: Int, _ message: String) -> FakeResponse

  /// `errorResponse` builds the fake's error body for an injected failure.
  init(latency: Double, errorResponse: @escaping @Sendable (_ status: Int, _ message: String) -> FakeResponse) {
    self.latency = latency
    self.errorResponse = errorResponse
  }

  /// "METHOD /path" of every request admitted so far (since the last `reset()`).
  var requests: [String] { state.withLock { $0.requests } }

  func inject(_ fault: InjectedFault) {
    state.withLock { $0.faults.append(ArmedFault(fault: fault)) }
  }

  /// Clears the request log and removes every injected fault.
  func reset() {
    state.withLock { $0 = State() }
  }

  /// Request counts by "METHOD /path".
  func countsByRoute() -> [String: Int] {
    state.withLock { state in state.requests.reduce(into: [:]) { $0[$1, default: 0] += 1 } }
  }

  /// Logs `request`, waits, and returns the response to send instead of handling it (an injected failure), or nil.
  func admit(_ request: FakeRequest) async throws -> FakeResponse? {
    let line = "\(request.method) \(request.path)"
    typealias Failure = (status: Int, retryAfter: Int?, echoLength: Int?)
    let (delay, failure) = state.withLock { state -> (Double, Failure?) in
      state.requests.append(line)
      var delay = 0.0
      var failure: Failure?
      for index in state.faults.indices {
        switch state.faults[index].fault {
        case .failRequest(let number, let status, let matching, let retryAfter):
          guard matching.isEmpty || line.contains(matching) else { continue }
          state.faults[index].seen += 1
          if state.faults[index].seen == number, failure == nil { failure = (status, retryAfter, nil) }
        case .echoRequest(let number, let status, let matching, let echoLength):
          guard matching.isEmpty || line.contains(matching) else { continue }
          state.faults[index].seen += 1
          if state.faults[index].seen == number, failure == nil { failure = (status, nil, echoLength) }
        case .delay(let seconds, let matching):
          if matching.isEmpty || line.contains(matching) { delay += seconds }
        }
      }
      return (delay, failure)
    }
    let wait = latency + delay
    if wait > 0 { try await Task.sleep(for: .seconds(wait)) }
    guard let failure else { return nil }
    let message =
      failure.echoLength.map { FakeEcho.message(for: request, echoLength: $0) }
      ?? "injected failure (HTTP \(failure.status))"
    var response = errorResponse(failure.status, message)
    if let retryAfter = failure.retryAfter { response.setHeader("Retry-After", String(retryAfter)) }
    return response
  }
}

/// Timestamps for a fake's writes: ISO 8601 UTC with whole seconds, each strictly later than the one before
/// (max(now, previous + 1 s)), so "changed after" comparisons in tests never tie.
struct MonotonicClock: Sendable {
  private var last: Date = .distantPast

  mutating func next() -> String {
    let now = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
    last = max(now, last.addingTimeInterval(1))
    return Self.format(last)
  }

  static func format(_ date: Date) -> String {
    date.formatted(Date.ISO8601FormatStyle(timeZone: TimeZone(identifier: "UTC")!))
  }
}
