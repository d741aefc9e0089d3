import FuzzSupport
import Foundation
import HotSecretsModel
import HotSecretsVault

/// Any bytes: as a checkpoint-log line (parsed or refused, never a trap); and, when they are JSON,
/// as an audit detail — its canonical text must be valid JSON whose canonical text is itself.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCanonicalJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  guard let data else { return 0 }
  let bytes = Data(UnsafeBufferPointer(start: data, count: size))
  _ = try? AuditCheckpoint.parse(String(decoding: bytes, as: UTF8.self))
  guard let object = try? JSONSerialization.jsonObject(with: bytes, options: [.fragmentsAllowed]),
    let value = canonical(object)
  else { return 0 }
  let text = value.text
  guard let reread = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) else {
    fatalError("canonical text is not JSON: \(text)")
  }
  guard let again = canonical(reread), again.text == text else {
    fatalError("canonical text is not stable: \(text)")
  }
  return 0
}

/// A JSON value as `CanonicalJSON` (which holds integers only: nil for other numbers).
func canonical(_ object: Any) -> CanonicalJSON? {
  switch object {
  case is NSNull: return .null
  case let number as NSNumber:
    // JSONSerialization's booleans are NSNumbers of type char.
    if String(cString: number.objCType) == "c" { return .bool(number.boolValue) }
    let int = number.intValue
    return NSNumber(value: int) == number ? .int(int) : nil
  case let string as String: return .string(string)
  case let array as [Any]:
    var items: [CanonicalJSON] = []
    for item in array {
      guard let value = canonical(item) else { return nil }
      items.append(value)
    }
    return .array(items)
  case let dictionary as [String: Any]:
    var fields: [String: CanonicalJSON] = [:]
    for (key, item) in dictionary {
      guard let value = canonical(item) else { return nil }
      fields[key] = value
    }
    return .object(fields)
  default: return nil
  }
}

/// The process entry point (SwiftPM links `main` as `FuzzCanonicalJSON_main`): libFuzzer's driver.
@_cdecl("FuzzCanonicalJSON_main")
func fuzzCanonicalJSONMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  var count = argc
  var arguments = argv
  return LLVMFuzzerRunDriver(&count, &arguments) { fuzzCanonicalJSON($0, $1) }
}
