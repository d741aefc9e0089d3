import DotEnv
import Foundation
import HotSecretsModel
import HotSecretsVault

/// What `import` did (or, with a dry run, would do).
public struct ImportReport: Sendable {
  public var added: [ServiceKey] = []
  public var changed: [ServiceKey] = []
  public var unchanged: [ServiceKey] = []
  /// In the store but in no file.
  public var onlyInStore: [ServiceKey] = []
  /// The part of `onlyInStore` in services whose file was read: what `prune` removes. Keys of
  /// services without a file are never pruned.
  public var prunable: [ServiceKey] = []
  public var pruned = false
  public var dryRun = false
  /// Keys changed in the vault since the base, left as the vault has them (`MirrorTake.vault`).
  public var keptVault: [ServiceKey] = []
  /// Set when the base could not be recorded after the import (one line, no value).
  public var baseWarning: String?
}

/// Which side of the mirror changed since its base (`MirrorBase`): what `status` shows and what
/// decides whether `import` or `render` may run.
public enum MirrorSide: String, Sendable, CaseIterable {
  /// The file differs from the base, the vault does not (a key edited, added or removed in the file).
  case fileChanged = "file changed"
  /// The vault differs from the base, the file does not (`set`, `rm`, a rotation since).
  case vaultChanged = "vault changed"
  /// Both differ from the base and from each other: a conflict.
  case bothChanged = "both changed"
  /// In the file only, and in neither side at the base (or no base is known): added in the file.
  case onlyInFile = "only in file"
  /// In the vault only, and in neither side at the base (or no base is known): added in the vault.
  case onlyInVault = "only in vault"
  /// In both with different values, and no base is known (a working copy from before bases).
  case unknown = "no base"

  /// The file side holds the change: `import` takes it.
  public var changedInFile: Bool { self == .fileChanged || self == .onlyInFile }
  /// The vault side holds the change: `render` takes it.
  public var changedInVault: Bool { self == .vaultChanged || self == .onlyInVault }
}

/// Which way a mirror command copies values.
public enum MirrorDirection: Sendable, Equatable {
  /// `import`: files into the vault.
  case toVault
  /// `render`: vault into the files.
  case toFiles
}

/// One key whose file and vault values differ.
public struct MirrorDifference: Sendable, Equatable {
  public enum Kind: String, Sendable {
    /// In the files, not in the vault.
    case added
    /// In both, with different values.
    case changed
    /// In the vault, not in the files.
    case missing
  }

  public let name: ServiceKey
  public let kind: Kind
  public let side: MirrorSide
}

/// Drift between the working copies and the store, by name and fingerprint, with the side of each
/// difference when the working copy has a base.
public struct MirrorDrift: Sendable {
  /// Sorted by name.
  public var differences: [MirrorDifference] = []
  /// Whether the sides come from a base (false for a working copy that has none yet, or one of
  /// another vault: then nothing is a conflict, as before bases existed).
  public var hasBase = false

  public var added: [ServiceKey] { names(.added) }
  public var changed: [ServiceKey] { names(.changed) }
  public var missing: [ServiceKey] { names(.missing) }
  public var inSync: Bool { differences.isEmpty }

  private func names(_ kind: MirrorDifference.Kind) -> [ServiceKey] {
    differences.filter { $0.kind == kind }.map(\.name)
  }

  /// The differences copying toward `direction` would undo: changes made on the other side since the
  /// base (both-changed ones included). `import` writes added and changed keys, and with `prune`
  /// removes missing ones; `render` rewrites the files of `services` only. Empty without a base.
  public func conflicts(_ direction: MirrorDirection, prune: Bool = false, services: Set<String> = []) -> [MirrorDifference] {
    guard hasBase else { return [] }
    return differences.filter { difference in
      switch direction {
      case .toVault:
        if difference.kind == .missing && !prune { return false }
        return !difference.side.changedInFile
      case .toFiles:
        return services.contains(difference.name.service) && !difference.side.changedInVault
      }
    }
  }

  /// Classifies each key by its fingerprints in the files, the vault and the base (nil: absent).
  static func compare(
    files: [ServiceKey: String], vault: [ServiceKey: String], base: [ServiceKey: String]?
  ) -> MirrorDrift {
    var drift = MirrorDrift(hasBase: base != nil)
    // Only the differences are sorted: in sync, thousands of keys cost one lookup each.
    var differing = files.compactMap { name, f in vault[name] == f ? nil : name }
    differing += vault.keys.filter { files[$0] == nil }
    for name in differing.sorted() {
      let (f, v) = (files[name], vault[name])
      let kind: MirrorDifference.Kind = v == nil ? .added : f == nil ? .missing : .changed
      let side: MirrorSide
      if let base {
        let b = base[name]
        if b == f {
          side = f == nil ? .onlyInVault : .vaultChanged
        } else if b == v {
          side = v == nil ? .onlyInFile : .fileChanged
        } else {
          side = .bothChanged
        }
      } else {
        side = kind == .added ? .onlyInFile : kind == .missing ? .onlyInVault : .unknown
      }
      drift.differences.append(MirrorDifference(name: name, kind: kind, side: side))
    }
    return drift
  }
}

/// What a mirror command does with a change made on the other side since the base.
public enum MirrorTake: Sendable, Equatable {
  /// Refuse (`MirrorError.conflict`), writing nothing.
  case refuse
  /// `import`: store every file value, undoing vault-side changes (`--take file`, `--force`).
  case file
  /// `import`: store the file-side changes only and leave the vault's changes (and conflicts) as the
  /// vault has them; `render`: overwrite the files' changes (`--take vault`, `--force`).
  case vault
}

extension VaultSession {
  /// Mirrors `snapshot` into the store for `environment` in ONE transaction: new keys are added,
  /// changed values get a new version (source `import`), unchanged ones are left alone (no version,
  /// no audit entry). Keys only in the store are reported, and removed when `prune` is true — but
  /// only in services whose file was read, so a missing file never empties a service.
  ///
  /// With a base (`MirrorBase`), a key the vault changed since the base (or both sides did) is a
  /// conflict: with `take` `.refuse` the import throws `MirrorError.conflict` naming them all and
  /// writes nothing; `.file` stores the files' values anyway; `.vault` leaves those keys as the vault
  /// has them (reported in `keptVault`). After a write the base records the files' values.
  ///
  /// With `dryRun`, nothing is written (conflicts are still refused). Throws `noFiles` for a
  /// snapshot without files (nothing read from `directory`), and `invalidValue` (nothing written)
  /// for a value that cannot be stored.
  public func importMirror(
    _ snapshot: MirrorSnapshot, environment: String, prune: Bool, dryRun: Bool, take: MirrorTake = .refuse
  ) throws -> ImportReport {
    try SecretAddress.validateEnvironment(environment)
    guard !snapshot.files.isEmpty else {
      throw MirrorError.noFiles(
        directory: snapshot.directory, fileName: MirrorReader.fileName(environment: environment))
    }
    let servicesRead = Set(snapshot.files.map(\.service))
    // Validate and fingerprint outside the transaction: the write lock is held only for writes.
    var incoming: [(address: SecretAddress, name: ServiceKey, value: [UInt8], fingerprint: String)] = []
    incoming.reserveCapacity(snapshot.files.reduce(0) { $0 + $1.entries.count })
    for (name, value) in snapshot.values {
      let address = try SecretAddress(environment: environment, service: name.service, key: name.key)
      let bytes = Array(value.utf8)
      try Self.validate(value: bytes, for: address)
      incoming.append((address, name, bytes, try keys.fingerprint(of: bytes)))
    }
    let fileFingerprints = Dictionary(incoming.map { ($0.name, $0.fingerprint) }, uniquingKeysWith: { $1 })
    let base = validBase(snapshot.base)
    let body = { (tx: any StoreTransaction) throws -> ImportReport in
      var report = ImportReport(pruned: prune, dryRun: dryRun)
      let states = try SecretState.fetchAll(environment: environment, checking: headChecks, tx: tx)
      let drift = MirrorDrift.compare(
        files: fileFingerprints, vault: states.compactMapValues { $0.current?.fingerprint }, base: base?.fingerprints)
      let conflicts = drift.conflicts(.toVault, prune: prune).filter {
        $0.kind != .missing || servicesRead.contains($0.name.service)
      }
      if !conflicts.isEmpty && take == .refuse { throw MirrorError.conflict(direction: .toVault, keys: conflicts) }
      let kept = take == .vault ? Set(conflicts.map(\.name)) : []
      report.keptVault = conflicts.map(\.name).filter(kept.contains)
      let writing = incoming.filter { !kept.contains($0.name) }
      if !dryRun {
        // Only keys whose value would change (or be pruned) matter to an unfinished rotation.
        let changing = writing.filter { states[$0.name]?.current?.fingerprint != $0.fingerprint }.map(\.name)
        try RotationJournal.guardAgainstUnfinishedRun(environment: environment, names: changing, in: tx)
      }
      var seen = Set<ServiceKey>()
      for item in writing {
        seen.insert(item.name)
        let state = states[item.name] ?? .absent
        if let current = state.current, current.fingerprint == item.fingerprint {
          report.unchanged.append(item.name)
          continue
        }
        if state.current == nil { report.added.append(item.name) } else { report.changed.append(item.name) }
        if !dryRun {
          _ = try writeVersion(
            item.address, state: state, value: item.value, fingerprint: item.fingerprint, source: .import, tx: tx)
        }
      }
      report.onlyInStore = states.filter { !seen.contains($0.key) && !kept.contains($0.key) && $0.value.current != nil }
        .map(\.key).sorted()
      report.prunable = report.onlyInStore.filter { servicesRead.contains($0.service) }
      if prune && !dryRun {
        try RotationJournal.guardAgainstUnfinishedRun(environment: environment, names: report.prunable, in: tx)
        for name in report.prunable {
          try removeInTransaction(
            SecretAddress(trusted: environment, service: name.service, key: name.key), reason: "prune", tx: tx)
        }
      }
      return report
    }
    if dryRun { return try database.read(body) }
    var report = try database.write(body)
    // After the commit: a crash before this line leaves the old base, which can only make a later
    // command refuse (never revert), and the next import or render records the base again.
    var next = base ?? MirrorBase(vaultID: vaultID, environment: environment, fingerprints: [:])
    let kept = Set(report.keptVault)
    for (name, fingerprint) in fileFingerprints where !kept.contains(name) { next.fingerprints[name] = fingerprint }
    if prune { for name in report.prunable { next.fingerprints[name] = nil } }
    report.baseWarning = recordBase(next, directory: snapshot.directory)
    return report
  }

  /// Compares `snapshot` with the store's current versions by fingerprint, each difference with its
  /// side when the snapshot has a base of this vault. Decrypts nothing.
  public func mirrorDrift(_ snapshot: MirrorSnapshot, environment: String) throws -> MirrorDrift {
    let files = try fingerprints(of: snapshot)
    let states = try database.read { tx in
      try SecretState.fetchAll(environment: environment, checking: headChecks, tx: tx)
    }
    return MirrorDrift.compare(
      files: files, vault: states.compactMapValues { $0.current?.fingerprint },
      base: validBase(snapshot.base)?.fingerprints)
  }

  /// The keyed fingerprint of each value in the files (the last one of a key defined twice).
  func fingerprints(of snapshot: MirrorSnapshot) throws -> [ServiceKey: String] {
    Dictionary(
      try snapshot.values.map { ($0.name, try keys.fingerprint(of: Array($0.value.utf8))) }, uniquingKeysWith: { $1 })
  }

  /// `base` when this vault made it (a base of another vault's fingerprints tells nothing).
  func validBase(_ base: MirrorBase?) -> MirrorBase? {
    base?.vaultID == vaultID ? base : nil
  }

  /// Writes `base` into `directory`; a failure is returned as a warning, since what it follows has
  /// been done (the next import or render records the base again).
  func recordBase(_ base: MirrorBase, directory: String) -> String? {
    do {
      try base.write(directory: directory)
      return nil
    } catch {
      return "the mirror base was not recorded (\((error as? LocalizedError)?.errorDescription ?? "\(error)")); "
        + "until it is, differences are shown without their side"
    }
  }

  /// The variables `hotsecrets run` sets: name → value for `environment` (only `services`, when
  /// given), each named by `names` (the policy's `target_name`, what the deploy targets receive)
  /// or else by its KEY. Throws `keyCollision` when two secrets would set one name, and
  /// `secretNotFound` when a requested service holds no secret; nothing is returned then. Audited
  /// as one `run` entry naming `command` (never its arguments). Wipe the values when done.
  public func environmentVariables(
    environment: String, services: Set<String>?, command: String, names: [ServiceKey: String] = [:]
  ) throws -> [(name: String, value: [UInt8])] {
    var values = try currentValues(
      environment: environment, services: services, action: .run, detail: ["command": .string(command)])
    let named = values.map { (names[$0.name] ?? $0.name.key, $0.name) }
    var owners: [String: [ServiceKey]] = [:]
    for (variable, name) in named { owners[variable, default: []].append(name) }
    let collision = owners.filter { $0.value.count > 1 }.min { $0.key < $1.key }
    let missing = (services ?? []).subtracting(values.map(\.name.service)).sorted().first
    if collision != nil || missing != nil {
      for i in values.indices { wipe(&values[i].value) }
      if let (variable, owners) = collision {
        throw MirrorError.keyCollision(key: variable, secrets: owners.map(\.description))
      }
      if let missing { throw VaultError.secretNotFound(subject: "\(environment)/\(missing)/*") }
    }
    return zip(named, values).map { ($0.0, $1.value) }
  }

  /// The current values of `environment` (only `services`, when given), decrypted, sorted by
  /// service and key. The read is audited as one `action` entry naming the environment and counts.
  /// Values are in ordinary memory (they are headed for files or an environment): wipe them with
  /// `wipe(_:)` when done.
  public func currentValues(
    environment: String, services: Set<String>? = nil, action: AuditAction, detail: [String: CanonicalJSON] = [:]
  ) throws -> [(name: ServiceKey, value: [UInt8])] {
    try SecretAddress.validateEnvironment(environment)
    return try database.write { tx in
      let secrets = try currentSecrets(
        environment: environment, decrypting: { services?.contains($0.service) ?? true }, tx: tx)
      let values = secrets.filter { services?.contains($0.key.service) ?? true }.sorted { $0.key < $1.key }
        .map { (name: $0.key, value: $0.value.value) }
      var fields = detail
      fields["keys"] = .int(values.count)
      if let services { fields["services"] = .array(services.sorted().map { .string($0) }) }
      try AuditChain.append(
        AuditEvent(action: action, subject: environment, detail: .object(fields)), actor: actor, keys: keys, at: now(),
        in: tx)
      return values
    }
  }
}
