import Foundation
import HotSecretsModel
import HotSecretsPolicy
import RemoteAPIs
import TestSupport
import Testing

@testable import Integrations

/// The rules every request follows, against real loopback servers: redirects refused, plain http
/// refused off loopback, proxies honoured, bodies capped, deadlines kept.
@Suite(.curlHandlePool(.shared)) struct HTTPTransportTests {
  static let direct = NetworkSettings()

  func expectFailure(
    _ kind: HTTPFailure.Kind, _ body: () async throws -> HTTPResponse, sourceLocation: SourceLocation = #_sourceLocation
  ) async -> HTTPFailure? {
    do {
      let response = try await body()
      Issue.record("answered HTTP \(response.status)", sourceLocation: sourceLocation)
      return nil
    } catch let failure as HTTPFailure {
      #expect(failure.kind == kind, sourceLocation: sourceLocation)
      return failure
    } catch {
      Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
      return nil
    }
  }

  /// A 302 to another server is an error naming the status and the host; that server sees nothing.
  @Test(arguments: [301, 302, 303, 307, 308])
  func redirectsAreNeverFollowed(status: Int) async throws {
    let target = try await FakeRecorder.start()
    defer { target.stop() }
    let redirect = try await FakeRedirect.start(status: status, location: "http://localhost:\(target.server.port)/stolen")
    defer { redirect.stop() }
    let transport = HTTPTransport(timeout: 5, network: Self.direct)
    let failure = await expectFailure(.redirectRefused(status: status, location: "localhost")) {
      try await transport.send(
        "GET", URL(string: redirect.baseURL + "/api/v1/profile")!, headers: ["api_access_token": "cw-token-123456"])
    }
    #expect(failure?.category == "redirect-refused")
    // The Location is the server's word: shown (scrubbed), never in the stored reason.
    #expect(failure?.reason == "127.0.0.1 answered HTTP \(status), a redirect; redirects are never followed")
    #expect(failure?.detail == "Location host: localhost")
    #expect(redirect.requests.count == 1)
    #expect(target.requests.isEmpty)
  }

  @Test func plainHTTPToAnotherHostIsRefusedBeforeConnecting() async throws {
    let transport = HTTPTransport(timeout: 5, network: Self.direct)
    for url in [
      "http://api.example.com/v1", "http://10.0.0.1:8080/", "http://127.0.0.1.nip.io/", "http://evil.localhost/",
      "http://127.+1.0.1/", "http://2130706433/", "http://[::ffff:127.0.0.1]/",
    ] {
      let failure = await expectFailure(.insecureURL) { try await transport.send("GET", URL(string: url)!) }
      #expect(failure?.category == "insecure-url")
    }
    _ = await expectFailure(.invalidURL) { try await transport.send("GET", URL(string: "ftp://127.0.0.1/x")!) }
  }

  /// `http_proxy` / `HTTP_PROXY` (a loopback proxy) carry a loopback http request, unless `no_proxy`
  /// names the host.
  @Test func aLoopbackProxyIsHonouredAndNoProxyBypassesIt() async throws {
    let target = try await FakeRecorder.start(json: ["ok": true])
    defer { target.stop() }
    let proxy = try await FakeProxy.start()
    defer { proxy.stop() }
    let url = URL(string: target.baseURL + "/v1/models")!
    let proxied = HTTPTransport(
      timeout: 5, network: .fromEnvironment(["HTTP_PROXY": proxy.baseURL]))
    let response = try await proxied.send("GET", url, headers: ["Authorization": "Bearer sk-test-proxied"])
    #expect(response.status == 200)
    #expect(proxy.targets == [target.baseURL + "/v1/models"])
    #expect(target.requests.count == 1)

    let bypassed = HTTPTransport(
      timeout: 5, network: .fromEnvironment(["http_proxy": proxy.baseURL, "NO_PROXY": "127.0.0.1"]))
    #expect(try await bypassed.send("GET", url).status == 200)
    #expect(proxy.targets.count == 1)
    #expect(target.requests.count == 2)
  }

  /// A remote proxy never sees plain http (credentials in clear text): the loopback request goes
  /// direct. (libcurl alone would hand it to the proxy, which would reach its own loopback.)
  @Test func aRemoteProxyNeverCarriesPlainHTTP() async throws {
    let target = try await FakeRecorder.start()
    defer { target.stop() }
    let settings = NetworkSettings.fromEnvironment(["http_proxy": "http://proxy.example:3128"])
    #expect(settings.proxy(for: URL(string: target.baseURL)!) == nil)
    let transport = HTTPTransport(timeout: 5, network: settings)
    #expect(try await transport.send("GET", URL(string: target.baseURL)!).status == 200)
    #expect(target.requests.count == 1)
  }

  /// https goes through the proxy as a CONNECT tunnel: the proxy sees the host and port, never a
  /// header of the request (the fake proxy refuses tunnels: a proxy failure).
  @Test func httpsThroughAProxyIsATunnelTheProxyCannotRead() async throws {
    let proxy = try await FakeProxy.start()
    defer { proxy.stop() }
    let transport = HTTPTransport(timeout: 5, network: .fromEnvironment(["HTTPS_PROXY": proxy.baseURL]))
    let failure = await expectFailure(.proxy) {
      try await transport.send(
        "GET", URL(string: "https://api.example.com/v1/models")!, headers: ["Authorization": "Bearer sk-tunnelled"])
    }
    #expect(failure?.category == "proxy")
    #expect(proxy.targets == ["CONNECT api.example.com:443"])
    #expect(proxy.requests.allSatisfy { $0.header("Authorization") == nil })
    // A loopback https URL never goes to a proxy.
    #expect(NetworkSettings.fromEnvironment(["HTTPS_PROXY": proxy.baseURL]).proxy(for: URL(string: "https://127.0.0.1:1/")!) == nil)
  }

  /// The variables curl users set, with curl's precedence, and the upper-case HTTP_PROXY too.
  @Test func networkSettingsReadTheVariablesCurlUsersSet() {
    let settings = NetworkSettings.fromEnvironment([
      "HTTPS_PROXY": "http://proxy.example:3128", "http_proxy": "http://127.0.0.1:1", "HTTP_PROXY": "http://127.0.0.1:2",
      "NO_PROXY": "internal.example", "CURL_CA_BUNDLE": "/etc/curl.pem", "SSL_CERT_FILE": "/etc/custom.pem",
      "SSL_CERT_DIR": "/etc/certs",
    ])
    #expect(settings.httpsProxy == "http://proxy.example:3128")
    #expect(settings.httpProxy == "http://127.0.0.1:1")  // lower case first, as curl
    #expect(settings.noProxy == "internal.example")
    #expect(settings.caBundle == "/etc/curl.pem")  // CURL_CA_BUNDLE before SSL_CERT_FILE
    #expect(settings.caDirectory == "/etc/certs")
    #expect(NetworkSettings.fromEnvironment(["SSL_CERT_FILE": "/etc/custom.pem"]).caBundle == "/etc/custom.pem")
    #expect(NetworkSettings.fromEnvironment(["HTTP_PROXY": "http://127.0.0.1:3128"]).httpProxy == "http://127.0.0.1:3128")
    #expect(NetworkSettings.fromEnvironment(["ALL_PROXY": "http://all.example:1"]).httpsProxy == "http://all.example:1")
  }

  /// A value with a line break would become a second header on the wire: refused before sending.
  @Test func headerValuesWithLineBreaksAreRefused() async throws {
    let target = try await FakeRecorder.start()
    defer { target.stop() }
    let transport = HTTPTransport(timeout: 5, network: Self.direct)
    for value in ["abc\r\nX-Injected: yes", "token\n", "a\0b"] {
      let failure = await expectFailure(.invalidHeader(name: "apikey")) {
        try await transport.send("GET", URL(string: target.baseURL)!, headers: ["apikey": value])
      }
      #expect(failure?.category == "invalid-request")
    }
    #expect(target.requests.isEmpty)
  }

  @Test(arguments: [false, true])
  func responsesOver8MiBAreRefused(chunked: Bool) async throws {
    let huge = try await FakeHuge.start(bytes: 9 << 20, chunked: chunked)
    defer { huge.stop() }
    let transport = HTTPTransport(timeout: 10, network: Self.direct)
    let failure = await expectFailure(.tooLarge) { try await transport.send("GET", URL(string: huge.baseURL)!) }
    #expect(failure?.category == "response-too-large")
    #expect(failure?.reason == "127.0.0.1 sent a response larger than 8 MiB")
    // Just under the cap is fine.
    let fits = try await FakeHuge.start(bytes: (8 << 20) - 1024, chunked: chunked)
    defer { fits.stop() }
    #expect(try await transport.send("GET", URL(string: fits.baseURL)!).body.count == (8 << 20) - 1024)
  }

  @Test func aServerThatNeverAnswersTimesOut() async throws {
    let slow = try await FakeSlow.start()
    defer { slow.stop() }
    let transport = HTTPTransport(timeout: 1, network: Self.direct)
    let started = Date()
    let failure = await expectFailure(.timedOut) { try await transport.send("GET", URL(string: slow.baseURL)!) }
    let elapsed = Date().timeIntervalSince(started)
    #expect(elapsed >= 0.9 && elapsed < 5)
    #expect(failure?.category == "timeout")
    #expect(failure?.isTransient == true)
  }

  @Test func nothingListeningIsARefusedConnection() async throws {
    let transport = HTTPTransport(timeout: 2, network: Self.direct)
    let failure = await expectFailure(.refused) {
      try await transport.send("GET", URL(string: "http://127.0.0.1:\(closedLoopbackPort())/")!)
    }
    #expect(failure?.category == "connection")
  }

  @Test func aCancelledRequestStops() async throws {
    let slow = try await FakeSlow.start()
    defer { slow.stop() }
    let transport = HTTPTransport(timeout: 30, network: Self.direct)
    let task = Task { try await transport.send("GET", URL(string: slow.baseURL)!) }
    try await Task.sleep(for: .milliseconds(300))
    let started = Date()
    task.cancel()
    let result = await task.result
    #expect(Date().timeIntervalSince(started) < 5)
    guard case .failure(let error) = result else {
      Issue.record("a cancelled request answered")
      return
    }
    #expect((error as? HTTPFailure)?.kind == .cancelled)
  }

  /// Requests one after another to the same server reuse the connection.
  @Test(.curlHandlePool(.exclusive)) func connectionsAreReusedWithinTheProcess() async throws {
    let target = try await FakeRecorder.start()
    defer { target.stop() }
    let transport = HTTPTransport(timeout: 5, network: Self.direct)
    var opened: [Int] = []
    for _ in 0..<4 {
      opened.append(try await transport.send("GET", URL(string: target.baseURL + "/x")!).connectionsOpened)
    }
    #expect(opened == [1, 0, 0, 0])
    #expect(target.requests.count == 4)
  }

  /// Credential headers are registered for scrubbing; plain ones are not.
  @Test func credentialHeadersAreRegisteredForScrubbing() async throws {
    let target = try await FakeRecorder.start()
    defer { target.stop() }
    let transport = HTTPTransport(timeout: 5, network: Self.direct)
    _ = try await transport.send(
      "GET", URL(string: target.baseURL)!,
      headers: ["X-Shopify-Access-Token": "shpat_registered_0123456789", "Accept": "application/json-unique"])
    #expect(SentSecrets.shared.scrub("echo shpat_registered_01") == "echo [redacted]")
    #expect(SentSecrets.shared.scrub("application/json-unique") == "application/json-unique")
    #expect(target.requests.first?.header("X-Shopify-Access-Token") == "shpat_registered_0123456789")
    #expect(target.requests.first?.header("User-Agent")?.hasPrefix("hotsecrets/") == true)
  }
}
