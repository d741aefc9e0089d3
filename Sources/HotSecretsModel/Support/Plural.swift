/// "1 key", "2 keys".
public enum Plural {
  /// `n` and the noun, singular for 1; `plural` defaults to the noun with an "s".
  public static func count(_ n: Int, _ noun: String, _ plural: String? = nil) -> String {
    n == 1 ? "1 \(noun)" : "\(n) \(plural ?? noun + "s")"
  }
}
