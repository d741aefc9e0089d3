import DotEnv
import Foundation
import HotSecretsModel
import HotSecretsVault

/// One environment's plaintext working copies, read from `DIR/<service>/<env>.env`.
public struct MirrorSnapshot: Sendable {
  public struct File: Sendable {
    public let service: String
    public let path: String
    public let entries: [DotEnvEntry]
  }

  /// The folder read.
  public let directory: String
  /// Files in service order.
  public let files: [File]
  /// The working copy's base, when it has one (`MirrorBase`; possibly of another vault).
  public let base: MirrorBase?
  /// Non-fatal findings, e.g. files readable by other users. One line each; never a value.
  public let warnings: [String]

  public init(directory: String, files: [File], base: MirrorBase? = nil, warnings: [String] = []) {
    self.directory = directory
    self.files = files
    self.base = base
    self.warnings = warnings
  }

  /// Every (service, key) with its value, in file order.
  public var values: [(name: ServiceKey, value: String)] {
    files.flatMap { file in file.entries.map { (ServiceKey(service: file.service, key: $0.key), $0.value) } }
  }
}

/// Reads the mirror folder.
public enum MirrorReader {
  /// The file name of an environment's working copy, e.g. `prod.env`.
  public static func fileName(environment: String) -> String { environment + ".env" }

  /// Reads and parses every `directory/<service>/<environment>.env`. Folders without that file are
  /// skipped, as are hidden ones. Throws on the first problem (`MirrorError.parse` with
  /// file:line:column, an invalid service folder name, an unreadable file): one bad file means
  /// nothing is read. The folder's base (`MirrorBase.read`) comes with the files.
  public static func read(directory: String, environment: String) throws -> MirrorSnapshot {
    try SecretAddress.validateEnvironment(environment)
    let fm = FileManager.default
    var isDirectory: ObjCBool = false
    guard fm.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
      throw MirrorError.noFolder(path: directory)
    }
    let names: [String]
    do { names = try fm.contentsOfDirectory(atPath: directory).sorted() } catch {
      throw MirrorError.unreadable(path: directory, reason: "cannot list the folder")
    }
    var files: [MirrorSnapshot.File] = []
    var warnings: [String] = []
    let fileName = fileName(environment: environment)
    for name in names where !name.hasPrefix(".") {
      let folder = VaultLocation.join(directory, name)
      let path = VaultLocation.join(folder, fileName)
      guard fm.fileExists(atPath: path) else { continue }
      guard SecretAddress.isServiceName(name) else { throw MirrorError.invalidServiceFolder(path: folder) }
      let (bytes, mode) = try readFile(path)
      if mode & 0o077 != 0 {
        warnings.append(
          "\(path) is readable by other users (mode \(String(mode & 0o777, radix: 8))); run: chmod 600 \(path)")
      }
      do {
        let parsed = try DotEnvParser.parse(bytes, file: path)
        files.append(MirrorSnapshot.File(service: name, path: path, entries: parsed.entries))
      } catch {
        throw MirrorError.parse(error)
      }
    }
    return MirrorSnapshot(
      directory: directory, files: files, base: try MirrorBase.read(directory: directory, environment: environment),
      warnings: warnings)
  }

  /// The file's bytes and permission bits, read through one descriptor.
  static func readFile(_ path: String) throws -> ([UInt8], mode_t) {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw MirrorError.unreadable(path: path, reason: String(cString: strerror(errno))) }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else {
      throw MirrorError.unreadable(path: path, reason: String(cString: strerror(errno)))
    }
    var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
    var offset = 0
    while offset < bytes.count {
      let n = bytes.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress! + offset, $0.count - offset) }
      if n < 0 && errno == EINTR { continue }
      guard n > 0 else { break }
      offset += n
    }
    if offset < bytes.count { bytes.removeLast(bytes.count - offset) }
    return (bytes, info.st_mode)
  }
}
