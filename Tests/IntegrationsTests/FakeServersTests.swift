import Foundation
import Integrations
import Sodium
import TestSupport
import Testing

/// The loopback fakes of Fly.io and GitHub behave like the APIs they stand in for.
@Suite(.curlHandlePool(.shared)) struct FakeServersTests {
  let http = HTTPTransport(timeout: 15)

  func send(
    _ method: String, _ url: String, headers: [String: String], json: Any? = nil, raw: String? = nil
  ) async throws -> HTTPResponse {
    var body = raw.map { Data($0.utf8) }
    if let json { body = try JSONSerialization.data(withJSONObject: json) }
    return try await http.send(method, URL(string: url)!, headers: headers, body: body)
  }

  func object(_ response: HTTPResponse) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: response.body) as? [String: Any])
  }

  // MARK: - Fly

  let fly = ["Authorization": "Bearer fly-test-token", "Content-Type": "application/json"]

  @Test func flyEnforcesAuthAndKnowsItsApps() async throws {
    let fake = try await FakeFly.start()
    defer { fake.stop() }
    fake.addApp("web")
    let url = fake.baseURL + "/v1/apps/web/secrets"
    let none = try await send("GET", url, headers: [:])
    let wrong = try await send("GET", url, headers: ["Authorization": "Bearer other"])
    let good = try await send("GET", url, headers: fly)
    let unknown = try await send("GET", fake.baseURL + "/v1/apps/nope/secrets", headers: fly)
    #expect(none.status == 401)
    #expect(try object(none)["error"] as? String == "unauthorized")
    #expect(wrong.status == 401)
    #expect(good.status == 200)
    #expect(unknown.status == 404)
    #expect(try object(unknown)["error"] as? String == "app not found")

    let macaroon = try await FakeFly.start(token: "FlyV1 fm2_abc")
    defer { macaroon.stop() }
    macaroon.addApp("web")
    let sentAsIs = try await send(
      "GET", macaroon.baseURL + "/v1/apps/web/secrets", headers: ["Authorization": "FlyV1 fm2_abc"])
    #expect(sentAsIs.status == 200)
  }

  @Test func flyBulkUpdateThenListShowsMD5Digests() async throws {
    let fake = try await FakeFly.start()
    defer { fake.stop() }
    fake.addApp("web")
    fake.setSecret(app: "web", name: "GONE", value: "old")
    let url = fake.baseURL + "/v1/apps/web/secrets"
    let update = try await send("POST", url, headers: fly, json: ["values": ["A": "asdf", "GONE": NSNull()]])
    #expect(update.status == 200)
    #expect(try object(update)["version"] as? Int == 2)
    let list = try object(try await send("GET", url, headers: fly))
    let secrets = try #require(list["secrets"] as? [[String: Any]])
    #expect(secrets.count == 1)
    #expect(secrets.first?["name"] as? String == "A")
    #expect(secrets.first?["digest"] as? String == "912ec803b2ce49e4a541068d495ab570")
    #expect(secrets.first?["updated_at"] is String)
    #expect(fake.secretValues(app: "web") == ["A": "asdf"])
    #expect(fake.bulkUpdates(app: "web") == 1)
    #expect(fake.secretsVersion(app: "web") == 2)

    let bad = try await send("POST", url, headers: fly, raw: "{not json")
    #expect(bad.status == 400)
    #expect(try object(bad)["error"] is String)

    fake.useOpaqueDigests(app: "web")
    let opaque = try object(try await send("GET", url, headers: fly))
    let digest = try #require((opaque["secrets"] as? [[String: Any]])?.first?["digest"] as? String)
    #expect(digest.hasPrefix("v1:"))
    #expect(fake.digests(app: "web")["A"] == digest)
  }

  @Test func flyMachineUpdateGivesANewInstanceAndWaitSucceeds() async throws {
    let fake = try await FakeFly.start()
    defer { fake.stop() }
    fake.addApp("web", machines: 2, withChecks: true)
    #expect(fake.machineIDs(app: "web") == ["web-m1", "web-m2"])
    let url = fake.baseURL + "/v1/apps/web/machines/web-m1"
    let before = try object(try await send("GET", url, headers: fly))
    let oldInstance = try #require(before["instance_id"] as? String)
    #expect(before["min_secrets_version"] == nil)
    #expect((before["checks"] as? [[String: Any]])?.first?["status"] as? String == "passing")
    let config = try #require(before["config"] as? [String: Any])

    let updated = try await send("POST", url, headers: fly, json: ["config": config, "min_secrets_version": 3])
    #expect(updated.status == 200)
    let machine = try object(updated)
    let newInstance = try #require(machine["instance_id"] as? String)
    #expect(newInstance != oldInstance)
    #expect(machine["min_secrets_version"] as? Int == 3)
    #expect(fake.restarts(app: "web", machine: "web-m1") == 1)
    #expect(fake.restarts(app: "web", machine: "web-m2") == 0)
    #expect(fake.machine(app: "web", id: "web-m1")?.minSecretsVersion == 3)

    let wait = try await send(
      "GET", url + "/wait?state=started&timeout=5&instance_id=\(newInstance)", headers: fly)
    #expect(wait.status == 200)
    #expect(try await send("POST", url, headers: fly, json: ["config": "x"]).status == 400)
    #expect(try await send("GET", fake.baseURL + "/v1/apps/web/machines/nope", headers: fly).status == 404)
    let list = try JSONSerialization.jsonObject(
      with: try await send("GET", fake.baseURL + "/v1/apps/web/machines", headers: fly).body)
    #expect((list as? [[String: Any]])?.count == 2)
  }

  @Test func flyWaitForANeverStartingMachineTimesOut() async throws {
    let fake = try await FakeFly.start()
    defer { fake.stop() }
    fake.addApp("web", machines: 1)
    fake.neverStarts(app: "web", machine: "web-m1")
    let url = fake.baseURL + "/v1/apps/web/machines/web-m1"
    let config = try #require(fake.machineConfig(app: "web", id: "web-m1"))
    _ = try await send("POST", url, headers: fly, json: ["config": config, "min_secrets_version": 1])
    #expect(fake.machine(app: "web", id: "web-m1")?.state == "starting")
    let start = ContinuousClock.now
    let wait = try await send("GET", url + "/wait?state=started&timeout=1", headers: fly)
    #expect(wait.status == 408)
    #expect(try object(wait)["error"] as? String == "deadline_exceeded")
    #expect(ContinuousClock.now - start >= .milliseconds(900))
  }

  // MARK: - GitHub

  let gitHub = [
    "Authorization": "Bearer gh-test-token", "Accept": "application/vnd.github+json",
    "X-GitHub-Api-Version": "2022-11-28",
  ]

  /// Fetches the key and PUTs `value` sealed to it.
  func put(_ fake: FakeGitHub, _ secrets: String, _ name: String, _ value: String, keyID: String? = nil)
    async throws -> HTTPResponse
  {
    let key = try object(try await send("GET", secrets + "/public-key", headers: gitHub))
    let encodedKey = try #require(key["key"] as? String)
    let publicKey = try #require(Data(base64Encoded: encodedKey))
    let sealed = try SealedBox.seal(Array(value.utf8), to: Array(publicKey))
    let body = ["encrypted_value": Data(sealed).base64EncodedString(), "key_id": keyID ?? key["key_id"] as! String]
    return try await send("PUT", secrets + "/" + name, headers: gitHub, json: body)
  }

  @Test func gitHubRequiresCredentialsAndAPIHeaders() async throws {
    let fake = try await FakeGitHub.start()
    defer { fake.stop() }
    try fake.addEnvironment(repository: "acme/site", environment: "production")
    let url = fake.baseURL + "/repos/acme/site/environments/production/secrets"
    var noVersion = gitHub
    noVersion["X-GitHub-Api-Version"] = nil
    var noAccept = gitHub
    noAccept["Accept"] = nil
    let missingVersion = try await send("GET", url, headers: noVersion)
    #expect(missingVersion.status == 400)
    #expect((try object(missingVersion)["message"] as? String)?.contains("X-GitHub-Api-Version") == true)
    #expect(try await send("GET", url, headers: noAccept).status == 400)
    let bad = try await send("GET", url, headers: gitHub.merging(["Authorization": "Bearer nope"]) { $1 })
    #expect(bad.status == 401)
    #expect(try object(bad)["message"] as? String == "Bad credentials")
    #expect(
      try await send("GET", url, headers: gitHub.merging(["Authorization": "token gh-test-token"]) { $1 }).status == 200
    )
    let unknown = try await send("GET", fake.baseURL + "/repos/acme/site/environments/staging/secrets", headers: gitHub)
    #expect(unknown.status == 404)
  }

  @Test func gitHubDecryptsSealedValues() async throws {
    let fake = try await FakeGitHub.start()
    defer { fake.stop() }
    try fake.addEnvironment(repository: "acme/site", environment: "pre prod")
    let secrets = fake.baseURL + "/repos/acme/site/environments/pre%20prod/secrets"
    #expect(try await put(fake, secrets, "api_key", "s3cret ✓").status == 201)
    #expect(try await put(fake, secrets, "API_KEY", "s3cret 2").status == 204)
    #expect(fake.secrets(repository: "acme/site", environment: "pre prod") == ["API_KEY": "s3cret 2"])
    #expect(fake.puts(repository: "acme/site", environment: "pre prod") == 2)
    #expect(fake.publicKeyFetches(repository: "acme/site", environment: "pre prod") == 2)

    let got = try object(try await send("GET", secrets + "/api_key", headers: gitHub))
    #expect(got["name"] as? String == "API_KEY")
    let pushed = try #require(got["updated_at"] as? String)
    #expect(pushed.hasSuffix("Z") && pushed.count == 20)
    fake.changeElsewhere(repository: "acme/site", environment: "pre prod", name: "API_KEY", value: "theirs")
    let changed = try #require(fake.updatedAt(repository: "acme/site", environment: "pre prod")["API_KEY"])
    #expect(changed > pushed)

    #expect(try await put(fake, secrets, "GITHUB_TOKEN", "x").status == 422)
    #expect(try await put(fake, secrets, "1ABC", "x").status == 422)
    #expect(try await send("DELETE", secrets + "/API_KEY", headers: gitHub).status == 204)
    #expect(try await send("DELETE", secrets + "/API_KEY", headers: gitHub).status == 404)
    #expect(try await send("GET", secrets + "/API_KEY", headers: gitHub).status == 404)
  }

  @Test func gitHubRejectsAStaleKeyID() async throws {
    let fake = try await FakeGitHub.start()
    defer { fake.stop() }
    try fake.addEnvironment(repository: "acme/site", environment: "production")
    let secrets = fake.baseURL + "/repos/acme/site/environments/production/secrets"
    let old = try object(try await send("GET", secrets + "/public-key", headers: gitHub))["key_id"] as? String
    try fake.rotateKey(repository: "acme/site", environment: "production")
    let stale = try await put(fake, secrets, "A", "x", keyID: old)
    #expect(stale.status == 422)
    #expect(fake.secrets(repository: "acme/site", environment: "production").isEmpty)

    // Rotation after the first PUT: a second PUT with the key fetched before it is refused.
    fake.rotateKey(repository: "acme/site", environment: "production", afterPuts: 1)
    let key = try object(try await send("GET", secrets + "/public-key", headers: gitHub))["key_id"] as? String
    #expect(try await put(fake, secrets, "A", "x", keyID: key).status == 201)
    #expect(try await put(fake, secrets, "B", "y", keyID: key).status == 422)
    #expect(try await put(fake, secrets, "B", "y").status == 201)
  }

  @Test func gitHubListPaginatesWithALinkHeader() async throws {
    let fake = try await FakeGitHub.start()
    defer { fake.stop() }
    try fake.addEnvironment(repository: "acme/site", environment: "production")
    for name in ["C", "A", "B"] {
      fake.changeElsewhere(repository: "acme/site", environment: "production", name: name, value: name)
    }
    let secrets = fake.baseURL + "/repos/acme/site/environments/production/secrets"
    let first = try await send("GET", secrets + "?per_page=1", headers: gitHub)
    let page = try object(first)
    #expect(page["total_count"] as? Int == 3)
    #expect((page["secrets"] as? [[String: Any]])?.map { $0["name"] as? String } == ["A"])
    let link = try #require(first.header("Link"))
    #expect(link.contains("<\(secrets)?per_page=1&page=2>; rel=\"next\""))
    let last = try await send("GET", secrets + "?per_page=1&page=3", headers: gitHub)
    #expect((try object(last)["secrets"] as? [[String: Any]])?.first?["name"] as? String == "C")
    #expect(last.header("Link") == nil)
    let all = try object(try await send("GET", secrets, headers: gitHub))
    #expect((all["secrets"] as? [[String: Any]])?.count == 3)
  }

  @Test func gitHubPublicKeyRouteIsNotTakenForASecretName() async throws {
    let fake = try await FakeGitHub.start()
    defer { fake.stop() }
    try fake.addEnvironment(repository: "acme/site", environment: "production")
    fake.changeElsewhere(repository: "acme/site", environment: "production", name: "PUBLIC_KEY", value: "v")
    let secrets = fake.baseURL + "/repos/acme/site/environments/production/secrets"
    let key = try object(try await send("GET", secrets + "/public-key", headers: gitHub))
    #expect(key["key_id"] is String)
    #expect(Data(base64Encoded: key["key"] as? String ?? "")?.count == 32)
    #expect(key["name"] == nil)
    #expect(fake.publicKeyFetches(repository: "acme/site", environment: "production") == 1)
    let named = try object(try await send("GET", secrets + "/public_key", headers: gitHub))
    #expect(named["name"] as? String == "PUBLIC_KEY")
  }

  // MARK: - Faults

  @Test func anInjectedFailureHitsOnlyTheNthRequest() async throws {
    let fake = try await FakeFly.start()
    defer { fake.stop() }
    fake.addApp("web")
    fake.inject(.failRequest(number: 2, status: 500, retryAfter: 3))
    let url = fake.baseURL + "/v1/apps/web/secrets"
    var statuses: [Int] = []
    var retryAfter: [String?] = []
    for _ in 0..<3 {
      let response = try await send("GET", url, headers: fly)
      statuses.append(response.status)
      retryAfter.append(response.header("Retry-After"))
    }
    #expect(statuses == [200, 500, 200])
    #expect(retryAfter == [nil, "3", nil])
    #expect(fake.requests == Array(repeating: "GET /v1/apps/web/secrets", count: 3))

    let gitHubFake = try await FakeGitHub.start()
    defer { gitHubFake.stop() }
    try gitHubFake.addEnvironment(repository: "acme/site", environment: "production")
    gitHubFake.inject(.failRequest(number: 1, status: 429, matching: "PUT "))
    let secrets = gitHubFake.baseURL + "/repos/acme/site/environments/production/secrets"
    let limited = try await put(gitHubFake, secrets, "A", "x")
    #expect(limited.status == 429)
    #expect(try object(limited)["message"] is String)
    #expect(try await put(gitHubFake, secrets, "A", "x").status == 201)
  }
}
