import Foundation
import HotSecretsModel
import HotSecretsVault

extension VaultSession {
  /// Writes `environment`'s working copies into `directory` from the vault (`MirrorWriter.render`),
  /// then records the base.
  ///
  /// With a base of this vault and `take` other than `.vault`, the files are read first, and a key
  /// changed in a file since the base (edited, added or removed there, or changed on both sides) in
  /// a file about to be rewritten throws `MirrorError.conflict` before any value is decrypted: nothing
  /// is written. A file that cannot be parsed then throws its parse error (it cannot be shown
  /// unchanged). Without a base (or with `.vault`) the files are overwritten as they are.
  ///
  /// The read of the values is audited as one `render` entry naming `directory`.
  public func renderMirror(
    environment: String, directory: String, header: String, take: MirrorTake = .refuse
  ) throws -> RenderReport {
    try SecretAddress.validateEnvironment(environment)
    let folderExists = FileManager.default.fileExists(atPath: directory)
    let base = folderExists ? validBase(try MirrorBase.read(directory: directory, environment: environment)) : nil
    if let base, take != .vault {
      let snapshot = try MirrorReader.read(directory: directory, environment: environment)
      let files = try fingerprints(of: snapshot)
      // Files exactly as the base recorded them changed nothing: no conflict, and no need to read
      // the vault's fingerprints (the usual case, on every render).
      if files != base.fingerprints {
        try refuseConflicts(files: files, base: base, environment: environment)
      }
    }
    var values = try currentValues(environment: environment, action: .render, detail: ["to": .string(directory)])
    defer { for i in values.indices { wipe(&values[i].value) } }
    var report = try MirrorWriter.render(values, environment: environment, directory: directory, header: header)
    guard FileManager.default.fileExists(atPath: directory) else { return report }
    var next = base ?? MirrorBase(vaultID: vaultID, environment: environment, fingerprints: [:])
    let rendered = Set(values.map(\.name.service))
    next.fingerprints = next.fingerprints.filter { !rendered.contains($0.key.service) }
    for (name, value) in values { next.fingerprints[name] = try keys.fingerprint(of: value) }
    report.baseWarning = recordBase(next, directory: directory)
    return report
  }

  /// Throws `MirrorError.conflict` when a file render would rewrite holds a change made since `base`.
  private func refuseConflicts(files: [ServiceKey: String], base: MirrorBase, environment: String) throws {
    let vault = try database.read { tx in
      try SecretState.fetchAll(environment: environment, checking: headChecks, tx: tx)
    }.compactMapValues { $0.current?.fingerprint }
    let drift = MirrorDrift.compare(files: files, vault: vault, base: base.fingerprints)
    let conflicts = drift.conflicts(.toFiles, services: Set(vault.keys.map(\.service)))
    if !conflicts.isEmpty { throw MirrorError.conflict(direction: .toFiles, keys: conflicts) }
  }
}
