import HotSecretsOperations

/// A `verify` finding in words: its message, then what to run about it. Command and flag names
/// are the CLI's, so they are written here and nowhere in the core.
enum FindingWords {
  static func line(_ finding: Finding, environment: String) -> String {
    guard let remedy = finding.remedy else { return finding.message }
    return finding.message + "; " + words(remedy, environment: environment, name: "\(finding.service)/\(finding.key)")
  }

  static func words(_ remedy: Finding.Remedy, environment: String, name: String) -> String {
    switch remedy {
    case .importFiles: "run hotsecrets import \(environment)"
    case .renderFiles: "run hotsecrets render \(environment)"
    case .resolveConflict:
      "keep the files' value with hotsecrets import \(environment) --take file, or the vault's with hotsecrets render \(environment) --take vault"
    case .sync: "run hotsecrets sync \(environment)"
    case .syncRolling: "run hotsecrets sync \(environment) --deploy rolling"
    case .confirmRevoked: "then run hotsecrets rotate \(environment) --confirm-revoked \(name)"
    case .rotateExposed: "rotate it: hotsecrets rotate \(environment) --exposed"
    case .finishRotation: "run hotsecrets rotate \(environment) --finish"
    }
  }
}
