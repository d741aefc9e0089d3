import Foundation
import HotSecretsModel
import HotSecretsVault

/// A mistyped environment fails loudly: an environment that never had a secret in the vault and has
/// no policy file is not one (`run prdo -- env` would otherwise start the command with nothing, `status prdo`
/// say "in sync (0 keys)").
enum KnownEnvironment {
  /// Throws `unknownEnvironment` (exit 2) naming the environments there are and the closest one,
  /// unless `environment` has (or had) a secret in the vault, or a policy file
  /// `ROOT/policies/ENV.yaml`.
  static func require(_ environment: String, session: VaultSession, root: String) throws {
    if FileManager.default.fileExists(atPath: policyPath(environment, root: root)) { return }
    // One indexed lookup of the environment's secret rows; every environment is read only to word
    // the error. An environment whose secrets were all removed still is one (its rows stay).
    let (exists, held) = try session.database.read { tx -> (Bool, Set<String>) in
      if !(try tx.secrets.headMACs(environment: environment).isEmpty) { return (true, []) }
      return (false, Set(try tx.secrets.rows(in: nil, ciphertexts: false).map(\.address.environment)))
    }
    if exists { return }
    let known = held.union(policyEnvironments(root: root)).sorted()
    throw CLIError.unknownEnvironment(
      environment, known: known, suggestion: Suggestion.closest(to: environment, among: known))
  }

  /// `body`, whose `secretNotFound` becomes `unknownEnvironment` when the address's environment is
  /// not one (`require`), and otherwise names the closest secret the environment holds.
  static func explaining<T>(_ address: SecretAddress, session: VaultSession, root: String, _ body: () throws -> T)
    throws -> T
  {
    do { return try body() } catch VaultError.secretNotFound(let subject) {
      try require(address.environment, session: session, root: root)
      let held = try session.database.read { tx in
        try tx.secrets.rows(in: address.environment, ciphertexts: false).filter { $0.current != nil }
          .map { ServiceKey(service: $0.address.service, key: $0.address.key) }
      }
      guard let near = Suggestion.closest(to: ServiceKey(service: address.service, key: address.key), among: held)
      else { throw VaultError.secretNotFound(subject: subject) }
      throw CLIError.secretNotFound(subject, suggestion: "\(address.environment)/\(near)")
    }
  }

  static func policyPath(_ environment: String, root: String) -> String {
    VaultLocation.join(root, "policies/\(environment).yaml")
  }

  /// Environments named by `ROOT/policies/*.yaml`.
  static func policyEnvironments(root: String) -> [String] {
    let folder = VaultLocation.join(root, "policies")
    let files = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
    return files.filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }
      .filter { (try? SecretAddress.validateEnvironment($0)) != nil }
  }
}

/// The closest name to a typo, by edit distance.
enum Suggestion {
  /// The secret of `candidates` that `name` most likely meant: the closest key in the same service;
  /// else, in the closest service, the same key or the closest one; else the same key in the one
  /// other service that holds it. Nil when nothing is close.
  static func closest(to name: ServiceKey, among candidates: [ServiceKey]) -> ServiceKey? {
    let services = Set(candidates.map(\.service))
    let keys = { (service: String) in candidates.filter { $0.service == service }.map(\.key) }
    if services.contains(name.service) {
      if let key = closest(to: name.key, among: keys(name.service)) { return ServiceKey(service: name.service, key: key) }
    } else if let service = closest(to: name.service, among: services.sorted()) {
      let inService = keys(service)
      if inService.contains(name.key) { return ServiceKey(service: service, key: name.key) }
      if let key = closest(to: name.key, among: inService) { return ServiceKey(service: service, key: key) }
    }
    let sameKey = candidates.filter { $0.key == name.key && $0.service != name.service }
    return sameKey.count == 1 ? sameKey[0] : nil
  }

  /// The name of `candidates` nearest to `name` (insertions, deletions, substitutions and
  /// transpositions each count 1), when it is at most 2 edits away and nearer than half its length.
  static func closest(to name: String, among candidates: [String]) -> String? {
    let target = Array(name.lowercased())
    var best: (String, Int)?
    for candidate in candidates where candidate != name {
      let distance = editDistance(target, Array(candidate.lowercased()))
      guard distance <= 2, distance * 2 < max(target.count, candidate.count) else { continue }
      if best == nil || distance < best!.1 { best = (candidate, distance) }
    }
    return best?.0
  }

  /// Optimal string alignment distance.
  static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
    for i in 0...a.count { d[i][0] = i }
    for j in 0...b.count { d[0][j] = j }
    for i in 1...a.count {
      for j in 1...b.count {
        let cost = a[i - 1] == b[j - 1] ? 0 : 1
        d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
        if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
      }
    }
    return d[a.count][b.count]
  }
}
