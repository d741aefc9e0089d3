import Foundation
import HotSecretsPolicy
import RemoteAPIs

/// A plain HTTP response.
public struct HTTPResponse: Sendable {
  public let status: Int
  public let headers: [String: String]
  public let body: Data
  /// Connections libcurl opened for this request (0 when it reused one).
  var connectionsOpened = 0

  public init(status: Int, headers: [String: String], body: Data) {
    self.status = status
    self.headers = headers
    self.body = body
  }

  /// Header lookup, case-insensitive.
  public func header(_ name: String) -> String? {
    let lower = name.lowercased()
    return headers.first { $0.key.lowercased() == lower }?.value
  }
}

/// Why a request got no usable HTTP answer. Reasons name the host, never a credential.
public struct HTTPFailure: Error, Sendable, Equatable {
  public enum Kind: Error, Sendable, Equatable {
    case timedOut
    /// Nothing listens (the request surely was not processed).
    case refused
    /// The connection failed or dropped mid-request.
    case connection
    case unknownHost
    case proxy
    case tls
    /// A 3xx: redirects are never followed (a credential must not travel to another host).
    case redirectRefused(status: Int, location: String?)
    /// The body exceeded `HTTPTransport.maximumBody`.
    case tooLarge
    /// Plain http to a host that is not loopback.
    case insecureURL
    /// A header name or value with a line break or NUL (a token file's trailing newline, say),
    /// which would split into further headers on the wire.
    case invalidHeader(name: String)
    case invalidURL
    case badResponse
    case cancelled
    /// libcurl could not be loaded or initialised.
    case library(String)
  }

  public let kind: Kind
  public let host: String

  public init(_ kind: Kind, host: String) {
    self.kind = kind
    self.host = host
  }

  /// The fixed category stored in place of any text (see `RemoteError.category`).
  public var category: String {
    switch kind {
    case .timedOut: "timeout"
    case .refused, .connection: "connection"
    case .unknownHost: "unknown-host"
    case .proxy: "proxy"
    case .tls: "tls"
    case .redirectRefused: "redirect-refused"
    case .tooLarge: "response-too-large"
    case .insecureURL: "insecure-url"
    case .invalidHeader: "invalid-request"
    case .invalidURL: "invalid-url"
    case .badResponse: "bad-response"
    case .cancelled: "cancelled"
    case .library: "error"
    }
  }

  /// One line by hotsecrets, naming the host: safe to store (never the server's words, so not a
  /// redirect's Location, which is in `detail`).
  public var reason: String {
    switch kind {
    case .timedOut: "no answer from \(host) in time"
    case .refused: "cannot reach \(host): connection refused"
    case .connection: "cannot reach \(host): the connection failed"
    case .unknownHost: "cannot reach \(host): unknown host"
    case .proxy: "cannot reach \(host) through the proxy (it refused, failed or is unknown)"
    case .tls: "cannot reach \(host): TLS failure (certificate or handshake)"
    case .redirectRefused(let status, _):
      "\(host) answered HTTP \(status), a redirect; redirects are never followed"
    case .tooLarge: "\(host) sent a response larger than \(HTTPTransport.maximumBody >> 20) MiB"
    case .insecureURL: "refusing plain http to \(host): credentials go over https (http only to a loopback host)"
    case .invalidHeader(let name):
      "refusing to send header \(name) to \(host): its name or value holds a line break or NUL (a trailing newline in a token?)"
    case .invalidURL: "invalid URL"
    case .badResponse: "\(host) sent something that is not HTTP"
    case .cancelled: "the request to \(host) was cancelled"
    case .library(let why): why
    }
  }

  /// What the server said that hotsecrets may show but never stores: a redirect's target host.
  public var detail: String? {
    if case .redirectRefused(_, let location) = kind {
      return "Location host: \(location.map(RemoteText.label) ?? "none")"
    }
    return nil
  }

  /// Whether asking again may succeed.
  public var isTransient: Bool {
    switch kind {
    case .timedOut, .refused, .connection, .unknownHost: true
    default: false
    }
  }
}

/// HTTP(S) requests through the system's libcurl, loaded on the first request. Every request has
/// a deadline; nothing is logged. Redirects are never followed (a 3xx throws
/// `.redirectRefused`), plain http is refused unless the host is loopback, bodies are capped at
/// `maximumBody`. Proxies and CA bundles come from the environment (`NetworkSettings`); HTTP/2 is
/// used where the server offers it; connections are reused within the process. Credential header
/// values are registered with `SentSecrets` so what an API echoes can be scrubbed.
public struct HTTPTransport: Sendable {
  public let timeout: TimeInterval
  /// Proxies and CA certificates; nil reads them from the environment at each request.
  let network: NetworkSettings?
  /// Largest response body read (responses here are small JSON documents).
  public static let maximumBody = 8 << 20
  /// Headers that carry no credential (everything else sent is registered with `SentSecrets`).
  static let plainHeaders: Set<String> = ["accept", "content-type", "user-agent", "x-github-api-version"]

  public init(timeout: TimeInterval = 10) {
    self.init(timeout: timeout, network: nil)
  }

  init(timeout: TimeInterval, network: NetworkSettings?) {
    self.timeout = timeout
    self.network = network
  }

  /// Sends one request. Throws `HTTPFailure` when no usable HTTP response arrived in time.
  /// `freshConnection` for a request that must not be sent twice: libcurl resends a request on
  /// its own when a reused connection turns out dead.
  public func send(
    _ method: String, _ url: URL, headers: [String: String] = [:], body: Data? = nil, freshConnection: Bool = false
  ) async throws -> HTTPResponse {
    let host = url.host ?? "the server"
    guard let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", url.host != nil else {
      throw HTTPFailure(.invalidURL, host: host)
    }
    guard scheme == "https" || LoopbackHost.contains(host) else { throw HTTPFailure(.insecureURL, host: host) }
    for (name, value) in headers {
      let breaks: Set<UInt8> = [0x0D, 0x0A, 0]
      let broken = name.utf8.contains(where: breaks.contains) || value.utf8.contains(where: breaks.contains)
      if broken { throw HTTPFailure(.invalidHeader(name: RemoteText.label(name)), host: host) }
      if !Self.plainHeaders.contains(name.lowercased()) { SentSecrets.shared.register(value) }
    }
    let transfer = CurlTransfer(
      .init(
        method: method, url: url, headers: headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
        body: body.map { Array($0) }, timeout: timeout, maximumBody: Self.maximumBody,
        network: network ?? .fromEnvironment(), userAgent: "hotsecrets/\(IntegrationsVersion.current)",
        freshConnection: freshConnection))
    let result = await withTaskCancellationHandler {
      await withCheckedContinuation { continuation in
        // libcurl blocks: each transfer gets a thread of its own, off Swift's cooperative pool.
        let thread = Thread {
          // A write to a connection the peer closed must fail with EPIPE, not kill the process
          // (libcurl's NOSIGNAL does not cover every TLS path); the signal dies with the thread.
          var pipe = sigset_t()
          sigemptyset(&pipe)
          sigaddset(&pipe, SIGPIPE)
          pthread_sigmask(SIG_BLOCK, &pipe, nil)
          continuation.resume(returning: transfer.perform())
        }
        thread.start()
      }
    } onCancel: {
      transfer.cancel()
    }
    switch result {
    case .failure(let kind):
      throw HTTPFailure(kind, host: host)
    case .success(let response):
      if (300..<400).contains(response.status), response.status != 304 {
        let location = response.header("Location").flatMap { URL(string: $0, relativeTo: url)?.host }
        throw HTTPFailure(.redirectRefused(status: response.status, location: location), host: host)
      }
      return response
    }
  }
}

/// The version string sent as User-Agent.
public enum IntegrationsVersion {
  public static let current = "0.1.0"
}
