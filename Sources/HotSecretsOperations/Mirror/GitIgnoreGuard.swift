import Foundation
import HotSecretsModel
import HotSecretsVault

/// Keeps plaintext secrets out of git: finds which files would be written into a git work tree
/// without being ignored. git runs through `GitCommand` (a fixed path, a minimal environment).
enum GitIgnoreGuard {
  /// The subset of `paths` that lie in a git work tree and are not ignored by it (a tracked file
  /// counts as not ignored, whatever .gitignore says). Outside any work tree: none. Throws
  /// `gitUnavailable` when a work tree is found but git cannot be run to check.
  static func unignored(_ paths: [String], near directory: String) throws -> [String] {
    guard !paths.isEmpty, let workTree = enclosingWorkTree(of: directory) else { return [] }
    // Paths relative to the work tree, so symlinks above it cannot make git call them "outside".
    let relative = paths.map { path -> String in
      let full = absolutePath(path)
      return full.hasPrefix(workTree + "/") ? String(full.dropFirst(workTree.count + 1)) : full
    }
    // check-ignore exits 0 when some path is ignored, 1 when none is, 128 on error.
    guard
      let (status, data) = try? GitCommand.run(
        ["-C", workTree, "check-ignore", "--stdin", "-z"], input: Array(relative.joined(separator: "\0").utf8) + [0]),
      status == 0 || status == 1
    else { throw MirrorError.gitUnavailable(path: directory) }
    let ignored = Set(String(decoding: data, as: UTF8.self).split(separator: "\0").map(String.init))
    return zip(paths, relative).filter { !ignored.contains($0.1) }.map(\.0)
  }

  /// The nearest folder at or above `directory` (or its nearest existing ancestor) holding `.git`.
  static func enclosingWorkTree(of directory: String) -> String? {
    var current = absolutePath(directory)
    let fm = FileManager.default
    while true {
      if fm.fileExists(atPath: current + "/.git") { return current }
      let parent = PathName.folder(of: current)
      if parent == current || parent.isEmpty { return nil }
      current = parent
    }
  }

  static func absolutePath(_ path: String) -> String {
    let full = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    return (full as NSString).standardizingPath
  }
}
