import Foundation
import Testing

@testable import HotSecretsCLI
@testable import HotSecretsCore

/// Local hardening, end to end (docs/security.md).
@Suite struct HardeningCommandTests {
  // MARK: - Process

  @Test func theProcessIsMadeNonDumpable() throws {
    typealias Prctl = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
    let prctl = unsafeBitCast(try #require(dlsym(nil, "prctl")), to: Prctl.self)
    #expect(prctl(ProcessHardening.prGetDumpable, 0, 0, 0, 0) == 1)
    #expect(ProcessHardening.disableDumping())
    #expect(prctl(ProcessHardening.prGetDumpable, 0, 0, 0, 0) == 0)
    _ = prctl(ProcessHardening.prSetDumpable, 1, 0, 0, 0)  // the rest of the test run may need it
  }
}
