/// Words an API chooses that hotsecrets keeps (machine and key ids, check names, states): they go
/// into reasons, the audit trail and the rotation journal, so only identifier characters pass.
public enum RemoteText {
  /// The characters an identifier may hold: letters, digits and `. _ : @ -`.
  static func isIdentifierByte(_ byte: UInt8) -> Bool {
    (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte)
      || [UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "@"), UInt8(ascii: "-")].contains(byte)
  }

  /// Whether `text` is an identifier of 1 to 128 such characters (anything else is refused as an
  /// unexpected answer: an id is also sent back in later requests).
  public static func isIdentifier(_ text: String) -> Bool {
    !text.isEmpty && text.utf8.count <= 128 && text.utf8.allSatisfy(isIdentifierByte)
  }

  /// `text` reduced to identifier characters (others become `?`), at most 64 of them: for words
  /// that are only shown, such as a health check's name or status.
  public static func label(_ text: String) -> String {
    let bytes = text.utf8.prefix(64).map { isIdentifierByte($0) || $0 == UInt8(ascii: " ") ? $0 : UInt8(ascii: "?") }
    return String(decoding: bytes, as: UTF8.self) + (text.utf8.count > 64 ? "…" : "")
  }

  /// `text` with control characters (C0 but tab, DEL, C1) replaced by `?`: an API's message printed
  /// on a terminal cannot move the cursor, recolour or forge a further line.
  public static func printable(_ text: String) -> String {
    var out = String.UnicodeScalarView()
    for scalar in text.unicodeScalars {
      let v = scalar.value
      out.append((v < 0x20 && v != 0x09) || (0x7F...0x9F).contains(v) ? "?" : scalar)
    }
    return String(out)
  }
}
