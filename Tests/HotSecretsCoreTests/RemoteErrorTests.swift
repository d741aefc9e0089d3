import Foundation
import Testing

@testable import HotSecretsCompliance
@testable import HotSecretsModel
@testable import HotSecretsPolicy
@testable import HotSecretsVault
@testable import RemoteAPIs
@testable import VaultSQLite

@Suite(.remoteDiagnostics) struct RemoteErrorTests {
  @Test func reasonsNeverCarryTheAPIsText() {
    let error = RemoteError(status: 422, reason: "fly answered HTTP 422", apiMessage: "bad value sk-live-abcdefgh")
    #expect(RemoteReason.of(error) == "fly answered HTTP 422")
    #expect(RemoteReason.category(of: error) == "http-422")
    #expect(error.errorDescription == "fly answered HTTP 422")
    #expect(RemoteError(status: 200, reason: "fly: unexpected secrets list").category == "bad-response")
    #expect(RemoteError(status: nil, reason: "x", category: "timeout").category == "timeout")
    #expect(RemoteReason.category(of: CocoaError(.fileNoSuchFile)) == "error")
    #expect(error.appending("note").reason == "fly answered HTTP 422 (note)")
    #expect(error.appending("note").apiMessage == error.apiMessage)
  }

  /// An API that echoes a value cut at any length from 8 bytes on leaks nothing of it.
  @Test(arguments: [8, 9, 12, 20, 31, 32, 40])
  func echoesCutAtAnyLengthAreScrubbed(length: Int) {
    let secrets = SentSecrets()
    let value = "sk-proj-9f8e7d6c5b4a39281706f5e4d3c2b1a0"
    secrets.register(value)
    let echoed = String(value.prefix(length))
    let scrubbed = secrets.scrub("invalid value \"\(echoed)\" for API_KEY")
    #expect(scrubbed == "invalid value \"[redacted]\" for API_KEY")
    // A fragment from the middle, too.
    let middle = String(value.dropFirst(10).prefix(length))
    if middle.utf8.count >= SentSecrets.window {
      #expect(!secrets.scrub("got \(middle)").contains(middle))
    }
  }

  @Test func tokensInHeadersAndShortValuesAreScrubbed() {
    let secrets = SentSecrets()
    secrets.register("Bearer FlyV1 fm2_lJPECAAAAAAAAA")
    secrets.register("hunter2")
    #expect(secrets.scrub("bad header: Bearer FlyV1 fm2_lJ") == "bad header: [redacted]")
    #expect(secrets.scrub("password hunter2 wrong") == "password [redacted] wrong")
    // Seven bytes of a long value are not enough to scrub (they could be any word).
    #expect(secrets.scrub("FlyV1 f") == "FlyV1 f")
    #expect(secrets.scrub("nothing to see") == "nothing to see")
  }

  @Test func scrubbingKeepsTheTextValidUTF8() {
    let secrets = SentSecrets()
    secrets.register("clé-secrète-du-projet")
    let out = secrets.scrub("valeur « -secrète-du » refusée")
    #expect(out == "valeur « [redacted] » refusée")
  }

  @Test func diagnosticsReceiveScrubbedMessagesOnce() {
    final class Lines: @unchecked Sendable {
      var items: [String] = []
    }
    let lines = Lines()
    SentSecrets.shared.register("ghp_0123456789abcdefghijklmnop")
    RemoteDiagnostics.setHandler { lines.items.append($0) }
    defer { RemoteDiagnostics.setHandler(nil) }
    // SentSecrets.shared keeps every value any test of this process has sent, for good: FakeServersTests sends
    // the header "token gh-test-token", so "token ghp_…" here lost its "token " too whenever that test had run
    // first (as it may in parallel). The word before the echo is one no test sends.
    let error = RemoteError(
      status: 401, reason: "github answered HTTP 401", apiMessage: "credential ghp_0123456789ab is bad")
    RemoteDiagnostics.report(error)
    RemoteDiagnostics.report(error)
    #expect(lines.items == ["github answered HTTP 401; the API said: credential [redacted] is bad"])
    // An API's control characters never reach the terminal.
    RemoteDiagnostics.report(RemoteError(status: 400, reason: "fly answered HTTP 400", apiMessage: "bad\u{1B}[2Jx\rforged"))
    #expect(lines.items.last == "fly answered HTTP 400; the API said: bad?[2Jx?forged")
  }

  @Test func credentialURLsMustBeHTTPSUnlessLoopback() throws {
    try CredentialURL.check("https://api.example.com", setting: "X")
    try CredentialURL.check("http://127.0.0.1:8080", setting: "X")
    try CredentialURL.check("http://localhost:1", setting: "X")
    try CredentialURL.check("http://[::1]:1/x", setting: "X")
    try CredentialURL.check("shop.myshopify.com", setting: "X")
    #expect(throws: InsecureURLError.self) { try CredentialURL.check("http://chat.example.com", setting: "X") }
    #expect(throws: InsecureURLError.self) { try CredentialURL.check("http://127.0.0.1.evil.com", setting: "X") }
    #expect(throws: InsecureURLError.self) { try CredentialURL.check("ftp://127.0.0.1", setting: "X") }
    for host in ["x.localhost", "127.+1.0.1", "2130706433", "localhost.", "[::ffff:127.0.0.1]", "0.0.0.0", "::2"] {
      #expect(!LoopbackHost.contains(host), "\(host)")
    }
    for host in ["localhost", "LOCALHOST", "127.0.0.1", "127.255.0.9", "::1", "[::1]"] {
      #expect(LoopbackHost.contains(host), "\(host)")
    }
    #expect(RemoteText.isIdentifier("d8d9a0f4c1e2"))
    #expect(!RemoteText.isIdentifier("x\r\ninjected"))
    #expect(!RemoteText.isIdentifier(""))
    #expect(RemoteText.label("passing\nFORGED") == "passing?FORGED")
    do {
      try CredentialURL.check("http://user:pw@db.example.com/x", setting: "policies/prod.yaml: services.a.provider.base_url")
      Issue.record("accepted")
    } catch let error as InsecureURLError {
      let text = error.errorDescription ?? ""
      #expect(text.contains("policies/prod.yaml: services.a.provider.base_url"))
      #expect(text.contains("http://db.example.com"))
      #expect(!text.contains("pw"))
    }
  }
}
