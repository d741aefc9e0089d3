import CCurl
import Foundation
import HotSecretsPolicy

/// One HTTP request through libcurl, performed synchronously by `perform` on the calling thread
/// (a thread of its own: libcurl blocks). Redirects are never followed; the response body is
/// capped; `cancel()` stops the transfer from any thread.
final class CurlTransfer: @unchecked Sendable {
  struct Request: Sendable {
    var method: String
    var url: URL
    var headers: [(name: String, value: String)]
    var body: [UInt8]?
    var timeout: TimeInterval
    var maximumBody: Int
    var network: NetworkSettings
    var userAgent: String
    /// Open a new connection rather than reuse one: libcurl silently sends a request again when a
    /// reused connection turns out dead, which must not happen to one that may not be repeated.
    var freshConnection = false
  }

  private let request: Request
  /// The proxy this request goes through, if any.
  private let proxy: String?
  private var received: [UInt8] = []
  private var headers: [String: String] = [:]
  private var exceeded = false
  private let lock = NSLock()
  private var cancelled = false

  init(_ request: Request) {
    self.request = request
    proxy = request.network.proxy(for: request.url)
  }

  /// Asks a running `perform` to stop (it then fails with `.cancelled`).
  func cancel() {
    lock.lock()
    cancelled = true
    lock.unlock()
  }

  private var isCancelled: Bool {
    lock.lock()
    defer { lock.unlock() }
    return cancelled
  }

  /// Sends the request and waits for the whole answer.
  func perform() -> Result<HTTPResponse, HTTPFailure.Kind> {
    let curl: CurlLibrary
    switch CurlLibrary.shared {
    case .success(let library): curl = library
    case .failure(let error): return .failure(.library(error.description))
    }
    guard let handle = CurlHandlePool.shared.take(curl) else { return .failure(.library("curl_easy_init failed")) }
    var list: UnsafeMutablePointer<curl_slist>?
    defer { curl.listFree(list) }
    for (name, value) in request.headers { list = curl.listAppend(list, "\(name): \(value)") }
    // No `Expect: 100-continue` pause before bodies.
    list = curl.listAppend(list, "Expect:")
    let code = withExtendedLifetime(self) { () -> CURLcode in
      let setter = CurlOptions(curl: curl, handle: handle)
      guard configure(setter, headers: list) else { return CURLE_NOT_BUILT_IN }
      return curl.easyPerform(handle)
    }
    var status = 0
    var connections = 0
    var proxyStatus = 0
    _ = hs_curl_getinfo_long(curl.getinfo, handle, CURLINFO_RESPONSE_CODE, &status)
    _ = hs_curl_getinfo_long(curl.getinfo, handle, CURLINFO_NUM_CONNECTS, &connections)
    _ = hs_curl_getinfo_long(curl.getinfo, handle, CURLINFO_HTTP_CONNECTCODE, &proxyStatus)
    CurlHandlePool.shared.give(back: handle, curl, reusable: code == CURLE_OK)
    guard code == CURLE_OK else { return .failure(failure(code, proxyStatus: proxyStatus)) }
    var response = HTTPResponse(status: status, headers: headers, body: Data(received))
    response.connectionsOpened = connections
    return .success(response)
  }

  /// Sets every option; false when libcurl refuses one the rules depend on (too old a version).
  private func configure(_ set: CurlOptions, headers list: UnsafeMutablePointer<curl_slist>?) -> Bool {
    set.string(CURLOPT_URL, request.url.absoluteString)
    // http and https only (CURLOPT_PROTOCOLS_STR from libcurl 7.85, the bit mask before).
    guard
      set.string(CURLOPT_PROTOCOLS_STR, "http,https")
        || set.long(CURLOPT_PROTOCOLS, Int(CURLPROTO_HTTP | CURLPROTO_HTTPS))
    else { return false }
    guard set.long(CURLOPT_FOLLOWLOCATION, 0) else { return false }
    set.long(CURLOPT_NOSIGNAL, 1)
    set.long(CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_2TLS))
    set.long(CURLOPT_TIMEOUT_MS, max(1, Int(request.timeout * 1000)))
    set.long(CURLOPT_CONNECTTIMEOUT_MS, max(1, Int(min(request.timeout, 30) * 1000)))
    set.string(CURLOPT_USERAGENT, request.userAgent)
    set.string(CURLOPT_ACCEPT_ENCODING, "")
    // An empty proxy disables libcurl's own reading of the environment: hotsecrets' rules apply.
    set.string(CURLOPT_PROXY, proxy ?? "")
    if let noProxy = request.network.noProxy { set.string(CURLOPT_NOPROXY, noProxy) }
    if let bundle = request.network.caBundle { set.string(CURLOPT_CAINFO, bundle) }
    if let directory = request.network.caDirectory { set.string(CURLOPT_CAPATH, directory) }
    set.offset(CURLOPT_MAXFILESIZE_LARGE, curl_off_t(request.maximumBody))
    set.pointer(CURLOPT_HTTPHEADER, UnsafeRawPointer(list))
    if request.freshConnection { set.long(CURLOPT_FRESH_CONNECT, 1) }

    let context = Unmanaged.passUnretained(self).toOpaque()
    set.dataCallback(CURLOPT_WRITEFUNCTION, curlWriteBody)
    set.pointer(CURLOPT_WRITEDATA, UnsafeRawPointer(context))
    set.dataCallback(CURLOPT_HEADERFUNCTION, curlReceiveHeader)
    set.pointer(CURLOPT_HEADERDATA, UnsafeRawPointer(context))
    set.progressCallback(CURLOPT_XFERINFOFUNCTION, curlProgress)
    set.pointer(CURLOPT_XFERINFODATA, UnsafeRawPointer(context))
    set.long(CURLOPT_NOPROGRESS, 0)

    switch request.method {
    case "GET":
      set.long(CURLOPT_HTTPGET, 1)
    case "HEAD":
      set.long(CURLOPT_NOBODY, 1)
    default:
      set.string(CURLOPT_CUSTOMREQUEST, request.method)
    }
    if let body = request.body {
      set.offset(CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
      body.withUnsafeBytes { set.pointer(CURLOPT_COPYPOSTFIELDS, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1)) }
    } else if ["POST", "PUT", "PATCH"].contains(request.method) {
      set.offset(CURLOPT_POSTFIELDSIZE_LARGE, 0)
      set.string(CURLOPT_COPYPOSTFIELDS, "")
    }
    return true
  }

  fileprivate func receiveBody(_ data: UnsafeMutablePointer<CChar>?, _ count: Int) -> Int {
    guard let data, count > 0 else { return count }
    guard received.count + count <= request.maximumBody else {
      exceeded = true
      return 0
    }
    received.append(contentsOf: UnsafeRawBufferPointer(start: data, count: count))
    return count
  }

  fileprivate func receiveHeader(_ data: UnsafeMutablePointer<CChar>?, _ count: Int) -> Int {
    guard let data, count > 0 else { return count }
    let line = String(decoding: UnsafeRawBufferPointer(start: data, count: count), as: UTF8.self)
    if line.hasPrefix("HTTP/") {
      headers = [:]  // a new response (after a proxy's CONNECT answer, or a 1xx)
    } else if let colon = line.firstIndex(of: ":") {
      let name = line[..<colon].trimmingCharacters(in: .whitespaces)
      let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
      if !name.isEmpty { headers[name] = value }
    }
    return count
  }

  fileprivate var shouldAbort: Bool { isCancelled }

  private func failure(_ code: CURLcode, proxyStatus: Int) -> HTTPFailure.Kind {
    // Through a proxy, a connection that fails (or a CONNECT it refuses) is the proxy's failure.
    if proxy != nil, code == CURLE_COULDNT_CONNECT || code == CURLE_PROXY || proxyStatus >= 300 { return .proxy }
    switch code {
    case CURLE_NOT_BUILT_IN:
      return .library("the installed libcurl is too old for hotsecrets' network rules (7.19.4 or later needed)")
    case CURLE_OPERATION_TIMEDOUT: return .timedOut
    case CURLE_COULDNT_CONNECT: return .refused
    case CURLE_COULDNT_RESOLVE_HOST: return .unknownHost
    case CURLE_COULDNT_RESOLVE_PROXY, CURLE_PROXY: return .proxy
    case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
      CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
      CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CRL_BADFILE, CURLE_SSL_SHUTDOWN_FAILED, CURLE_SSL_ENGINE_NOTFOUND,
      CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_ENGINE_INITFAILED, CURLE_USE_SSL_FAILED, CURLE_SSL_CLIENTCERT:
      return .tls
    case CURLE_FILESIZE_EXCEEDED: return .tooLarge
    case CURLE_WRITE_ERROR where exceeded: return .tooLarge
    case CURLE_ABORTED_BY_CALLBACK: return .cancelled
    case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL: return .invalidURL
    case CURLE_WEIRD_SERVER_REPLY, CURLE_BAD_CONTENT_ENCODING: return .badResponse
    default: return .connection
    }
  }
}

private func transfer(_ context: UnsafeMutableRawPointer?) -> CurlTransfer? {
  context.map { Unmanaged<CurlTransfer>.fromOpaque($0).takeUnretainedValue() }
}

private let curlWriteBody: hs_curl_data_callback = { data, size, count, context in
  transfer(context)?.receiveBody(data, size * count) ?? 0
}

private let curlReceiveHeader: hs_curl_data_callback = { data, size, count, context in
  transfer(context)?.receiveHeader(data, size * count) ?? 0
}

private let curlProgress: hs_curl_progress_callback = { context, _, _, _, _ in
  transfer(context)?.shouldAbort == true ? 1 : 0
}

/// `curl_easy_setopt` through the shim's typed trampolines. libcurl copies string options.
private struct CurlOptions {
  let curl: CurlLibrary
  let handle: UnsafeMutableRawPointer

  @discardableResult
  func long(_ option: CURLoption, _ value: Int) -> Bool {
    hs_curl_setopt_long(curl.setopt, handle, option, value) == CURLE_OK
  }

  func offset(_ option: CURLoption, _ value: curl_off_t) {
    _ = hs_curl_setopt_offset(curl.setopt, handle, option, value)
  }

  @discardableResult
  func string(_ option: CURLoption, _ value: String) -> Bool {
    value.withCString { hs_curl_setopt_pointer(curl.setopt, handle, option, $0) } == CURLE_OK
  }

  func pointer(_ option: CURLoption, _ value: UnsafeRawPointer?) {
    _ = hs_curl_setopt_pointer(curl.setopt, handle, option, value)
  }

  func dataCallback(_ option: CURLoption, _ callback: hs_curl_data_callback) {
    _ = hs_curl_setopt_data_callback(curl.setopt, handle, option, callback)
  }

  func progressCallback(_ option: CURLoption, _ callback: hs_curl_progress_callback) {
    _ = hs_curl_setopt_progress_callback(curl.setopt, handle, option, callback)
  }
}
