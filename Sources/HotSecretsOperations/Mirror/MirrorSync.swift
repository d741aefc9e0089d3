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
}

/// Drift between the working copies and the store, by name and fingerprint.
public struct MirrorDrift: Sendable {
  /// In the files, not in the store.
  public var added: [ServiceKey] = []
  /// In both, with different values.
  public var changed: [ServiceKey] = []
  /// In the store, not in the files.
  public var missing: [ServiceKey] = []
  public var inSync: Bool { added.isEmpty && changed.isEmpty && missing.isEmpty }
}

extension VaultSession {
  /// Mirrors `snapshot` into the store for `environment` in ONE transaction: new keys are added,
  /// changed values get a new version (source `import`), unchanged ones are left alone (no version,
  /// no audit entry). Keys only in the store are reported, and removed when `prune` is true — but
  /// only in services whose file was read, so a missing file never empties a service. With
  /// `dryRun`, nothing is written. Throws `noFiles` for a snapshot without files (nothing read from
  /// `directory`), and `invalidValue` (nothing written) for a value that cannot be stored.
  public func importMirror(
    _ snapshot: MirrorSnapshot, environment: String, prune: Bool, dryRun: Bool, directory: String = "DIR"
  ) throws -> ImportReport {
    try SecretAddress.validateEnvironment(environment)
    guard !snapshot.files.isEmpty else {
      throw MirrorError.noFiles(directory: directory, fileName: MirrorReader.fileName(environment: environment))
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
    let body = { (tx: any StoreTransaction) throws -> ImportReport in
      var report = ImportReport(pruned: prune, dryRun: dryRun)
      let states = try SecretState.fetchAll(environment: environment, checking: headChecks, tx: tx)
      if !dryRun {
        // Only keys whose value would change (or be pruned) matter to an unfinished rotation.
        let changing = incoming.filter { states[$0.name]?.current?.fingerprint != $0.fingerprint }.map(\.name)
        try RotationJournal.guardAgainstUnfinishedRun(environment: environment, names: changing, in: tx)
      }
      var seen = Set<ServiceKey>()
      for item in incoming {
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
      report.onlyInStore = states.filter { !seen.contains($0.key) && $0.value.current != nil }.map(\.key).sorted()
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
    return dryRun ? try database.read(body) : try database.write(body)
  }

  /// Compares `snapshot` with the store's current versions by fingerprint. Decrypts nothing.
  public func mirrorDrift(_ snapshot: MirrorSnapshot, environment: String) throws -> MirrorDrift {
    let files = try snapshot.values.map { ($0.name, try keys.fingerprint(of: Array($0.value.utf8))) }
    let states = try database.read { tx in
      try SecretState.fetchAll(environment: environment, checking: headChecks, tx: tx)
    }
    var drift = MirrorDrift()
    var seen = Set<ServiceKey>()
    for (name, fingerprint) in files {
      seen.insert(name)
      guard let current = states[name]?.current else {
        drift.added.append(name)
        continue
      }
      if current.fingerprint != fingerprint { drift.changed.append(name) }
    }
    drift.missing = states.filter { !seen.contains($0.key) && $0.value.current != nil }.map(\.key).sorted()
    drift.added.sort()
    drift.changed.sort()
    return drift
  }

  /// The variables `hotsecrets run` sets: KEY → value for `environment` (only `services`, when
  /// given). Throws `keyCollision` when two services define one KEY, and `secretNotFound` when a
  /// requested service holds no secret. Audited as one `run` entry naming `command` (never its
  /// arguments). Wipe the values when done.
  public func environmentVariables(
    environment: String, services: Set<String>?, command: String
  ) throws -> [(name: String, value: [UInt8])] {
    var values = try currentValues(
      environment: environment, services: services, action: .run, detail: ["command": .string(command)])
    var owners: [String: [String]] = [:]
    for (name, _) in values { owners[name.key, default: []].append(name.service) }
    let collision = owners.filter { $0.value.count > 1 }.min { $0.key < $1.key }
    let missing = (services ?? []).subtracting(values.map(\.name.service)).sorted().first
    if collision != nil || missing != nil {
      for i in values.indices { wipe(&values[i].value) }
      if let (key, owners) = collision { throw MirrorError.keyCollision(key: key, services: owners) }
      if let missing { throw VaultError.secretNotFound(subject: "\(environment)/\(missing)/*") }
    }
    return values.map { ($0.name.key, $0.value) }
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
