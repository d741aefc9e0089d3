/// A JSON value with one canonical text form: object keys sorted by code point, no insignificant
/// whitespace, integers only, and the escapes Python's `json.dumps(..., sort_keys=True,
/// separators=(",", ":"), ensure_ascii=False)` uses. An auditor can recompute audit hashes with
/// that one Python call.
public indirect enum CanonicalJSON: Equatable, Sendable {
  case null
  case bool(Bool)
  case int(Int)
  case string(String)
  case array([CanonicalJSON])
  case object([String: CanonicalJSON])

  /// The canonical text.
  public var text: String {
    var out = ""
    write(to: &out)
    return out
  }

  private func write(to out: inout String) {
    switch self {
    case .null: out += "null"
    case .bool(let b): out += b ? "true" : "false"
    case .int(let i): out += String(i)
    case .string(let s): Self.appendString(s, to: &out)
    case .array(let items):
      out += "["
      for (i, item) in items.enumerated() {
        if i > 0 { out += "," }
        item.write(to: &out)
      }
      out += "]"
    case .object(let fields):
      out += "{"
      // Python sorts keys by code point; Swift's String < compares by unicode scalars too for
      // the ASCII keys we use, but compare scalars explicitly to be exact.
      let keys = fields.keys.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
      for (i, key) in keys.enumerated() {
        if i > 0 { out += "," }
        Self.appendString(key, to: &out)
        out += ":"
        fields[key]!.write(to: &out)
      }
      out += "}"
    }
  }

  /// Appends `s` as a JSON string literal with Python's escapes.
  static func appendString(_ s: String, to out: inout String) {
    // Fast path: printable ASCII without quote or backslash needs no escaping.
    if s.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7f && $0 != 0x22 && $0 != 0x5c }) {
      out += "\""
      out += s
      out += "\""
      return
    }
    out += "\""
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case "\u{08}": out += "\\b"
      case "\u{0C}": out += "\\f"
      default:
        if scalar.value < 0x20 {
          let hex = String(scalar.value, radix: 16)
          out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    out += "\""
  }
}
