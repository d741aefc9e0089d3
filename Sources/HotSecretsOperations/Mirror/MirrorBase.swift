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

  static func parse(_ text: String, path: String, environment: String) throws -> MirrorBase {
    var vaultID: String?
    var fingerprints: [ServiceKey: String] = [:]
    var sawFormat = false
    for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let fail = { (reason: String) in MirrorError.badBase(path: path, line: index + 1, reason: reason) }
      if line.isEmpty { continue }
      if line == formatLine {
        sawFormat = true
      } else if line.hasPrefix("# vault ") {
        let fields = line.split(separator: " ")
        guard fields.count == 5, fields[3] == "environment" else { throw fail("expected '# vault ID environment ENV'") }
        guard fields[4] == environment else { throw fail("a base of environment '\(fields[4])'") }
        vaultID = String(fields[2])
      } else if line.hasPrefix(entryPrefix) {
        let fields = line.dropFirst(entryPrefix.count).split(separator: " ")
        guard fields.count == 3, SecretAddress.isServiceName(String(fields[0])),
          SecretAddress.isKeyName(String(fields[1])),
          fields[2].count == 64, fields[2].allSatisfy(\.isHexDigit)
        else { throw fail("expected '#= SERVICE KEY FINGERPRINT'") }
        fingerprints[ServiceKey(service: String(fields[0]), key: String(fields[1]))] = String(fields[2])
      } else if !line.hasPrefix("#") {
        throw fail("not a comment; this file is written by hotsecrets")
      }
    }
    guard sawFormat, let vaultID else {
      throw MirrorError.badBase(path: path, line: 1, reason: "not a hotsecrets mirror base (v1)")
    }
    return MirrorBase(vaultID: vaultID, environment: environment, fingerprints: fingerprints)
  }

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

  /// Writes the base atomically (mode 0600) into `directory`, which must exist. Refuses a symbolic
  /// link where the file goes.
  func write(directory: String) throws {
    let path = Self.path(directory: directory, environment: environment)
    try MirrorWriter.refuseSymbolicLink(directory)
    try MirrorWriter.refuseSymbolicLink(path)
    try AtomicFile.write([(path, Array(text().utf8))], mode: 0o600)
  }
}
