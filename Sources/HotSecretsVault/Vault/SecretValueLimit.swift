/// The largest value the vault stores. Credentials, keys and certificates fit easily; the bound
/// keeps one `set` or `import` from filling the file, every render and `run` environment, and the
/// policy checks' work.
public enum SecretValueLimit {
  /// 64 KiB. `set`, `import` and `rotate` refuse a larger value with `valueTooLarge`.
  public static let maximumBytes = 65_536
}
