import Foundation

/// The JSON every command prints and every bundle file holds: pretty-printed, keys sorted, slashes
/// not escaped, so equal data gives equal bytes.
public enum StableJSON {
  public static func encode<T: Encodable>(_ value: T) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return try encoder.encode(value)
  }
}
