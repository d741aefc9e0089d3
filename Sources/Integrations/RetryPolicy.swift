import Foundation

/// The one retry policy every remote call shares: connection failures, timeouts, HTTP 429 and 5xx
/// are retried with exponential backoff and full jitter, honouring `Retry-After` (seconds) and
/// `retry-after-ms`, at most `maxAttempts` tries and never past `maxTotal` seconds in all. Other
/// answers (2xx, 3xx, 4xx but 429) are returned at once.
public struct RetryPolicy: Sendable {
  public var maxAttempts: Int
  public var baseDelay: TimeInterval
  public var maxDelay: TimeInterval
  public var maxTotal: TimeInterval
  /// Waits between attempts; tests replace it to run instantly.
  public var sleep: @Sendable (TimeInterval) async -> Void

  public init(
    maxAttempts: Int = 5, baseDelay: TimeInterval = 0.5, maxDelay: TimeInterval = 8, maxTotal: TimeInterval = 30,
    sleep: @escaping @Sendable (TimeInterval) async -> Void = { try? await Task.sleep(for: .seconds($0)) }
  ) {
    self.maxAttempts = maxAttempts
    self.baseDelay = baseDelay
    self.maxDelay = maxDelay
    self.maxTotal = maxTotal
    self.sleep = sleep
  }

  /// Whether an answer with this status may succeed if asked again.
  public static func isRetryable(status: Int) -> Bool { status == 429 || (500...599).contains(status) }

  /// Runs `attempt` until it gives a final answer. Throws the last `HTTPFailure` when every try
  /// failed to get an answer; returns the last retryable response when tries or time ran out.
  public func run(
    retryingStatus: (Int) -> Bool = RetryPolicy.isRetryable,
    retryingFailure: (HTTPFailure) -> Bool = { $0.isTransient },
    _ attempt: @Sendable () async throws -> HTTPResponse
  ) async throws -> HTTPResponse {
    let started = Date()
    var tries = 0
    while true {
      tries += 1
      var wait: TimeInterval
      do {
        let response = try await attempt()
        guard retryingStatus(response.status) else { return response }
        wait = Self.retryAfter(response) ?? backoff(tries)
        if tries >= maxAttempts || Date().timeIntervalSince(started) + wait > maxTotal { return response }
      } catch let failure as HTTPFailure {
        guard retryingFailure(failure) else { throw failure }
        wait = backoff(tries)
        if tries >= maxAttempts || Date().timeIntervalSince(started) + wait > maxTotal { throw failure }
      }
      await sleep(wait)
    }
  }

  /// Full-jitter exponential backoff for try number `tries` (1-based).
  func backoff(_ tries: Int) -> TimeInterval {
    let ceiling = min(maxDelay, baseDelay * pow(2, Double(tries - 1)))
    return Double.random(in: 0...ceiling)
  }

  /// The server's requested wait, from `retry-after-ms` or `Retry-After` (seconds or HTTP date).
  static func retryAfter(_ response: HTTPResponse) -> TimeInterval? {
    if let ms = response.header("retry-after-ms").flatMap(Double.init), ms >= 0 { return ms / 1000 }
    guard let value = response.header("Retry-After")?.trimmingCharacters(in: .whitespaces) else { return nil }
    if let seconds = Double(value), seconds >= 0 { return seconds }
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "GMT")
    formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
    return formatter.date(from: value).map { max(0, $0.timeIntervalSinceNow) }
  }
}
