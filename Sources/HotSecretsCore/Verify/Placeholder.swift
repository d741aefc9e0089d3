/// Recognises values that are obviously not real: `changeme`, `TODO`, `xxx`, `your-api-key`,
/// `<...>`, `example`, `dummy`, a single repeated character, …
enum PlaceholderDetector {
  /// Whole values (case-insensitive) that are placeholders.
  private static let exact: Set<String> = [
    "changeme", "change-me", "change_me", "todo", "tbd", "fixme", "xxx", "placeholder", "example", "dummy", "secret",
    "password", "test", "none", "null", "undefined", "replace-me", "replaceme",
  ]
  /// Fragments long enough that a real random credential will not contain them by chance.
  private static let fragments = ["changeme", "change_me", "change-me", "placeholder", "example", "dummy", "your-", "your_", "replace_me", "replace-me"]

  /// The reason `value` looks like a placeholder, or nil.
  static func reason(_ value: String) -> String? {
    let lower = value.lowercased()
    let trimmed = lower.trimmingWhitespace()
    if exact.contains(trimmed) { return "value is a placeholder word" }
    if trimmed.hasPrefix("<") && trimmed.hasSuffix(">") { return "value is a <placeholder>" }
    if let fragment = fragments.first(where: { lower.contains($0) }) {
      return "value contains '\(fragment.trimmingCharacters(in: ["-", "_"]))'"
    }
    let scalars = Array(trimmed.unicodeScalars)
    if scalars.count >= 2, scalars.allSatisfy({ $0 == scalars[0] }) { return "value is one repeated character" }
    return nil
  }
}

extension String {
  fileprivate func trimmingCharacters(in set: Set<Character>) -> String {
    var s = Substring(self)
    while let c = s.first, set.contains(c) { s = s.dropFirst() }
    while let c = s.last, set.contains(c) { s = s.dropLast() }
    return String(s)
  }
}
