import Foundation
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
    func read(_ name: String) -> [UInt8]? {
      fm.contents(atPath: VaultLocation.join(directory, name)).map(Array.init)
    }

    // The signature over the manifest's exact bytes, by signer.pub.
    let manifestBytes = read(ComplianceManifest.manifestFile)
    let signature = read(ComplianceManifest.signatureFile).flatMap { Base64.decode(trimmed($0)) }
    let signer = read(ComplianceManifest.signerFile).flatMap { Base64.decode(trimmed($0)) }
    if let raw = read(ComplianceManifest.signerFile) { result.signer = String(decoding: trimmed(raw), as: UTF8.self) }
    if manifestBytes == nil { result.problems.append("\(ComplianceManifest.manifestFile): missing") }
    if read(ComplianceManifest.signatureFile) == nil {
      result.problems.append("\(ComplianceManifest.signatureFile): missing")
    } else if signature?.count != Ed25519.signatureBytes {
      result.problems.append("\(ComplianceManifest.signatureFile): not a base64 Ed25519 signature (64 bytes)")
    }
    if read(ComplianceManifest.signerFile) != nil, signer?.count != Ed25519.publicKeyBytes {
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
        result.problems.append("\(ComplianceManifest.manifestFile): not a compliance manifest (\(describe(error)))")
      }
    }
    for name in listed.keys.sorted() {
      guard isPlainName(name) else {
        result.problems.append("\(ComplianceManifest.manifestFile): lists '\(name)', which is not a plain file name")
        continue
      }
      guard let bytes = read(name) else {
        result.files.append(.init(name: name, status: .missing))
        result.problems.append("\(name): missing")
        continue
      }
      if ComplianceManifest.sha256(bytes) == listed[name]?.lowercased() {
        result.files.append(.init(name: name, status: .ok))
      } else {
        result.files.append(.init(name: name, status: .altered))
        result.problems.append("\(name): altered (its SHA-256 is not the one in manifest.json)")
      }
    }
    let present = (try? fm.contentsOfDirectory(atPath: directory)) ?? []
    let expected = Set(listed.keys).union([ComplianceManifest.manifestFile, ComplianceManifest.signatureFile])
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

  private static func checkAnchor(_ anchor: Anchor, into result: inout BundleVerification) {
    let signer = result.signer ?? ""
    switch anchor {
    case .signerKey(let key):
      result.anchored = key == signer
      if key != signer { result.problems.append("signer.pub: signed by \(signer), not the expected key \(key)") }
    case .checkpoints(let path):
      let lines: [ArraySlice<UInt8>]
      do {
        guard let read = try AuditCheckpoints.readLines(path) else {
          result.anchored = false
          result.problems.append("\(path): no such checkpoints file")
          return
        }
        lines = read
      } catch {
        result.anchored = false
        result.problems.append(describe(error))
        return
      }
      let checkpoints = lines.compactMap { try? AuditCheckpoint.parse(utf8: $0) }.filter(\.signatureIsValid)
      let keys = Set(checkpoints.map(\.publicKeyBase64))
      let head = result.manifest?.auditHead
      let vault = result.manifest?.vaultID
      let headCheckpointed = checkpoints.contains {
        $0.publicKeyBase64 == signer && $0.seq == head?.seq && $0.hash == head?.hash && $0.vaultID == vault
      }
      result.anchored = keys.contains(signer) && headCheckpointed
      if !keys.contains(signer) {
        result.problems.append("signer.pub: \(signer) signed none of the checkpoints in \(path)")
      } else if !headCheckpointed {
        result.problems.append(
          "manifest.json: its audit head (seq \(head.map { String($0.seq) } ?? "?")) is not checkpointed in \(path)")
      }
    }
  }

  /// Base64 text without surrounding whitespace (the files end with a newline).
  private static func trimmed(_ bytes: [UInt8]) -> ArraySlice<UInt8> {
    let isSpace = { (b: UInt8) in b == 32 || b == 9 || b == 10 || b == 13 }
    guard let start = bytes.firstIndex(where: { !isSpace($0) }), let end = bytes.lastIndex(where: { !isSpace($0) })
    else { return [] }
    return bytes[start...end]
  }

  private static func isPlainName(_ name: String) -> Bool {
    !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.contains("\0")
  }

  private static func describe(_ error: Error) -> String {
    (error as? LocalizedError)?.errorDescription ?? String(describing: error)
  }
}
