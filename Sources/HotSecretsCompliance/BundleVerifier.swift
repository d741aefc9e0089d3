import Foundation
import HotSecretsModel
import HotSecretsVault
import Sodium

/// `export verify`: checks a compliance bundle with nothing but its own files (no vault, no unlock),
/// the way docs/compliance.md tells an auditor to with sha256sum and an Ed25519 verifier.
public enum BundleVerifier {
  /// What the signer is checked against, besides the bundle's own `signer.pub`.
  public enum Anchor: Sendable {
    /// The vault's signing public key, standard base64 (as in a checkpoint's `key=`).
    case signerKey(String)
    /// A checkpoints file (kept in git): the signer must be the key of its checkpoints and the
    /// bundle's audit head must be one of them (`export` writes that checkpoint).
    case checkpoints(path: String)
  }

  /// Checks `directory`. Never throws for a bad bundle: every problem is a line in the result.
  public static func verify(directory: String, anchor: Anchor? = nil) -> BundleVerification {
    var result = BundleVerification(directory: directory)
    let fm = FileManager.default
    var isFolder: ObjCBool = false
    guard fm.fileExists(atPath: directory, isDirectory: &isFolder), isFolder.boolValue else {
      result.problems.append("\(directory): not a folder")
      return result
    }
    var unreadable: [String: String] = [:]
    func read(_ name: String, limit: Int = .max) -> [UInt8]? {
      switch readRegularFile(VaultLocation.join(directory, name), limit: limit) {
      case .success(let bytes): return bytes
      case .failure(.missing): return nil
      case .failure(let other):
        unreadable[name] = other.reason
        return nil
      }
    }
    func missingOrUnreadable(_ name: String) -> String {
      "\(name): \(unreadable[name] ?? "missing")"
    }

    // The signature over the manifest's exact bytes, by signer.pub.
    let manifestBytes = read(ComplianceManifest.manifestFile, limit: 1 << 20)
    let signatureText = read(ComplianceManifest.signatureFile, limit: 1024)
    let signerText = read(ComplianceManifest.signerFile, limit: 1024)
    let signature = signatureText.flatMap { Base64.decode(trimmed($0)) }
    let signer = signerText.flatMap { Base64.decode(trimmed($0)) }
    if manifestBytes == nil { result.problems.append(missingOrUnreadable(ComplianceManifest.manifestFile)) }
    if signatureText == nil {
      result.problems.append(missingOrUnreadable(ComplianceManifest.signatureFile))
    } else if signature?.count != Ed25519.signatureBytes {
      result.problems.append("\(ComplianceManifest.signatureFile): not a base64 Ed25519 signature (64 bytes)")
    }
    if signerText == nil {
      result.problems.append(missingOrUnreadable(ComplianceManifest.signerFile))
    } else if let signer, signer.count == Ed25519.publicKeyBytes {
      // Only a well-formed key is ever echoed back.
      result.signer = Base64.encode(signer)
    } else {
      result.problems.append("\(ComplianceManifest.signerFile): not a base64 Ed25519 public key (32 bytes)")
    }
    if let manifestBytes, let signature, let signer, signature.count == Ed25519.signatureBytes,
      signer.count == Ed25519.publicKeyBytes
    {
      result.signatureValid = Ed25519.verify(signature: signature, message: manifestBytes, publicKey: signer)
      if !result.signatureValid {
        result.problems.append(
          "\(ComplianceManifest.signatureFile): the signature does not verify over manifest.json with signer.pub (manifest.json, manifest.sig or signer.pub was altered)"
        )
      }
    }

    // Every listed file present with its hash; nothing else in the folder.
    var listed: [String: String] = [:]
    if let manifestBytes {
      do {
        let manifest = try JSONDecoder().decode(ComplianceManifest.self, from: Data(manifestBytes))
        result.manifest = manifest
        listed = manifest.files
        if manifest.format != ComplianceManifest.formatName {
          result.problems.append("\(ComplianceManifest.manifestFile): unknown format '\(manifest.format)'")
        }
        if let raw = result.signer, manifest.signer != raw {
          result.problems.append("\(ComplianceManifest.manifestFile): its signer differs from signer.pub")
        }
      } catch {
        result.problems.append(
          "\(ComplianceManifest.manifestFile): not a compliance manifest (\(manifestProblem(error)))")
      }
    }
    for name in listed.keys.sorted() {
      guard isPlainName(name) else {
        result.problems.append("\(ComplianceManifest.manifestFile): lists '\(name)', which is not a plain file name")
        continue
      }
      guard let bytes = read(name) else {
        let status: BundleVerification.FileCheck.Status = unreadable[name] == nil ? .missing : .notRegular
        result.files.append(.init(name: name, status: status))
        result.problems.append(missingOrUnreadable(name))
        continue
      }
      if ComplianceManifest.sha256(bytes) == listed[name]?.lowercased() {
        result.files.append(.init(name: name, status: .ok))
      } else {
        result.files.append(.init(name: name, status: .altered))
        result.problems.append("\(name): altered (its SHA-256 is not the one in manifest.json)")
      }
    }
    guard let present = try? fm.contentsOfDirectory(atPath: directory) else {
      result.problems.append("\(directory): cannot list the folder, so extra files cannot be ruled out")
      return result
    }
    var expected = Set(listed.keys).union([ComplianceManifest.manifestFile, ComplianceManifest.signatureFile])
    if let checksums = result.manifest?.checksumsFile {
      if !isPlainName(checksums) || expected.contains(checksums) {
        result.problems.append(
          "\(ComplianceManifest.manifestFile): names '\(checksums)' as its checksums file, which is not a plain file name of its own"
        )
      } else {
        expected.insert(checksums)
        let bytes = read(checksums, limit: 1 << 20)
        checkSums(
          checksums, bytes: bytes, unreadable: unreadable[checksums], listed: listed, manifest: manifestBytes,
          signature: signatureText, into: &result)
      }
    }
    for name in present.sorted() where !expected.contains(name) {
      result.files.append(.init(name: name, status: .extra))
      result.problems.append("\(name): extra file, not listed in manifest.json")
    }
    if result.manifest != nil, listed[ComplianceManifest.signerFile] == nil {
      result.problems.append("\(ComplianceManifest.manifestFile): does not list signer.pub")
    }

    if let anchor { checkAnchor(anchor, into: &result) }
    return result
  }

  /// Checks the bundle's `SHA256SUMS` (`name`) agrees with the signed manifest, so that
  /// `sha256sum -c` checks exactly what the signature covers: one well-formed line per file of the
  /// bundle but itself, none twice, none for anything else; each file the manifest lists with the
  /// manifest's digest (a file that differs from it is reported by the manifest check), and
  /// `manifest.json` and `manifest.sig` with their own bytes' digests.
  private static func checkSums(
    _ name: String, bytes: [UInt8]?, unreadable: String?, listed: [String: String], manifest: [UInt8]?,
    signature: [UInt8]?, into result: inout BundleVerification
  ) {
    guard let bytes else {
      result.files.append(.init(name: name, status: unreadable == nil ? .missing : .notRegular))
      result.problems.append("\(name): \(unreadable ?? "missing")")
      return
    }
    var problems: [String] = []
    var digests: [String: String] = [:]
    for (index, line) in ComplianceManifest.parseSHA256Sums(bytes).enumerated() {
      guard let (digest, file) = line else {
        problems.append("\(name) line \(index + 1): not '<SHA-256 in hex>  <file name>'")
        continue
      }
      if digests[file] != nil {
        problems.append("\(name): lists \(file) twice")
      } else {
        digests[file] = digest
      }
    }
    // Not in the manifest: checked against their bytes (the signature check covers them).
    let own = [ComplianceManifest.manifestFile: manifest, ComplianceManifest.signatureFile: signature]
    let files = Set(listed.keys.filter(isPlainName)).union(own.keys)
    for file in files.sorted() {
      guard let digest = digests[file] else {
        problems.append("\(name): does not list \(file)")
        continue
      }
      if let expected = listed[file] {
        if digest != expected.lowercased() {
          problems.append("\(name): the SHA-256 of \(file) is not the one in manifest.json")
        }
      } else if let ownBytes = own[file] ?? nil, digest != ComplianceManifest.sha256(ownBytes) {
        problems.append("\(name): the SHA-256 of \(file) does not match the file")
      }
    }
    for file in digests.keys.sorted() where !files.contains(file) {
      problems.append("\(name): lists \(file), which is not a file of the bundle")
    }
    result.files.append(.init(name: name, status: problems.isEmpty ? .ok : .altered))
    result.problems += problems
  }

  private static func checkAnchor(_ anchor: Anchor, into result: inout BundleVerification) {
    let signer = result.signer ?? ""
    switch anchor {
    case .signerKey(let key):
      result.anchored = key == signer
      if key != signer {
        result.problems.append(
          "signer.pub: signed by \(result.signer ?? "an unreadable key"), not the expected key \(key)")
      }
    case .checkpoints(let path):
      result.anchored = false
      let lines: [ArraySlice<UInt8>]
      do {
        guard let read = try AuditCheckpoints.readLines(path) else {
          result.problems.append("\(path): no such checkpoints file")
          return
        }
        lines = read
      } catch {
        result.problems.append(describe(error))
        return
      }
      // Every line must be a valid checkpoint of one vault by one key, as `audit verify` demands:
      // a line slipped into the file cannot vouch for a bundle.
      var checkpoints: [AuditCheckpoint] = []
      for (index, raw) in lines.enumerated() {
        let text = raw.last == UInt8(ascii: "\r") ? raw.dropLast() : raw
        if text.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) { continue }
        guard let checkpoint = try? AuditCheckpoint.parse(utf8: text), checkpoint.signatureIsValid else {
          result.problems.append("\(path) line \(index + 1): not a validly signed checkpoint")
          return
        }
        checkpoints.append(checkpoint)
      }
      guard let first = checkpoints.first else {
        result.problems.append("\(path): holds no checkpoint")
        return
      }
      if let other = checkpoints.first(where: {
        $0.publicKeyBase64 != first.publicKeyBase64 || $0.vaultID != first.vaultID
      }) {
        result.problems.append(
          "\(path): its checkpoints are not all of one vault and key (seq \(other.seq) differs from the first)")
        return
      }
      guard signer == first.publicKeyBase64, result.manifest?.vaultID == first.vaultID else {
        result.problems.append(
          "signer.pub: the bundle is not signed by the key of \(path) (\(first.publicKeyBase64), vault \(first.vaultID))"
        )
        return
      }
      let head = result.manifest?.auditHead
      guard checkpoints.contains(where: { $0.seq == head?.seq && $0.hash == head?.hash }) else {
        result.problems.append(
          "manifest.json: its audit head (seq \(head.map { String($0.seq) } ?? "?")) is not checkpointed in \(path)")
        return
      }
      result.anchored = true
    }
  }

  /// Base64 text without surrounding whitespace (the files end with a newline).
  private static func trimmed(_ bytes: [UInt8]) -> ArraySlice<UInt8> {
    let isSpace = { (b: UInt8) in b == 32 || b == 9 || b == 10 || b == 13 }
    guard let start = bytes.firstIndex(where: { !isSpace($0) }), let end = bytes.lastIndex(where: { !isSpace($0) })
    else { return [] }
    return bytes[start...end]
  }

  enum ReadFailure: Error {
    case missing
    case notRegular
    case tooLarge
    case unreadable(String)

    var reason: String {
      switch self {
      case .missing: "missing"
      case .notRegular: "not a regular file (a symbolic link, folder or device is not part of a bundle)"
      case .tooLarge: "too large for its kind"
      case .unreadable(let why): "cannot be read (\(why))"
      }
    }
  }

  /// The bytes of the regular file at `path`, never following a symbolic link, at most `limit` bytes.
  static func readRegularFile(_ path: String, limit: Int) -> Result<[UInt8], ReadFailure> {
    let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
    if fd < 0 {
      switch errno {
      case ENOENT: return .failure(.missing)
      case ELOOP: return .failure(.notRegular)
      default: return .failure(.unreadable(String(cString: strerror(errno))))
      }
    }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return .failure(.notRegular) }
    guard info.st_size <= limit else { return .failure(.tooLarge) }
    guard let bytes = FileDescriptorIO.readAll(fd) else {
      return .failure(.unreadable(String(cString: strerror(errno))))
    }
    return .success(bytes)
  }

  /// One sentence for a manifest that does not decode.
  private static func manifestProblem(_ error: Error) -> String {
    guard let decoding = error as? DecodingError else { return "not JSON" }
    func path(_ context: DecodingError.Context) -> String {
      context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }
    switch decoding {
    case .keyNotFound(let key, let context):
      let parent = path(context)
      return "field '\(parent.isEmpty ? "" : parent + ".")\(key.stringValue)' is missing"
    case .typeMismatch(_, let context), .valueNotFound(_, let context):
      return "field '\(path(context))' has the wrong type"
    case .dataCorrupted(let context):
      return context.codingPath.isEmpty ? "not JSON" : "field '\(path(context))' is malformed"
    @unknown default:
      return "malformed"
    }
  }

  private static func isPlainName(_ name: String) -> Bool {
    !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.contains("\0")
  }

  private static func describe(_ error: Error) -> String {
    (error as? LocalizedError)?.errorDescription ?? String(describing: error)
  }
}
