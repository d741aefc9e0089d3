import Foundation
import TestSupport
import Testing

/// `rotate --finish` and the rolling commands that finish deferred revocations, end to end.
@Suite(.endToEnd) struct FinishCommandTests {
  typealias R = RotateCommandTests

  /// A staged rotation defers the old credential; `--finish` names the machines still on the old
  /// secrets and revokes nothing (exit 1); `sync --deploy rolling` restarts them and then revokes it;
  /// `verify` stops warning.
  @Test func aDeferredRevocationWaitsForTheMachinesThenARollingSyncFinishesIt() async throws {
    let f = try await R.fixture()
    defer { f.stop() }
    let staged = try await f.rotate(["openai/API_KEY_PROD", "--deploy", "stage", "--format", "json"])
    #expect(staged.status == 0, "\(staged.allOutput)")
    let keys = try #require(try f.h.json(staged)["keys"] as? [[String: Any]])
    #expect(keys.first?["revocation"] as? String == "deferred")
    #expect(f.providers.isValid(R.oldOpenAI, for: .openai))
    let warned = try await f.h.run(["verify", "prod", "--from", "none"])
    #expect(warned.stdout.contains("old-credential"))
    #expect(warned.stdout.contains("run hotsecrets rotate prod --finish"), "\(warned.stdout)")

    let waiting = try await f.rotate(["--finish", "--format", "json"])
    #expect(waiting.status == 1, "\(waiting.allOutput)")
    let settlement = try f.h.json(waiting)
    #expect(settlement["settled"] as? Bool == false)
    let entry = try #require((settlement["entries"] as? [[String: Any]])?.first)
    #expect(entry["outcome"] as? String == "waiting")
    #expect((entry["reason"] as? String)?.contains("fly:\(R.app)/") == true)
    #expect(f.providers.isValid(R.oldOpenAI, for: .openai))

    let synced = try await f.h.run(["sync", "prod", "--deploy", "rolling"])
    #expect(synced.status == 0, "\(synced.allOutput)")
    #expect(synced.stderr.contains("sync prod: deferred revocation: openai/API_KEY_PROD"), "\(synced.stderr)")
    #expect(synced.stderr.contains("the old credential was revoked"))
    #expect(!f.providers.isValid(R.oldOpenAI, for: .openai))
    let clean = try await f.h.run(["verify", "prod", "--from", "none"])
    #expect(!clean.stdout.contains("old-credential"), "\(clean.stdout)")
    let nothing = try await f.rotate(["--finish"])
    #expect(nothing.status == 0)
  }
}
