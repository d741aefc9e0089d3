import Foundation
import TestSupport
import Testing

/// `identity new` on a fresh home directory: the README's first command.
@Suite(.endToEnd) struct IdentityCommandTests {
  @Test func identityNewCreatesMissingFoldersPrivately() async throws {
    let h = try CLIHarness()
    let r = try await h.run(["identity", "new", "--out", h.path(".config/hotsecrets/me.identity")])
    #expect(r.status == 0, "\(r.allOutput)")
    #expect(r.stdout.hasPrefix("hsr1"))
    for (path, mode) in [(".config", 0o700), (".config/hotsecrets", 0o700), (".config/hotsecrets/me.identity", 0o600)] {
      let attributes = try FileManager.default.attributesOfItem(atPath: h.path(path))
      #expect((attributes[.posixPermissions] as? Int) == mode, "\(path)")
    }
    // Still never overwrites.
    let again = try await h.run(["identity", "new", "--out", h.path(".config/hotsecrets/me.identity")])
    #expect(again.status == 2)
    #expect(again.stderr.contains("already exists; refusing to overwrite it"))
  }
}
