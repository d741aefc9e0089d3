import Foundation
import HotSecretsPolicy
import RemoteAPIs

/// The shared plumbing of the Fly and GitHub clients: a base URL, fixed headers, the shared retry
/// policy, and one rule for errors — anything but 2xx becomes a `RemoteError` whose reason names
/// the service and status (category `http-NNN`), with the API's own message (`{"error": …}` from
/// Fly, `{"message": …}` from GitHub) kept apart in `apiMessage`, never in the reason.
struct APIClient: Sendable {
  let service: String
  let baseURL: String
  let headers: [String: String]
  let transport: HTTPTransport
  let retry: RetryPolicy

  init(service: String, baseURL: String, headers: [String: String], transport: HTTPTransport, retry: RetryPolicy) {
    self.service = service
    self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
    self.headers = headers
    self.transport = transport
    self.retry = retry
  }

  /// Sends `method path` with an optional JSON body; returns a 2xx response, or throws `RemoteError`.
  /// `accept` lists further statuses returned rather than thrown (e.g. 408 from Fly's wait).
  /// A request that must not happen twice (`idempotent: false`, e.g. a machine update, which
  /// restarts the machine) is retried only when it surely was not processed: a 429, or a refused
  /// connection; a timeout or 5xx is reported instead.
  func send(
    _ method: String, _ path: String, json: Any? = nil, timeout: TimeInterval? = nil, accept: Set<Int> = [],
    idempotent: Bool = true
  ) async throws -> HTTPResponse {
    guard let url = URL(string: baseURL + path) else {
      throw RemoteError(status: nil, reason: "\(service): invalid URL", category: "invalid-url")
    }
    var fields = headers
    var body: Data?
    if let json {
      body = try JSONSerialization.data(withJSONObject: json)
      fields["Content-Type"] = "application/json"
      Self.registerStrings(in: json)
    }
    let transport = timeout.map { HTTPTransport(timeout: $0) } ?? self.transport
    let response: HTTPResponse
    do {
      response = try await retry.run(
        retryingStatus: idempotent ? RetryPolicy.isRetryable : { $0 == 429 },
        retryingFailure: idempotent ? { $0.isTransient } : { $0.kind == .refused }
      ) { [body, fields] in
        try await transport.send(method, url, headers: fields, body: body, freshConnection: !idempotent)
      }
    } catch let failure as HTTPFailure {
      throw RemoteError(failure, service: service)
    }
    if (200..<300).contains(response.status) || accept.contains(response.status) { return response }
    throw failed(response)
  }

  /// Every string value of a JSON body, as sent and as JSON-escaped, registered with `SentSecrets`:
  /// an API that quotes the body back is scrubbed wherever its message is printed.
  static func registerStrings(in json: Any) {
    switch json {
    case let text as String:
      SentSecrets.shared.register(text)
      if let escaped = try? JSONSerialization.data(withJSONObject: [text]), escaped.count > 4 {
        SentSecrets.shared.register(escaped.dropFirst(2).dropLast(2))
      }
    case let array as [Any]: for item in array { registerStrings(in: item) }
    case let object as [String: Any]: for item in object.values { registerStrings(in: item) }
    default: break
    }
  }

  /// The error for a non-2xx `response`: hotsecrets' words in the reason, the API's apart.
  func failed(_ response: HTTPResponse) -> RemoteError {
    RemoteError(
      status: response.status, reason: "\(service) answered HTTP \(response.status)",
      apiMessage: Self.message(response))
  }

  /// The API's own error message from a JSON body, shortened to one line; nil when it gave none.
  static func message(_ response: HTTPResponse) -> String? {
    var text = ""
    if let object = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any] {
      if let message = object["message"] as? String {
        text = message
      } else if let error = object["error"] as? String {
        text = error
      } else if let error = object["error"] as? [String: Any], let message = error["message"] as? String {
        text = message
      }
    }
    if text.isEmpty { return nil }
    let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? text
    return line.count > 200 ? String(line.prefix(200)) + "…" : line
  }

  /// `segment` percent-encoded for one path component.
  static func pathComponent(_ segment: String) -> String {
    var allowed = CharacterSet.urlPathAllowed
    allowed.remove(charactersIn: "/?#%")
    return segment.addingPercentEncoding(withAllowedCharacters: allowed) ?? segment
  }

  /// Decodes a JSON body, or throws a `RemoteError` naming what was expected.
  func decode(_ response: HTTPResponse, what: String) throws -> Any {
    guard let value = try? JSONSerialization.jsonObject(with: response.body) else {
      throw RemoteError(
        status: response.status, reason: "\(service) sent \(what) that is not JSON", category: "bad-response")
    }
    return value
  }
}

extension RemoteError {
  /// A request to `service` that got no usable answer.
  init(_ failure: HTTPFailure, service: String) {
    self.init(
      status: nil, reason: "\(service): \(failure.reason)", category: failure.category, apiMessage: failure.detail)
  }
}
