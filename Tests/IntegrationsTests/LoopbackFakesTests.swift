import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// The single-purpose fakes (echo, redirect, recorder, proxy, slow, huge) and the HTTP behaviour every fake
/// shares (keep-alive, large and chunked bodies, concurrency, stopping), checked with a raw HTTP/1.1 client.
@Suite struct LoopbackFakesTests {
  // MARK: - Echo

  @Test func echoQuotesTheBodyAndCredentialHeadersCutToTheEchoLength() async throws {
    let fake = try await FakeEcho.start(status: 401, style: .fly, echoLength: 12)
    defer { fake.stop() }
    let response = try await LoopbackHTTP.send(
      "POST", fake.baseURL + "/v1/apps/web/secrets",
      headers: [("Authorization", "Bearer fo1_0123456789abcdef"), ("apikey", "sb_secret_abcdefghijkl")],
      body: Data(#"{"values":{"API_KEY":"sk-live-123456"}}"#.utf8))
    #expect(response.status == 401)
    #expect(response.header("Content-Type") == "application/json")
    let message = try #require(response.jsonObject?["error"] as? String)
    #expect(message == #"rejected: body "{"values":{""; Authorization "Bearer fo1_0"; apikey "sb_secret_ab""#)
    #expect(!message.contains("0123456789"))
    #expect(fake.messages == [message])
    let seen = try #require(fake.requests.first)
    #expect(seen.method == "POST")
    #expect(seen.target == "/v1/apps/web/secrets")
    #expect(seen.header("authorization") == "Bearer fo1_0123456789abcdef")
    #expect(seen.bodyText == #"{"values":{"API_KEY":"sk-live-123456"}}"#)
  }

  @Test func echoSpeaksGitHubAndOpenAIErrorShapes() async throws {
    let gitHub = try await FakeEcho.start(status: 422, style: .github, echoLength: 4, headers: ["Retry-After": "2"])
    defer { gitHub.stop() }
    let answer = try await LoopbackHTTP.send(
      "PUT", gitHub.baseURL + "/repos/a/b/environments/e/secrets/X",
      headers: [("Authorization", "token ghp_abcdef"), ("X-Shopify-Access-Token", "shpat_123")],
      body: Data("secret-body".utf8))
    #expect(answer.status == 422)
    #expect(answer.header("Retry-After") == "2")
    #expect(
      answer.jsonObject?["message"] as? String
        == #"rejected: body "secr"; Authorization "toke"; X-Shopify-Access-Token "shpa""#)

    let openAI = try await FakeEcho.start(status: 401, style: .openAI, echoLength: Int.max)
    defer { openAI.stop() }
    let whole = try await LoopbackHTTP.send(
      "GET", openAI.baseURL + "/v1/models", headers: [("api_access_token", "t0k")])
    let error = try #require(whole.jsonObject?["error"] as? [String: Any])
    #expect(error["message"] as? String == #"rejected: body ""; api_access_token "t0k""#)
    #expect(error["type"] as? String == "invalid_request_error")
  }

  // MARK: - Redirect and recorder

  @Test func aRedirectPointsAtTheRecorderWhichRecordsTheFollowUp() async throws {
    let recorder = try await FakeRecorder.start()
    defer { recorder.stop() }
    let redirect = try await FakeRedirect.start(status: 307, location: recorder.baseURL, appendingTarget: true)
    defer { redirect.stop() }
    let first = try await LoopbackHTTP.send(
      "POST", redirect.baseURL + "/v1/apps/web/secrets?x=1", headers: [("Authorization", "Bearer t")],
      body: Data("{}".utf8))
    #expect(first.status == 307)
    let location = try #require(first.header("Location"))
    #expect(location == recorder.baseURL + "/v1/apps/web/secrets?x=1")
    #expect(redirect.requests.map(\.target) == ["/v1/apps/web/secrets?x=1"])
    #expect(recorder.requests.isEmpty)

    let followed = try await LoopbackHTTP.send("POST", location, headers: [("X-Test", "1")], body: Data("{}".utf8))
    #expect(followed.status == 200)
    #expect(followed.bodyText == "{}")
    let seen = try #require(recorder.requests.first)
    #expect(seen.method == "POST")
    #expect(seen.target == "/v1/apps/web/secrets?x=1")
    #expect(seen.path == "/v1/apps/web/secrets")
    #expect(seen.query == ["x": "1"])
    #expect(seen.header("x-test") == "1")
    #expect(seen.header("Host") == "127.0.0.1:\(recorder.server.port)")
    #expect(seen.body == Data("{}".utf8))
    #expect(seen.header("Authorization") == nil)

    let plain = try await FakeRedirect.start(status: 301, location: "http://127.0.0.1:9/elsewhere")
    defer { plain.stop() }
    #expect(
      try await LoopbackHTTP.send("GET", plain.baseURL + "/a").header("Location") == "http://127.0.0.1:9/elsewhere")

    recorder.reset()
    #expect(recorder.requests.isEmpty)
  }

  @Test func theRecorderAnswersItsConfiguredStatusAndJSON() async throws {
    let recorder = try await FakeRecorder.start(status: 201, json: ["ok": true])
    defer { recorder.stop() }
    let response = try await LoopbackHTTP.send("PUT", recorder.baseURL + "/a%20b/c", body: Data("x".utf8))
    #expect(response.status == 201)
    #expect(response.jsonObject?["ok"] as? Bool == true)
    #expect(recorder.requests.map(\.target) == ["/a%20b/c"])
  }

  // MARK: - Proxy

  @Test func theProxyForwardsAbsoluteFormRequestsAndRecordsTheirTargets() async throws {
    let recorder = try await FakeRecorder.start(json: ["via": "recorder"])
    defer { recorder.stop() }
    let proxy = try await FakeProxy.start()
    defer { proxy.stop() }
    let connection = try await LoopbackHTTPConnection(port: proxy.port)
    defer { connection.close() }
    let target = recorder.baseURL + "/v1/models?limit=2"
    let got = try await connection.send(
      "GET", target, host: "127.0.0.1:\(recorder.server.port)",
      headers: [("Authorization", "Bearer k"), ("Proxy-Connection", "Keep-Alive")])
    #expect(got.status == 200)
    #expect(got.jsonObject?["via"] as? String == "recorder")
    #expect(got.header("Via") == "1.1 fake-proxy")
    // The same connection to the proxy is reused for a POST with a body.
    let body = Data(repeating: UInt8(ascii: "b"), count: 300_000)
    let posted = try await connection.send("POST", recorder.baseURL + "/upload", headers: [], body: body)
    #expect(posted.status == 200)

    #expect(proxy.targets == [target, recorder.baseURL + "/upload"])
    #expect(recorder.requests.map(\.target) == ["/v1/models?limit=2", "/upload"])
    #expect(recorder.requests.first?.header("Authorization") == "Bearer k")
    #expect(recorder.requests.first?.header("Proxy-Connection") == nil)
    #expect(recorder.requests.last?.body == body)
  }

  @Test func theProxyRefusesTunnelsOriginFormAndFarTargets() async throws {
    let proxy = try await FakeProxy.start()
    defer { proxy.stop() }
    let connection = try await LoopbackHTTPConnection(port: proxy.port)
    defer { connection.close() }
    let tunnel = try await connection.send("CONNECT", "127.0.0.1:443", host: "127.0.0.1:443")
    #expect(tunnel.status == 502)
    let origin = try await LoopbackHTTP.send("GET", proxy.baseURL + "/not-a-proxy-request")
    #expect(origin.status == 400)
    let far = try await connection.send("GET", "http://example.com/", host: "example.com")
    #expect(far.status == 502)
    let closed = "http://127.0.0.1:\(closedLoopbackPort())/x"
    let unreachable = try await connection.send("GET", closed)
    #expect(unreachable.status == 502)
    #expect(proxy.targets == ["CONNECT 127.0.0.1:443", "/not-a-proxy-request", "http://example.com/", closed])
  }

  // MARK: - Slow and huge

  @Test func aSlowFakeThatNeverAnswersTimesTheClientOut() async throws {
    let fake = try await FakeSlow.start()
    let start = ContinuousClock.now
    await #expect(throws: LoopbackHTTPError.timedOut) {
      _ = try await LoopbackHTTP.send("GET", fake.baseURL + "/v1/models", timeout: 1)
    }
    #expect(ContinuousClock.now - start >= .milliseconds(900))
    #expect(fake.requests.map(\.target) == ["/v1/models"])
    // Stopping ends the waiting request; the port then refuses connections.
    fake.stop()
    try await expectRefused(port: fake.server.port)
  }

  @Test func aSlowFakeAnswersAfterItsDelay() async throws {
    let fake = try await FakeSlow.start(answerAfter: 0.5, status: 204)
    defer { fake.stop() }
    let start = ContinuousClock.now
    let response = try await LoopbackHTTP.send("DELETE", fake.baseURL + "/x", timeout: 5)
    #expect(response.status == 204)
    #expect(ContinuousClock.now - start >= .milliseconds(450))
  }

  @Test func aHugeFakeSendsExactlyItsSizeWithAndWithoutContentLength() async throws {
    let size = 9 << 20
    let fake = try await FakeHuge.start(bytes: size)
    defer { fake.stop() }
    let response = try await LoopbackHTTP.send("GET", fake.baseURL + "/v1/apps/web/secrets")
    #expect(response.status == 200)
    #expect(response.header("Content-Length") == String(size))
    #expect(response.body.count == size)
    #expect((response.jsonObject?["pad"] as? String)?.count == size - 10)

    let chunked = try await FakeHuge.start(bytes: 300_000, chunked: true)
    defer { chunked.stop() }
    let streamed = try await LoopbackHTTP.send("GET", chunked.baseURL + "/")
    #expect(streamed.header("Content-Length") == nil)
    #expect(streamed.header("Transfer-Encoding") == "chunked")
    #expect(streamed.body.count == 300_000)
    #expect(streamed.jsonObject != nil)
    #expect(chunked.requests.count == 1)
  }

  // MARK: - What every fake does

  let fly = [("Authorization", "Bearer fly-test-token"), ("Content-Type", "application/json")]

  @Test func oneKeepAliveConnectionCarriesManyRequestsAndLargeBodies() async throws {
    let fake = try await FakeFly.start()
    defer { fake.stop() }
    fake.addApp("web")
    let connection = try await LoopbackHTTPConnection(port: fake.server.port)
    defer { connection.close() }
    let value = String(repeating: "v", count: 400_000)
    let body = try JSONSerialization.data(withJSONObject: ["values": ["BIG": value]])
    let update = try await connection.send("POST", "/v1/apps/web/secrets", headers: fly, body: body)
    #expect(update.status == 200)
    #expect(fake.secretValues(app: "web")["BIG"] == value)
    for _ in 0..<5 {
      #expect(try await connection.send("GET", "/v1/apps/web/secrets", headers: fly).status == 200)
    }
    // A chunked request body is read as well.
    var chunked = Data("POST /v1/apps/web/secrets HTTP/1.1\r\nHost: 127.0.0.1\r\n".utf8)
    chunked += Data("Authorization: Bearer fly-test-token\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
    let small = Data(#"{"values":{"SMALL":"s"}}"#.utf8)
    chunked += Data(String(small.count, radix: 16).utf8) + Data("\r\n".utf8) + small + Data("\r\n0\r\n\r\n".utf8)
    #expect(try await connection.exchange(chunked).status == 200)
    #expect(fake.secretValues(app: "web")["SMALL"] == "s")
    #expect(!connection.peerClosed)
    #expect(fake.requests.count == 7)

    // Over 1 MiB is refused, as the API's body limit.
    let tooBig = try JSONSerialization.data(withJSONObject: ["values": ["X": String(repeating: "x", count: 1 << 20)]])
    #expect(try await connection.send("POST", "/v1/apps/web/secrets", headers: fly, body: tooBig).status == 413)
  }

  @Test func concurrentRequestsAreServedTogether() async throws {
    let fake = try await FakeFly.start(latency: 0.3)
    defer { fake.stop() }
    fake.addApp("web", machines: 2)
    let port = fake.server.port
    let headers = fly
    let start = ContinuousClock.now
    let statuses = try await withThrowingTaskGroup(of: [Int].self) { group in
      for _ in 0..<4 {
        group.addTask {
          let connection = try await LoopbackHTTPConnection(port: port)
          defer { connection.close() }
          var statuses: [Int] = []
          for path in ["/v1/apps/web/secrets", "/v1/apps/web/machines"] {
            statuses.append(try await connection.send("GET", path, headers: headers).status)
          }
          return statuses
        }
      }
      return try await group.reduce(into: []) { $0 += $1 }
    }
    #expect(statuses == Array(repeating: 200, count: 8))
    // 8 requests of 0.3 s each on 4 connections at once: about 0.6 s, not 2.4 s.
    #expect(ContinuousClock.now - start < .milliseconds(1800))
    #expect(fake.requests.count == 8)
  }

  @Test func stoppingAnswersTheRequestInFlightThenRefusesConnections() async throws {
    let fake = try await FakeFly.start()
    fake.addApp("web")
    fake.inject(.delay(seconds: 0.5))
    let url = fake.baseURL + "/v1/apps/web/secrets"
    let headers = fly
    let slow = Task { try await LoopbackHTTP.send("GET", url, headers: headers) }
    while fake.requests.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
    fake.stop()
    #expect(try await slow.value.status == 200)
    try await expectRefused(port: fake.server.port)
  }

  @Test func unknownRoutesAndMethodsAre404AndPathsAreLoggedAsSent() async throws {
    let fake = try await FakeGitHub.start()
    defer { fake.stop() }
    try fake.addEnvironment(repository: "acme/site", environment: "pre prod")
    let headers = [
      ("Authorization", "Bearer gh-test-token"), ("Accept", "application/vnd.github+json"),
      ("X-GitHub-Api-Version", "2022-11-28"),
    ]
    let secrets = fake.baseURL + "/repos/acme/site/environments/pre%20prod/secrets"
    #expect(try await LoopbackHTTP.send("GET", secrets, headers: headers).status == 200)
    #expect(try await LoopbackHTTP.send("GET", secrets + "/", headers: headers).status == 200)
    #expect(try await LoopbackHTTP.send("PATCH", secrets, headers: headers).status == 404)
    #expect(try await LoopbackHTTP.send("GET", fake.baseURL + "/nope", headers: headers).status == 404)
    #expect(
      fake.requests == [
        "GET /repos/acme/site/environments/pre%20prod/secrets", "GET /repos/acme/site/environments/pre%20prod/secrets/",
      ])
  }

  /// Waits (up to 5 s) until connecting to `port` is refused.
  func expectRefused(port: Int) async throws {
    let deadline = ContinuousClock.now + .seconds(5)
    while true {
      do {
        let connection = try await LoopbackHTTPConnection(port: port, timeout: 1)
        connection.close()
      } catch LoopbackHTTPError.connectFailed(let code) {
        #expect(code == ECONNREFUSED)
        return
      }
      guard ContinuousClock.now < deadline else {
        Issue.record("port \(port) still accepts connections")
        return
      }
      try await Task.sleep(for: .milliseconds(50))
    }
  }
}
