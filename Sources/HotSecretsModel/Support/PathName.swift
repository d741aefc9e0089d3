import Foundation

/// Path arithmetic without Foundation's `NSString.deletingLastPathComponent`, which crashes on a
/// one-character path (`--out b`, `--vault v`) in the Foundation this builds with.
public enum PathName {
  /// The folder part of `path`: "" for a bare name, "/" for a name in the root; trailing slashes are
  /// ignored (`a/b/` → `a`).
  public static func folder(of path: String) -> String {
    var trimmed = Substring(path)
    while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
    guard let slash = trimmed.lastIndex(of: "/") else { return "" }
    if slash == trimmed.startIndex { return "/" }
    var folder = trimmed[..<slash]
    while folder.count > 1, folder.hasSuffix("/") { folder = folder.dropLast() }
    return String(folder)
  }

  /// The last component of `path` (trailing slashes ignored): `b` for `a/b`, `a` for `a`.
  public static func base(of path: String) -> String {
    var trimmed = Substring(path)
    while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
    return trimmed.lastIndex(of: "/").map { String(trimmed[trimmed.index(after: $0)...]) } ?? String(trimmed)
  }

  /// Creates the folder of `path` and its missing parents, mode 0700 when `private` (else the
  /// umask's); nothing for a bare name or a folder that exists. Throws `VaultError.io` naming it.
  public static func createFolder(of path: String, private: Bool = true) throws {
    let folder = folder(of: path)
    guard !folder.isEmpty, !FileManager.default.fileExists(atPath: folder) else { return }
    do {
      try FileManager.default.createDirectory(
        atPath: folder, withIntermediateDirectories: true, attributes: `private` ? [.posixPermissions: 0o700] : nil)
    } catch {
      throw VaultError.io(path: folder, reason: "cannot create the folder")
    }
  }
}
