import Foundation

/// A remote API refused or could not be reached.
///
/// `reason` and `category` are written by hotsecrets and may be stored (audit entries, journal
/// rows, reports, evidence bundles): they never contain what the API said. The API's own message,
/// which may echo a request body or a header, is kept apart in `apiMessage`, is never stored, and
/// is printed only scrubbed (`RemoteDiagnostics`).
public struct RemoteError: Error, Sendable, LocalizedError {
  /// The HTTP status, when the API answered.
  public let status: Int?
  /// A fixed category: `http-422`, `timeout`, `tls`, `redirect-refused`, `connection`,
  /// `unknown-host`, `proxy`, `response-too-large`, `insecure-url`, `invalid-request`, `invalid-url`, `bad-response`,
  /// `cancelled`, or `error` for a local failure.
  public let category: String
  /// One line by hotsecrets: what failed and where, never a credential, a value or the API's text.
  public let reason: String
  /// The API's own message (one line, at most 200 characters), as it said it. May quote secrets.
  public let apiMessage: String?

  public init(status: Int?, reason: String, category: String? = nil, apiMessage: String? = nil) {
    self.status = status
    self.reason = reason
    // A 2xx that carried something unexpected is a bad response, not an HTTP failure.
    self.category =
      category ?? status.map { (200..<300).contains($0) ? "bad-response" : "http-\($0)" } ?? "error"
    self.apiMessage = apiMessage
  }

  public var errorDescription: String? { reason }

  /// The same failure with `note` (hotsecrets' own words) appended to the reason.
  public func appending(_ note: String) -> RemoteError {
    RemoteError(status: status, reason: "\(reason) (\(note))", category: category, apiMessage: apiMessage)
  }
}
