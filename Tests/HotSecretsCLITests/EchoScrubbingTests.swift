import Foundation
import TestSupport
import Testing

/// APIs echo what they were sent: a 422 quoting the request body, a 401 quoting the Authorization
/// header, often cut short. Nothing of that may reach the audit trail, the JSON report or the
/// evidence bundle; stderr may show the API's message, scrubbed of every 8-byte fragment of what
/// was sent and of the tokens.
extension SyncCommandTests {
  /// Every 8-byte window of `secret` found in `text`, but a service name (the Supabase URL, not a
  /// secret, contains "supabase", which every report names).
  static func fragments(of secret: String, in text: String) -> [String] {
    let bytes = Array(secret.utf8)
    guard bytes.count >= 8 else { return text.contains(secret) ? [secret] : [] }
    return (0...(bytes.count - 8)).map { String(decoding: bytes[$0..<$0 + 8], as: UTF8.self) }
      .filter { text.contains($0) && $0 != "supabase" }
  }

  static let sent = Array(values.values) + ["Bearer fly-test-token", "Bearer gh-test-token"]

  @Test(arguments: [8, 12, 33, 64, 200, 400])
  func echoedBodiesAndTokensNeverBecomePermanent(echoLength: Int) async throws {
    let f = try await Self.fixture()
    defer { f.stop() }
    f.fly.inject(.echoRequest(number: 1, status: 422, matching: "POST /v1/apps/\(Self.app)/secrets", echoLength: echoLength))
    f.github.inject(.echoRequest(number: 1, status: 401, matching: "PUT ", echoLength: echoLength))
    let r = try await f.sync(["--format", "json"])
    #expect(r.status == 1, "\(r.allOutput)")
    let json = try f.h.json(r)
    let targets = try #require(json["targets"] as? [[String: Any]])
    let app = try #require(targets.first { $0["target"] as? String == "fly:\(Self.app)" })
    let failed = try #require(app["failed"] as? [[String: Any]])
    #expect(failed.allSatisfy { $0["category"] as? String == "http-422" && $0["reason"] as? String == "fly answered HTTP 422" })
    // The API's message reached stderr, scrubbed.
    #expect(r.stderr.contains("fly answered HTTP 422; the API said: rejected: body"))
    if echoLength >= 8 { #expect(r.stderr.contains("[redacted]")) }

    let log = try await f.h.run(["audit", "log", "--format", "json"])
    let export = try await f.h.run(["export", "compliance", "prod", "--out", "bundle"])
    #expect(export.status == 0, "\(export.allOutput)")
    var bundle = ""
    for name in try FileManager.default.contentsOfDirectory(atPath: f.h.path("bundle")) {
      bundle += (try? String(contentsOfFile: f.h.path("bundle/\(name)"), encoding: .utf8)) ?? ""
    }
    #expect(bundle.contains("http-422") || bundle.contains("fly answered HTTP 422"))
    for secret in Self.sent {
      for (place, text) in [
        ("stdout", r.stdout), ("stderr", r.stderr), ("audit", log.stdout), ("bundle", bundle),
      ] {
        #expect(Self.fragments(of: secret, in: text).isEmpty, "\(place) holds part of \(secret)")
      }
    }
    // Whatever hotsecrets stored is its own words: the echo's marker never appears.
    #expect(!log.stdout.contains("rejected: body"))
    #expect(!bundle.contains("rejected: body"))
    #expect(!r.stdout.contains("rejected: body"))
  }
}
