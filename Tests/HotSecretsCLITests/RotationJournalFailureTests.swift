import Foundation
import GRDB
import TestSupport
import Testing

/// Every journal write of a rotation throws: when one fails the run stops (exit 2) rather than go
/// on with a journal that no longer says where the keys stand; `--resume` then finishes it.
extension RotateCommandTests {
  /// Makes the vault refuse to record any key of a rotation as failed (a full disk, say).
  static func refuseFailedStates(_ path: String, _ on: Bool) throws {
    let queue = try DatabaseQueue(path: path)
    try queue.write { db in
      if on {
        try db.execute(
          sql: """
            CREATE TRIGGER test_refuse_failed BEFORE UPDATE ON rotation_items WHEN NEW.state = 'failed'
            BEGIN SELECT RAISE(ABORT, 'injected journal failure'); END
            """)
      } else {
        try db.execute(sql: "DROP TRIGGER test_refuse_failed")
      }
    }
  }

  @Test func aJournalWriteThatFailsStopsTheRunAndResumeFinishesIt() async throws {
    let f = try await Self.fixture()
    defer { f.stop() }
    f.providers.failNext(.supabaseCreate, status: 400, message: "project is paused")
    try Self.refuseFailedStates(f.h.path("vault/hotsecrets.db"), true)
    let r = try await f.rotate(["supabase/SERVICE_KEY", "app/SESSION_SECRET"])
    // Before: the failure went unrecorded (`try?`) and the run carried on to exit 1.
    #expect(r.status == 2, "\(r.allOutput)")
    #expect(r.stderr.contains("injected journal failure"), "\(r.stderr)")
    #expect(try await f.current("supabase", "SERVICE_KEY") == Self.oldSupabase)
    #expect(try await f.current("app", "SESSION_SECRET") == Self.oldSession)

    try Self.refuseFailedStates(f.h.path("vault/hotsecrets.db"), false)
    let resumed = try await f.rotate(["--resume"])
    #expect(resumed.status <= 1, "\(resumed.allOutput)")
    #expect(try await f.current("supabase", "SERVICE_KEY") == Self.oldSupabase)
    // Nothing is left unfinished.
    let again = try await f.rotate(["--resume"])
    #expect(again.status == 2)
    #expect(again.stderr.contains("nothing to resume") || again.stderr.contains("no unfinished"), "\(again.stderr)")
  }
}
