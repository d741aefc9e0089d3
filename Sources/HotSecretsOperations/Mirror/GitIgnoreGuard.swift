import Foundation
import HotSecretsModel
import HotSecretsVault

/// Keeps plaintext secrets out of git: finds which files would be written into a git work tree
/// without being ignored.
///
/// git runs as `gitExecutable` (an absolute path resolved once per process) with
/// `gitEnvironment`: none of the caller's tokens, passphrases or `HOTSECRETS_*` settings reach it.
enum GitIgnoreGuard {
  /// The subset of `paths` that lie in a git work tree and are not ignored by it (a tracked file
  /// counts as not ignored, whatever .gitignore says). Outside any work tree: none. Throws
  /// `gitUnavailable` when a work tree is found but git cannot be run to check.
  static func unignored(_ paths: [String], near directory: String) throws -> [String] {
    guard !paths.isEmpty, let workTree = enclosingWorkTree(of: directory) else { return [] }
    guard let git = gitExecutable else { throw MirrorError.gitUnavailable(path: directory) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: git)
    // Paths relative to the work tree, so symlinks above it cannot make git call them "outside".
    let relative = paths.map { path -> String in
      let full = absolutePath(path)
      return full.hasPrefix(workTree + "/") ? String(full.dropFirst(workTree.count + 1)) : full
    }
    process.arguments = ["-C", workTree, "check-ignore", "--stdin", "-z"]
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    process.environment = gitEnvironment(ProcessInfo.processInfo.environment)
    do { try process.run() } catch { throw MirrorError.gitUnavailable(path: directory) }
    // git may exit before reading (e.g. 128: not a repository): the write then fails with EPIPE
    // instead of SIGPIPE killing this process, and the exit status below decides.
    let previous = signal(SIGPIPE, SIG_IGN)
    FileDescriptorIO.writeAll(
      input.fileHandleForWriting.fileDescriptor, Array(relative.joined(separator: "\0").utf8) + [0])
    signal(SIGPIPE, previous)
    try? input.fileHandleForWriting.close()
    let data = FileDescriptorIO.readAll(output.fileHandleForReading.fileDescriptor) ?? []
    process.waitUntilExit()
    // check-ignore exits 0 when some path is ignored, 1 when none is, 128 on error.
    guard process.terminationStatus == 0 || process.terminationStatus == 1 else {
      throw MirrorError.gitUnavailable(path: directory)
    }
    let ignored = Set(String(decoding: data, as: UTF8.self).split(separator: "\0").map(String.init))
    return zip(paths, relative).filter { !ignored.contains($0.1) }.map(\.0)
  }

  /// git as an absolute path: the first executable `git` in an absolute entry of the PATH this
  /// process started with (relative entries such as `.` are skipped: they would find a `git` in
  /// whatever folder the command runs in). Resolved once per process, so nothing that changes
  /// PATH later moves it; nil when there is none.
  static let gitExecutable: String? = findGit(searchPath: ProcessInfo.processInfo.environment["PATH"])

  /// The first executable regular file named `git` in an absolute entry of `searchPath` (a
  /// default system path when nil).
  static func findGit(searchPath: String?) -> String? {
    for entry in (searchPath ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") where entry.hasPrefix("/") {
      let candidate = VaultLocation.join(String(entry), "git")
      var info = stat()
      if stat(candidate, &info) == 0, info.st_mode & S_IFMT == S_IFREG, access(candidate, X_OK) == 0 {
        return candidate
      }
    }
    return nil
  }

  /// Variables passed to git, whatever else the caller's environment holds: where to find
  /// programs (PATH), the user's git configuration (HOME, XDG_CONFIG_HOME: a global excludes
  /// file changes what is ignored) and the locale. Nothing else: no token, passphrase or
  /// `HOTSECRETS_*` variable reaches git or anything its configuration runs, and no `GIT_*`
  /// variable either (GIT_DIR, GIT_WORK_TREE and friends could point the check at another
  /// repository; `-C` names the work tree instead).
  static let gitEnvironmentNames: Set<String> = [
    "PATH", "HOME", "XDG_CONFIG_HOME", "LANG", "LC_ALL", "LC_CTYPE", "LC_MESSAGES",
  ]

  /// `environment` reduced to `gitEnvironmentNames`.
  static func gitEnvironment(_ environment: [String: String]) -> [String: String] {
    environment.filter { gitEnvironmentNames.contains($0.key) }
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
