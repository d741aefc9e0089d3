import DotEnv
import Foundation
import HotSecretsModel
import HotSecretsVault

/// What `render` did.
public struct RenderReport: Sendable {
  /// Files whose content changed and were rewritten.
  public var written: [String] = []
  /// Files already holding exactly what the store holds.
  public var unchanged: [String] = []
  public var keys = 0
  /// Files and folders whose permissions were narrowed to 0600 / 0700.
  public var tightened: [String] = []
  /// Set when the base could not be recorded after the files were written (one line, no value).
  public var baseWarning: String?
}

/// Writes an environment's working copies from the store.
public enum MirrorWriter {
  /// Renders `values` (sorted by service and key) into `directory/<service>/<environment>.env`.
  /// Only files whose content differs are rewritten, each atomically (temp file, fsync, rename,
  /// fsync of the folder) with mode 0600; folders are created 0700. Before anything is written,
  /// every file about to be written must be ignored by git when it lies in a git work tree
  /// (`MirrorError.notIgnoredByGit` otherwise), and neither `directory`, nor a service folder in
  /// it, nor a file there may be a symbolic link (`MirrorError.symbolicLink`, checked before any
  /// file is read, changed or written: a link would send the plaintext, or the 0700/0600 modes,
  /// to wherever it points). `header` is the comment heading every file (lines without `#`); it has
  /// no timestamp, so unchanged content stays byte-equal.
  public static func render(
    _ values: [(name: ServiceKey, value: [UInt8])], environment: String, directory: String, header: String
  ) throws -> RenderReport {
    var byService: [(service: String, entries: [(key: String, value: String)])] = []
    for (name, value) in values {
      let text = String(decoding: value, as: UTF8.self)
      if byService.last?.service == name.service {
        byService[byService.count - 1].entries.append((name.key, text))
      } else {
        byService.append((name.service, [(name.key, text)]))
      }
    }
    let fileName = MirrorReader.fileName(environment: environment)
    try refuseSymbolicLink(directory)
    for (service, _) in byService {
      let folder = VaultLocation.join(directory, service)
      try refuseSymbolicLink(folder)
      try refuseSymbolicLink(VaultLocation.join(folder, fileName))
    }
    var report = RenderReport(keys: values.count)
    var pending: [(path: String, folder: String, bytes: [UInt8])] = []
    // Wiped in place: a `for var` copy shares the buffer, and wiping it would wipe only a new copy.
    defer { for index in pending.indices { wipe(&pending[index].bytes) } }
    for (service, entries) in byService {
      let folder = VaultLocation.join(directory, service)
      let path = VaultLocation.join(folder, fileName)
      var bytes = Array(DotEnvWriter.write(entries, header: header).utf8)
      if var (existing, mode) = try? MirrorReader.readFile(path) {
        defer { wipe(&existing) }
        if existing == bytes {
          report.unchanged.append(path)
          if mode & 0o077 != 0 {
            chmod(path, 0o600)
            report.tightened.append(path)
          }
          wipe(&bytes)
          continue
        }
      }
      pending.append((path, folder, bytes))
    }
    guard !pending.isEmpty else { return report }
    let unignored = try GitIgnoreGuard.unignored(pending.map(\.path), near: directory)
    guard unignored.isEmpty else { throw MirrorError.notIgnoredByGit(paths: unignored) }
    for item in pending { try makeFolder(item.folder) }
    try AtomicFile.write(pending.map { ($0.path, $0.bytes) }, mode: 0o600, alsoSyncing: directory)
    report.written = pending.map(\.path)
    return report
  }

  /// Throws `symbolicLink` when `path` itself (not a folder above it) is a symbolic link.
  static func refuseSymbolicLink(_ path: String) throws {
    var trimmed = path
    // lstat("link/") would follow the link.
    while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed.removeLast() }
    var info = stat()
    if lstat(trimmed, &info) == 0, info.st_mode & S_IFMT == S_IFLNK {
      throw MirrorError.symbolicLink(path: path)
    }
  }

  private static func makeFolder(_ path: String) throws {
    var info = stat()
    if stat(path, &info) == 0 {
      guard info.st_mode & S_IFMT == S_IFDIR else { throw MirrorError.writeFailed(path: path, reason: "not a folder") }
      if info.st_mode & 0o077 != 0 { chmod(path, 0o700) }
      return
    }
    do {
      try FileManager.default.createDirectory(
        atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    } catch {
      throw MirrorError.writeFailed(path: path, reason: "cannot create the folder")
    }
  }
}

/// Crash-safe replacement of a set of files.
enum AtomicFile {
  /// Writes each file's new content to a temporary file beside it and fsyncs them all, then
  /// renames them over their files, then fsyncs each folder once (and `alsoSyncing`, e.g. the
  /// folder new service folders were made in). A reader sees each file's old content or its new,
  /// never a mix; an error while writing leaves every file as it was (the temporary files are
  /// removed), and one while renaming leaves the files before it replaced and the rest as they
  /// were. A temporary file ends like its file (e.g. `.env`), so the ignore rule that covers the
  /// file covers it too.
  static func write(_ files: [(path: String, bytes: [UInt8])], mode: mode_t, alsoSyncing extra: String? = nil) throws {
    var staged: [(temp: String, path: String)] = []
    var renamed = 0
    defer { for item in staged[renamed...] { unlink(item.temp) } }
    for (path, bytes) in files {
      staged.append((try stage(bytes, for: path, mode: mode), path))
    }
    for item in staged {
      guard rename(item.temp, item.path) == 0 else {
        throw MirrorError.writeFailed(path: item.path, reason: String(cString: strerror(errno)))
      }
      renamed += 1
    }
    var folders = Set(files.map { folder(of: $0.path) })
    if let extra { folders.insert(extra) }
    for folder in folders.sorted() {
      let fd = open(folder, O_RDONLY | O_DIRECTORY)
      if fd >= 0 {
        _ = fsync(fd)
        close(fd)
      }
    }
  }

  /// `bytes` in a new temporary file beside `path` with `mode`, fsynced; returns its path.
  private static func stage(_ bytes: [UInt8], for path: String, mode: mode_t) throws -> String {
    let suffix = (path as NSString).pathExtension.isEmpty ? "" : "." + (path as NSString).pathExtension
    var template = Array(VaultLocation.join(folder(of: path), ".hotsecrets-XXXXXX" + suffix).utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemps($0.baseAddress!, Int32(suffix.utf8.count)) }
    guard fd >= 0 else { throw MirrorError.writeFailed(path: path, reason: String(cString: strerror(errno))) }
    let tempPath = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    func fail(_ reason: String) -> Error {
      close(fd)
      unlink(tempPath)
      return MirrorError.writeFailed(path: path, reason: reason)
    }
    guard fchmod(fd, mode) == 0 else { throw fail(String(cString: strerror(errno))) }
    var offset = 0
    while offset < bytes.count {
      let n = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress! + offset, $0.count - offset) }
      if n < 0 && errno == EINTR { continue }
      guard n > 0 else { throw fail(String(cString: strerror(errno))) }
      offset += n
    }
    guard fsync(fd) == 0 else { throw fail("fsync failed") }
    guard close(fd) == 0 else {
      unlink(tempPath)
      throw MirrorError.writeFailed(path: path, reason: "close failed")
    }
    return tempPath
  }

  private static func folder(of path: String) -> String {
    let folder = PathName.folder(of: path)
    return folder.isEmpty ? "." : folder
  }
}
