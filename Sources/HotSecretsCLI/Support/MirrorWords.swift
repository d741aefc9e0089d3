import HotSecretsModel
import HotSecretsOperations

/// The mirror's differences and conflicts in words: what `status`, `import` and `render` print.
enum MirrorWords {
  /// `{"service", "key", "side"}` in JSON output.
  struct DifferenceJSON: Encodable {
    let service, key, side: String
    init(_ difference: MirrorDifference) {
      service = difference.name.service
      key = difference.name.key
      side = difference.side.rawValue
    }
  }

  /// What an `import` or `render` refusal prints: JSON on stdout with `--format json`, and always the
  /// error, one line per key and a hint on stderr. The caller exits 1.
  static func reportConflicts(
    _ keys: [MirrorDifference], direction: MirrorDirection, environment: String, output: OutputOptions
  ) throws {
    struct Refusal: Encodable {
      let environment: String
      let refused: Bool
      let conflicts: [DifferenceJSON]
    }
    if output.isJSON {
      try output.write(Refusal(environment: environment, refused: true, conflicts: keys.map(DifferenceJSON.init))) {
        ""
      }
    }
    let width = keys.map(\.name.description.count).max() ?? 0
    var lines: [String]
    switch direction {
    case .toVault:
      lines = [
        "hotsecrets: error: refusing to import \(environment): it would undo what changed in the vault since the files were last imported or rendered; nothing was written"
      ]
    case .toFiles:
      lines = [
        "hotsecrets: error: refusing to render \(environment): it would overwrite what changed in the files since they were last imported or rendered; nothing was written"
      ]
    }
    lines += keys.map { "  " + line($0, width: width) }
    switch direction {
    case .toVault:
      lines.append(
        "hotsecrets: hint: `hotsecrets render \(environment)` writes the vault's changes into the files; `hotsecrets import \(environment) --take vault` stores only the files' changes; `--take file` stores the files' values anyway")
    case .toFiles:
      lines.append(
        "hotsecrets: hint: `hotsecrets import \(environment)` stores the files' changes first; `hotsecrets render \(environment) --take vault` overwrites them")
    }
    StandardStreams.error(lines.joined(separator: "\n"))
  }

  /// `name` padded to `width`, then its phrase.
  static func line(_ difference: MirrorDifference, width: Int) -> String {
    let name = difference.name.description
    return name + String(repeating: " ", count: max(0, width - name.count) + 2) + phrase(difference)
  }

  /// "vault changed (a new value)", "file changed (removed from the file)", …
  static func phrase(_ difference: MirrorDifference) -> String {
    let detail: String? =
      switch (difference.side, difference.kind) {
      case (.fileChanged, .missing): "removed from the file"
      case (.vaultChanged, .added): "removed from the vault"
      case (.fileChanged, _): "a new value in the file"
      case (.vaultChanged, _): "a new value in the vault"
      case (.bothChanged, .added): "edited in the file, removed from the vault"
      case (.bothChanged, .missing): "removed from the file, changed in the vault"
      case (.bothChanged, _): "different new values in the file and the vault"
      case (.onlyInFile, _), (.onlyInVault, _): nil
      case (.unknown, _): "differs; no base recorded yet"
      }
    return difference.side.rawValue + (detail.map { " (\($0))" } ?? "")
  }

  /// What `status` suggests: the command that takes each side's changes.
  static func hints(_ drift: MirrorDrift, environment: String) -> [String] {
    guard drift.hasBase else {
      return [
        "run `hotsecrets import \(environment)` to store the files, or `hotsecrets render \(environment)` to rewrite them "
          + "(no base recorded yet: after either, status shows which side changed)"
      ]
    }
    let sides = drift.differences.map(\.side)
    let inFile = sides.contains { $0.changedInFile }
    let inVault = sides.contains { $0.changedInVault }
    let prune = drift.differences.contains { $0.side == .fileChanged && $0.kind == .missing }
    if sides.contains(.bothChanged) {
      return [
        "conflict: keep the files' values with `hotsecrets import \(environment) --take file`, "
          + "or the vault's with `hotsecrets render \(environment) --take vault`"
      ]
    }
    if inFile && inVault {
      return [
        "run `hotsecrets import \(environment) --take vault\(prune ? " --prune" : "")` to store the files' changes, "
          + "then `hotsecrets render \(environment)` to write the vault's"
      ]
    }
    if inFile { return ["run `hotsecrets import \(environment)\(prune ? " --prune" : "")` to store the files' changes"] }
    return ["run `hotsecrets render \(environment)` to write the vault's changes into the files"]
  }
}
