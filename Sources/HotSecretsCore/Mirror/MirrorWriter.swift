import DotEnv
import Foundation

/// What `render` did.
public struct RenderReport: Sendable {
  /// Files whose content changed and were rewritten.
  public var written: [String] = []
  /// Files already holding exactly what the store holds.
  public var unchanged: [String] = []
  public var keys = 0
  /// Files and folders whose permissions were narrowed to 0600 / 0700.
  public var tightened: [String] = []
}

/// Writes an environment's working copies from the store.
public enum MirrorWriter {
  /// The comment heading every rendered file (no timestamp, so unchanged content stays byte-equal).
  static func header(environment: String) -> String {
    "Rendered by hotsecrets from the vault (\(environment)). Plaintext secrets: keep this file out of git.\nEdit, then run `hotsecrets import \(environment)` to store the change."
  }

  /// Renders `values` (sorted by service and key) into `directory/<service>/<environment>.env`.
  /// Only files whose content differs are rewritten, each atomically (temp file, fsync, rename,
  /// fsync of the folder) with mode 0600; folders are created 0700. Before anything is written,
  /// every file about to be written must be ignored by git when it lies in a git work tree
  /// (`MirrorError.notIgnoredByGit` otherwise).
  public static func render(
    _ values: [(name: ServiceKey, value: [UInt8])], environment: String, directory: String
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
    var report = RenderReport(keys: values.count)
    var pending: [(path: String, folder: String, bytes: [UInt8])] = []
    // Wiped in place: a `for var` copy shares the buffer, and wiping it would wipe only a new copy.
    defer { for index in pending.indices { wipe(&pending[index].bytes) } }
    let fileName = MirrorReader.fileName(environment: environment)
    for (service, entries) in byService {
      let folder = VaultLocation.join(directory, service)
      let path = VaultLocation.join(folder, fileName)
      var bytes = Array(DotEnvWriter.write(entries, header: header(environment: environment)).utf8)
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
    for item in pending {
      try makeFolder(item.folder)
      try AtomicFile.write(item.bytes, to: item.path, mode: 0o600)
      report.written.append(item.path)
    }
    return report
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

/// Crash-safe file replacement.
enum AtomicFile {
  /// Writes `bytes` to a temporary file beside `path`, fsyncs it, renames it over `path`, then
  /// fsyncs the folder: a reader sees the old content or the new, never a mix. The temporary file
  /// ends like `path` (e.g. `.env`), so the ignore rule that covers `path` covers it too.
  static func write(_ bytes: [UInt8], to path: String, mode: mode_t) throws {
    let folder = (path as NSString).deletingLastPathComponent
    let suffix = (path as NSString).pathExtension.isEmpty ? "" : "." + (path as NSString).pathExtension
    var template = Array((VaultLocation.join(folder.isEmpty ? "." : folder, ".hotsecrets-XXXXXX" + suffix)).utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemps($0.baseAddress!, Int32(suffix.utf8.count)) }
    guard fd >= 0 else { throw MirrorError.writeFailed(path: path, reason: String(cString: strerror(errno))) }
    let tempPath = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    var ok = false
    defer {
      if !ok { unlink(tempPath) }
    }
    guard fchmod(fd, mode) == 0 else {
      close(fd)
      throw MirrorError.writeFailed(path: path, reason: String(cString: strerror(errno)))
    }
    var offset = 0
    while offset < bytes.count {
      let n = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress! + offset, $0.count - offset) }
      if n < 0 && errno == EINTR { continue }
      guard n > 0 else {
        close(fd)
        throw MirrorError.writeFailed(path: path, reason: String(cString: strerror(errno)))
      }
      offset += n
    }
    guard fsync(fd) == 0, close(fd) == 0 else { throw MirrorError.writeFailed(path: path, reason: "fsync failed") }
    guard rename(tempPath, path) == 0 else {
      throw MirrorError.writeFailed(path: path, reason: String(cString: strerror(errno)))
    }
    ok = true
    let dirFD = open(folder.isEmpty ? "." : folder, O_RDONLY | O_DIRECTORY)
    if dirFD >= 0 {
      _ = fsync(dirFD)
      close(dirFD)
    }
  }
}
