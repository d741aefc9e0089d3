import Foundation

/// The JSON every command prints and every bundle file holds: pretty-printed, keys sorted, slashes
/// not escaped, empty arrays and objects as `[]` and `{}`, so equal data gives equal bytes.
public enum StableJSON {
  public static func encode<T: Encodable>(_ value: T) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return collapsingEmptyContainers(try encoder.encode(value))
  }

  /// Foundation's pretty printer writes an empty array as `[`, a blank line and `]`; this writes
  /// `[]` (and `{}`). Bytes inside strings are left alone.
  static func collapsingEmptyContainers(_ data: Data) -> Data {
    let bytes = [UInt8](data)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count)
    var inString = false
    var escaped = false
    var i = 0
    while i < bytes.count {
      let byte = bytes[i]
      out.append(byte)
      i += 1
      if inString {
        if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
        continue
      }
      if byte == UInt8(ascii: "\"") {
        inString = true
      } else if byte == UInt8(ascii: "[") || byte == UInt8(ascii: "{") {
        var j = i
        while j < bytes.count, bytes[j] == UInt8(ascii: " ") || bytes[j] == UInt8(ascii: "\n") { j += 1 }
        let close = byte == UInt8(ascii: "[") ? UInt8(ascii: "]") : UInt8(ascii: "}")
        if j < bytes.count, bytes[j] == close {
          out.append(close)
          i = j + 1
        }
      }
    }
    return Data(out)
  }
}
