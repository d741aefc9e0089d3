/// Recognises values that are obviously not real: `changeme`, `TODO`, `xxx`, `your-api-key`,
/// `<...>`, `example`, `dummy`, a single repeated character, …  Works on ASCII-lower-cased UTF-8
/// bytes: `verify` runs it on every value of the environment.
enum PlaceholderDetector {
  /// Whole values (case-insensitive, surrounding whitespace ignored) that are placeholders.
  private static let exact: Set<[UInt8]> = Set(
    [
      "changeme", "change-me", "change_me", "todo", "tbd", "fixme", "xxx", "placeholder", "example", "dummy", "secret",
      "password", "test", "none", "null", "undefined", "replace-me", "replaceme",
    ].map { Array($0.utf8) })
  private static let longestExact = exact.map(\.count).max() ?? 0
  /// Fragments long enough that a real random credential will not contain them by chance.
  private static let fragments: [(bytes: [UInt8], name: String)] = [
    "changeme", "change_me", "change-me", "placeholder", "example", "dummy", "your-", "your_", "replace_me",
    "replace-me",
  ].map { (Array($0.utf8), $0.trimmingCharacters(["-", "_"])) }

  /// The reason `value` looks like a placeholder, or nil.
  static func reason(_ value: String) -> String? {
    var lower = Array(value.utf8)
    for i in lower.indices where lower[i] >= 65 && lower[i] <= 90 { lower[i] += 32 }
    var start = 0
    var end = lower.count
    while start < end, isSpace(lower[start]) { start += 1 }
    while end > start, isSpace(lower[end - 1]) { end -= 1 }
    let trimmed = lower[start..<end]
    if trimmed.count <= longestExact, exact.contains(Array(trimmed)) { return "value is a placeholder word" }
    if trimmed.first == UInt8(ascii: "<") && trimmed.last == UInt8(ascii: ">") { return "value is a <placeholder>" }
    for fragment in fragments where contains(lower, fragment.bytes) { return "value contains '\(fragment.name)'" }
    if trimmed.count >= 2, let first = trimmed.first {
      let repeated =
        first < 0x80
        // ASCII: one byte per character. Otherwise compare whole characters.
        ? trimmed.allSatisfy { $0 == first }
        : Set(String(decoding: trimmed, as: UTF8.self).unicodeScalars).count == 1
      if repeated { return "value is one repeated character" }
    }
    return nil
  }

  private static func isSpace(_ c: UInt8) -> Bool { c == 32 || (c >= 9 && c <= 13) }

  private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
    guard needle.count <= haystack.count, let first = needle.first else { return false }
    var i = 0
    let last = haystack.count - needle.count
    while i <= last {
      if haystack[i] == first {
        var j = 1
        while j < needle.count, haystack[i + j] == needle[j] { j += 1 }
        if j == needle.count { return true }
      }
      i += 1
    }
    return false
  }
}

extension String {
  fileprivate func trimmingCharacters(_ set: Set<Character>) -> String {
    var s = Substring(self)
    while let c = s.first, set.contains(c) { s = s.dropFirst() }
    while let c = s.last, set.contains(c) { s = s.dropLast() }
    return String(s)
  }
}
