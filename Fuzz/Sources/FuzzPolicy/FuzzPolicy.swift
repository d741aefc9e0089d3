import FuzzSupport
import HotSecretsPolicy

/// Any text as a policy file: a `Policy` or a `PolicyError` naming file:line:column, never a trap
/// (libyaml's events, anchors and aliases, deep nesting, the field checks, format patterns).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPolicy(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  guard let data else { return 0 }
  let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
  _ = try? PolicyParser.parse(text, file: "policies/fuzz.yaml")
  return 0
}

/// The process entry point (SwiftPM links `main` as `FuzzPolicy_main`): libFuzzer's driver.
@_cdecl("FuzzPolicy_main")
func fuzzPolicyMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  var count = argc
  var arguments = argv
  return LLVMFuzzerRunDriver(&count, &arguments) { fuzzPolicy($0, $1) }
}
