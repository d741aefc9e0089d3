import Foundation
import RemoteAPIs

/// What the environment says about reaching the network, read as curl users expect:
/// `https_proxy`/`HTTPS_PROXY` for https URLs, `http_proxy`/`HTTP_PROXY` for http URLs (libcurl
/// itself ignores the upper-case `HTTP_PROXY`; hotsecrets honours it), `all_proxy`/`ALL_PROXY` for
/// both, `no_proxy`/`NO_PROXY` for hosts reached directly; `CURL_CA_BUNDLE`, else `SSL_CERT_FILE`,
/// for a CA bundle and `SSL_CERT_DIR` for a CA directory (else the system's store).
///
/// Plain http only ever goes to a loopback host (`LoopbackHost`), with credentials in clear text:
/// such a request goes through a proxy only when the proxy is itself on loopback (libcurl would
/// otherwise send the credentials across the network to a remote proxy, which then reaches its own
/// loopback). An https request to a loopback host never goes through a proxy.
struct NetworkSettings: Sendable, Equatable {
  var httpsProxy: String?
  var httpProxy: String?
  var noProxy: String?
  var caBundle: String?
  var caDirectory: String?

  /// The settings of `environment` (the process's when nil).
  static func fromEnvironment(_ environment: [String: String]? = nil) -> NetworkSettings {
    func first(_ names: String...) -> String? {
      for name in names {
        let value = environment.map { $0[name] } ?? getenv(name).map { String(cString: $0) }
        if let value, !value.isEmpty { return value }
      }
      return nil
    }
    let all = first("all_proxy", "ALL_PROXY")
    return NetworkSettings(
      httpsProxy: first("https_proxy", "HTTPS_PROXY") ?? all,
      httpProxy: first("http_proxy", "HTTP_PROXY") ?? all,
      noProxy: first("no_proxy", "NO_PROXY"),
      caBundle: first("CURL_CA_BUNDLE", "SSL_CERT_FILE"),
      caDirectory: first("SSL_CERT_DIR"))
  }

  /// The proxy for a request to `url`, or nil for a direct connection (libcurl applies
  /// `noProxy` on top).
  func proxy(for url: URL) -> String? {
    guard let host = url.host else { return nil }
    switch url.scheme?.lowercased() {
    case "https": return LoopbackHost.contains(host) ? nil : httpsProxy
    case "http": return httpProxy.flatMap { Self.isOnLoopback($0) ? $0 : nil }
    default: return nil
    }
  }

  private static func isOnLoopback(_ proxy: String) -> Bool {
    let text = proxy.contains("://") ? proxy : "http://" + proxy
    return URLComponents(string: text)?.host.map(LoopbackHost.contains) ?? false
  }
}
