import FuzzSupport
import DotEnv

/// Any bytes: the parser returns entries or throws, never traps. Entries it accepts are written
/// back by `DotEnvWriter` and must parse to the same entries (the writer quotes what it must).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDotEnv(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  guard let data else { return 0 }
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))
  guard let file = try? DotEnvParser.parse(bytes, file: "fuzz.env") else { return 0 }
  let entries = file.entries.map { (key: $0.key, value: $0.value) }
  let written = DotEnvWriter.write(entries)
  guard let again = try? DotEnvParser.parse(written, file: "fuzz.env") else {
    fatalError("the writer's output does not parse")
  }
  guard again.entries.map(\.key) == entries.map(\.key), again.entries.map(\.value) == entries.map(\.value) else {
    fatalError("a written file reads back differently")
  }
  return 0
}

/// The process entry point (SwiftPM links `main` as `FuzzDotEnv_main`): libFuzzer's driver.
@_cdecl("FuzzDotEnv_main")
func fuzzDotEnvMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  var count = argc
  var arguments = argv
  return LLVMFuzzerRunDriver(&count, &arguments) { fuzzDotEnv($0, $1) }
}
