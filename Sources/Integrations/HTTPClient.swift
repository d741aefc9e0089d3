import Foundation

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

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

/// Why a request got no HTTP answer.
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

/// HTTP through Foundation's URLSession (libcurl underneath on Linux). Every request has a
/// timeout; nothing is logged; credentials travel only in headers the caller sets.
public struct HTTPClient: Sendable {
  public let timeout: TimeInterval
  private let session: URLSession

  public init(timeout: TimeInterval = 10) {
    self.timeout = timeout
    let configuration = URLSessionConfiguration.ephemeral
    configuration.timeoutIntervalForRequest = timeout
    configuration.timeoutIntervalForResource = timeout
    configuration.httpCookieStorage = nil
    configuration.urlCache = nil
    configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
    session = URLSession(configuration: configuration)
  }

  /// Sends one request. Throws `HTTPFailure` when no HTTP response arrived.
  public func send(
    _ method: String, _ url: URL, headers: [String: String] = [:], body: Data? = nil
  ) async throws -> HTTPResponse {
    var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
    request.httpMethod = method
    request.setValue("hotsecrets/\(IntegrationsVersion.current)", forHTTPHeaderField: "User-Agent")
    for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
    request.httpBody = body
    let host = url.host ?? url.absoluteString
    do {
      let (data, response) = try await session.data(for: request)
      guard let http = response as? HTTPURLResponse else { throw HTTPFailure.connection(host: host, reason: "not an HTTP response") }
      var fields: [String: String] = [:]
      for (key, value) in http.allHeaderFields {
        if let k = key as? String, let v = value as? String { fields[k] = v }
      }
      return HTTPResponse(status: http.statusCode, headers: fields, body: data)
    } catch let error as HTTPFailure {
      throw error
    } catch let error as URLError {
      if error.code == .timedOut { throw HTTPFailure.timedOut(host: host) }
      throw HTTPFailure.connection(host: host, reason: Self.describe(error))
    } catch {
      throw HTTPFailure.connection(host: host, reason: "request failed")
    }
  }

  private static func describe(_ error: URLError) -> String {
    switch error.code {
    case .cannotConnectToHost: "connection refused"
    case .cannotFindHost, .dnsLookupFailed: "unknown host"
    case .notConnectedToInternet, .networkConnectionLost: "network unavailable"
    case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate: "TLS failure"
    default: "network error \(error.code.rawValue)"
    }
  }
}

/// The version string sent as User-Agent.
public enum IntegrationsVersion {
  public static let current = "0.1.0"
}
