import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A plain HTTP response.
public struct HTTPResponse: Sendable {
  public let status: Int
  public let headers: [String: String]
  public let body: Data

  /// Header lookup, case-insensitive.
  public func header(_ name: String) -> String? {
    let lower = name.lowercased()
    return headers.first { $0.key.lowercased() == lower }?.value
  }
}

/// Why a request got no HTTP answer. Reasons name the host, never a credential.
public enum HTTPFailure: Error, Sendable, Equatable {
  case timedOut(host: String)
  case connection(host: String, reason: String)
  case invalidURL

  public var reason: String {
    switch self {
    case .timedOut(let host): "no answer from \(host) in time"
    case .connection(let host, let reason): "cannot reach \(host): \(reason)"
    case .invalidURL: "invalid URL"
    }
  }
}

/// HTTP(S) requests through AsyncHTTPClient's shared client. Every request has a deadline;
/// nothing is logged; credentials travel only in headers and bodies the caller sets.
public struct HTTPTransport: Sendable {
  public let timeout: TimeInterval
  /// Largest response body read (responses here are small JSON documents).
  static let maximumBody = 8 << 20

  public init(timeout: TimeInterval = 10) {
    self.timeout = timeout
  }

  /// Sends one request. Throws `HTTPFailure` when no HTTP response arrived in time.
  public func send(
    _ method: String, _ url: URL, headers: [String: String] = [:], body: Data? = nil
  ) async throws -> HTTPResponse {
    let host = url.host ?? "the server"
    guard url.scheme == "http" || url.scheme == "https", url.host != nil else { throw HTTPFailure.invalidURL }
    var request = HTTPClientRequest(url: url.absoluteString)
    request.method = HTTPMethod(rawValue: method)
    request.headers.add(name: "User-Agent", value: "hotsecrets/\(IntegrationsVersion.current)")
    for (name, value) in headers { request.headers.replaceOrAdd(name: name, value: value) }
    if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
    let deadline = TimeAmount.milliseconds(Int64(timeout * 1000))
    do {
      let response = try await HTTPClient.shared.execute(request, timeout: deadline)
      let bytes = try await response.body.collect(upTo: Self.maximumBody)
      var fields: [String: String] = [:]
      for header in response.headers { fields[header.name] = header.value }
      return HTTPResponse(status: Int(response.status.code), headers: fields, body: Data(bytes.readableBytesView))
    } catch let error as HTTPClientError {
      switch error {
      case .deadlineExceeded, .connectTimeout, .readTimeout, .writeTimeout:
        throw HTTPFailure.timedOut(host: host)
      case .remoteConnectionClosed:
        throw HTTPFailure.connection(host: host, reason: "connection closed")
      default:
        throw HTTPFailure.connection(host: host, reason: "request failed")
      }
    } catch let error as HTTPFailure {
      throw error
    } catch {
      throw HTTPFailure.connection(host: host, reason: Self.describe(error))
    }
  }

  /// A short reason without the error's full description (which may contain a URL).
  private static func describe(_ error: Error) -> String {
    let text = String(describing: error).lowercased()
    if text.contains("refused") { return "connection refused" }
    if text.contains("timeout") || text.contains("timed out") { return "timed out" }
    if text.contains("lookup") || text.contains("resolve") || text.contains("dns") { return "unknown host" }
    if text.contains("ssl") || text.contains("tls") || text.contains("certificate") { return "TLS failure" }
    return "network error"
  }
}

/// The version string sent as User-Agent.
public enum IntegrationsVersion {
  public static let current = "0.1.0"
}
