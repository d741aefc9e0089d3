#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What the environment says about reaching the network, read as curl users expect:
/// `https_proxy`/`HTTPS_PROXY` for https URLs, `http_proxy`/`HTTP_PROXY` for http URLs (libcurl
/// itself ignores the upper-case `HTTP_PROXY`; hotsecrets honours it), `all_proxy`/`ALL_PROXY` for
/// both, `no_proxy`/`NO_PROXY` for hosts reached directly; `CURL_CA_BUNDLE` or `SSL_CERT_FILE`
/// for a CA bundle and `SSL_CERT_DIR` for a CA directory (else the system's store).
struct NetworkSettings: Sendable, Equatable {
  var httpsProxy: String?
  var httpProxy: String?
  var noProxy: String?
  var caBundle: String?
  var caDirectory: String?

  /// The settings of this process's environment.
  static func fromEnvironment() -> NetworkSettings {
    let all = first("all_proxy", "ALL_PROXY")
    return NetworkSettings(
      httpsProxy: first("https_proxy", "HTTPS_PROXY") ?? all,
      httpProxy: first("http_proxy", "HTTP_PROXY") ?? all,
      noProxy: first("no_proxy", "NO_PROXY"),
      caBundle: first("CURL_CA_BUNDLE", "SSL_CERT_FILE"),
      caDirectory: first("SSL_CERT_DIR"))
  }

  /// The proxy for a URL with `scheme`, or nil for a direct connection (`no_proxy` is applied by
  /// libcurl, which is given both).
  func proxy(forScheme scheme: String) -> String? {
    scheme == "https" ? httpsProxy : httpProxy
  }

  private static func first(_ names: String...) -> String? {
    for name in names {
      if let value = getenv(name), value.pointee != 0 { return String(cString: value) }
    }
    return nil
  }
}
