import Foundation

/// A loopback HTTP forward proxy, for tests that a client does (or does not) go through a proxy: it accepts
/// absolute-form requests (`GET http://127.0.0.1:PORT/path HTTP/1.1`, what curl sends to an `http://` proxy for an
/// `http://` URL), records the target URL, forwards the request to that target — loopback only — on a new
/// connection and relays the response, adding `Via: 1.1 fake-proxy`.
///
/// Not forwarded: a `CONNECT` (recorded as "CONNECT host:port", answered 502), an origin-form request (a client
/// talking to the proxy as if it were the server: answered 400), a target that is not `http://` on 127.0.0.1 or
/// localhost (502). A target that cannot be reached is answered 502.
public final class FakeProxy: RecordingFake {
  /// Its `baseURL` is the proxy URL to give the client; `requests` have the absolute URL as `target` (or
  /// "host:port" for CONNECT).
  public let recording: RecordingServer
  public var port: Int { server.port }

  /// Hop-by-hop request and response fields, not passed on (RFC 9110 §7.6.1), plus the framing fields the proxy
  /// sets itself.
  static let hopByHop: Set<String> = [
    "connection", "proxy-connection", "keep-alive", "proxy-authorization", "proxy-authenticate", "te", "trailer",
    "transfer-encoding", "upgrade", "content-length", "host",
  ]

  private init(recording: RecordingServer) { self.recording = recording }

  /// Starts the proxy. `timeout`: seconds to wait for the target's response.
  public static func start(timeout: Double = 30) async throws -> FakeProxy {
    FakeProxy(recording: try await RecordingServer.start { request in await forward(request, timeout: timeout) })
  }

  /// The target of every request received, in order: the absolute URL ("http://127.0.0.1:P/path?q"), or
  /// "CONNECT host:port" for a tunnel request.
  public var targets: [String] {
    requests.map { $0.method == "CONNECT" ? "CONNECT \($0.target)" : $0.target }
  }

  static func failure(_ status: Int, _ text: String) -> FakeResponse {
    FakeResponse(status: status, headers: ["Content-Type": "text/plain"], body: Data((text + "\n").utf8))
  }

  static func forward(_ request: FakeRequest, timeout: Double) async -> FakeResponse {
    if request.method == "CONNECT" { return failure(502, "fake-proxy: CONNECT is not supported") }
    guard request.target.lowercased().hasPrefix("http://") || request.target.lowercased().hasPrefix("https://") else {
      return failure(400, "fake-proxy: expected an absolute-form request target, got \(request.target)")
    }
    let destination: (port: Int, target: String, host: String)
    do {
      destination = try LoopbackHTTP.split(request.target)
    } catch {
      return failure(502, "fake-proxy: forwards only to http://127.0.0.1 or localhost, not \(request.target)")
    }
    var headers: [(String, String)] = request.headers
      .filter { !hopByHop.contains($0.key.lowercased()) }
      .sorted { $0.key.lowercased() < $1.key.lowercased() }
      .map { ($0.key, $0.value) }
    let hasBody = !request.body.isEmpty || ["POST", "PUT", "PATCH"].contains(request.method)
    if hasBody { headers.append(("Content-Length", String(request.body.count))) }
    headers.append(("Connection", "close"))
    do {
      let connection = try await LoopbackHTTPConnection(port: destination.port, timeout: timeout)
      defer { connection.close() }
      let response = try await connection.send(
        request.method, destination.target, host: destination.host, headers: headers,
        body: hasBody ? request.body : nil)
      var relayed: [String: String] = [:]
      for field in response.headerFields where !hopByHop.contains(field.name.lowercased()) {
        relayed[field.name] = relayed[field.name].map { $0 + ", " + field.value } ?? field.value
      }
      relayed["Via"] = "1.1 fake-proxy"
      return FakeResponse(status: response.status, headers: relayed, body: response.body)
    } catch {
      return failure(502, "fake-proxy: \(request.target) failed: \(error)")
    }
  }
}
