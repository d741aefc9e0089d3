/// Where the vault file is: `--vault PATH`, else `$HOTSECRETS_VAULT`, else
/// `vault/hotsecrets.db` under the root folder (default: the current directory).
public enum VaultLocation {
  public static let defaultRelativePath = "vault/hotsecrets.db"

  /// Resolves the vault path. Relative paths are taken relative to the current directory for
  /// `explicit` and `environment`, and relative to `root` for the default.
  public static func resolve(explicit: String?, environment: String?, root: String) -> String {
    if let p = explicit, !p.isEmpty { return p }
    if let p = environment, !p.isEmpty { return p }
    return join(root, defaultRelativePath)
  }

  /// `base/relative` without doubling slashes; `relative` when `base` is "." or empty.
  public static func join(_ base: String, _ relative: String) -> String {
    if relative.hasPrefix("/") || base.isEmpty || base == "." { return relative }
    return base.hasSuffix("/") ? base + relative : base + "/" + relative
  }
}
