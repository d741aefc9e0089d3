import Foundation
import HotSecretsModel
import HotSecretsVault

/// What a working copy held when it last matched the vault: for each key, the fingerprint of the
/// value last imported from or rendered to its file. With it, a difference between a file and the
/// vault says which side changed (as git's merge base does), so `import` never stores an old file
/// value over a newer vault one and `render` never overwrites an edit.
///
/// The base belongs to the working copy, not to the vault: each person's folder has its own (a
/// teammate who has not rendered since a change has an older one). It is the file
/// `DIR/.hotsecrets-base-<env>.env`, written after the files and the vault agree, holding keyed
/// fingerprints only (nothing about a value without the vault's keys). Every line is a comment, so
/// it is a valid, empty dotenv file, and the `*.env` rule that keeps the working copies out of git
/// covers it.
public struct MirrorBase: Sendable, Equatable {
  /// The vault whose fingerprint key made the fingerprints. A base of another vault is ignored.
  public let vaultID: String
  public let environment: String
  /// Fingerprint per key; a key without one was in neither the file nor the vault at the base.
  public var fingerprints: [ServiceKey: String]

  public init(vaultID: String, environment: String, fingerprints: [ServiceKey: String]) {
    self.vaultID = vaultID
    self.environment = environment
    self.fingerprints = fingerprints
  }

  /// `directory/.hotsecrets-base-<environment>.env`.
  public static func path(directory: String, environment: String) -> String {
    VaultLocation.join(directory, ".hotsecrets-base-\(environment).env")
  }

  static let formatLine = "# hotsecrets mirror base v1"
  private static let entryPrefix = "#= "

  /// The base in `directory`, nil when there is none. Throws `MirrorError.badBase` naming the
  /// line of a file that is not a base (delete it to start over).
  public static func read(directory: String, environment: String) throws -> MirrorBase? {
    let path = path(directory: directory, environment: environment)
    guard FileManager.default.fileExists(atPath: path) else { return nil }
    let bytes = try MirrorReader.readFile(path).0
    return try parse(String(decoding: bytes, as: UTF8.self), path: path, environment: environment)
  }

  /// Reads the base's lines as bytes (a base has a line per key: thousands on a large vault, read by
  /// every `status`).
  static func parse(_ text: String, path: String, environment: String) throws -> MirrorBase {
    var vaultID: String?
    var fingerprints: [ServiceKey: String] = [:]
    var sawFormat = false
    let bytes = Array(text.utf8)
    let formatBytes = Array(formatLine.utf8)
    var lineNumber = 0
    var start = 0
    while start < bytes.count {
      lineNumber += 1
      let end = bytes[start...].firstIndex(of: 10) ?? bytes.count
      let line = bytes[start..<end]
      start = end + 1
      let fail = { (reason: String) in MirrorError.badBase(path: path, line: lineNumber, reason: reason) }
      if line.isEmpty { continue }
      if line.elementsEqual(formatBytes) {
        sawFormat = true
      } else if line.starts(with: "#= ".utf8) {
        let fields = line.dropFirst(3).split(separator: 32, omittingEmptySubsequences: false)
        guard fields.count == 3, fields[2].count == 64, fields[2].allSatisfy(Self.isLowerHex) else {
          throw fail("expected '#= SERVICE KEY FINGERPRINT'")
        }
        let service = String(decoding: fields[0], as: UTF8.self)
        let key = String(decoding: fields[1], as: UTF8.self)
        guard SecretAddress.isServiceName(service), SecretAddress.isKeyName(key) else {
          throw fail("expected '#= SERVICE KEY FINGERPRINT'")
        }
        fingerprints[ServiceKey(service: service, key: key)] = String(decoding: fields[2], as: UTF8.self)
      } else if line.starts(with: "# vault ".utf8) {
        let fields = line.split(separator: 32)
        guard fields.count == 5, fields[3].elementsEqual("environment".utf8) else {
          throw fail("expected '# vault ID environment ENV'")
        }
        let named = String(decoding: fields[4], as: UTF8.self)
        guard named == environment else { throw fail("a base of environment '\(named)'") }
        vaultID = String(decoding: fields[2], as: UTF8.self)
      } else if line.first != UInt8(ascii: "#") {
        throw fail("not a comment; this file is written by hotsecrets")
      }
    }
    guard sawFormat, let vaultID else {
      throw MirrorError.badBase(path: path, line: 1, reason: "not a hotsecrets mirror base (v1)")
    }
    return MirrorBase(vaultID: vaultID, environment: environment, fingerprints: fingerprints)
  }

  private static func isLowerHex(_ c: UInt8) -> Bool { (48...57).contains(c) || (97...102).contains(c) }

  /// The file's text: keys sorted, so an unchanged base is byte-equal.
  func text() -> String {
    var lines = [
      Self.formatLine,
      "# Fingerprints (keyed: they reveal nothing without the vault's keys) of the values last imported",
      "# from or rendered to these files, so that hotsecrets knows which side changed. Written by",
      "# hotsecrets; keep it with the files, out of git. Deleting it is safe: the next import or render",
      "# records a new one.",
      "# vault \(vaultID) environment \(environment)",
    ]
    for (name, fingerprint) in fingerprints.sorted(by: { $0.key < $1.key }) {
      lines.append("\(Self.entryPrefix)\(name.service) \(name.key) \(fingerprint)")
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// Writes the base atomically (mode 0600) into `directory`, which must exist, unless the file
  /// already holds exactly this base. Refuses a symbolic link where the file goes.
  func write(directory: String) throws {
    let path = Self.path(directory: directory, environment: environment)
    try MirrorWriter.refuseSymbolicLink(directory)
    try MirrorWriter.refuseSymbolicLink(path)
    let bytes = Array(text().utf8)
    if let (existing, mode) = try? MirrorReader.readFile(path), existing == bytes, mode & 0o077 == 0 { return }
    try AtomicFile.write([(path, bytes)], mode: 0o600)
  }
}
