import ArgumentParser
import Foundation
import HotSecretsModel
import HotSecretsVault
import VaultPostgres
import VaultSQLite

/// Shell completion of environments, services and keys, from the vault's plaintext metadata (the
/// names it stores beside the ciphertexts): nothing is unlocked, decrypted or audited (opening a
/// vault of an older hotsecrets brings its schema up to date, as any command does), and any
/// problem (no vault, a damaged one) completes nothing rather than failing.
enum Completions {
  static let environment = CompletionKind.custom { words, index, _ in candidates(words, index, position: 0) }
  static let service = CompletionKind.custom { words, index, _ in candidates(words, index, position: 1) }
  static let key = CompletionKind.custom { words, index, _ in candidates(words, index, position: 2) }
  /// `SERVICE/KEY` of the environment typed before (`rotate ENV openai/API_KEY_PROD …`).
  static let serviceKey = CompletionKind.custom { words, index, _ in
    let typed = CompletedWords(words, upTo: index)
    guard let environment = typed.positionals.first else { return [] }
    return typed.secrets().filter { $0.environment == environment }.map { "\($0.service)/\($0.key)" }
  }

  /// The names for the positional argument at `position` (environment, service, key), given the
  /// words typed before it.
  static func candidates(_ words: [String], _ index: Int, position: Int) -> [String] {
    let typed = CompletedWords(words, upTo: index)
    let secrets = typed.secrets()
    let names: [String]
    switch position {
    case 0: names = secrets.map(\.environment) + typed.policyEnvironments()
    case 1:
      guard let environment = typed.positionals.first else { return [] }
      names = secrets.filter { $0.environment == environment }.map(\.service)
    default:
      guard typed.positionals.count >= 2 else { return [] }
      let (environment, service) = (typed.positionals[0], typed.positionals[1])
      names = secrets.filter { $0.environment == environment && $0.service == service }.map(\.key)
    }
    return Array(Set(names)).sorted()
  }
}

/// The words of a command line being completed: the options that say where the vault is, and the
/// positional arguments after the command's name.
struct CompletedWords {
  /// Options that take a value (the next word, or `--name=value`).
  static let valueOptions: Set<String> = [
    "--root", "--vault", "--identity", "--passphrase-file", "--format", "--policy", "--from", "--to", "--take",
    "--service", "--names", "--limit", "--out", "--since", "--until", "--checkpoints", "--as-of", "--deploy",
    "--target", "--timeout", "--machine-timeout", "--revoke-old", "--value-from", "--confirm-revoked", "--recipient",
    "--name", "--new-passphrase-file", "--hotsecrets-commit", "--schema",
  ]

  var options: [String: String] = [:]
  var positionals: [String] = []

  init(_ words: [String], upTo index: Int) {
    var command: ParsableCommand.Type = HotSecrets.self
    var rest = Array(words.prefix(max(0, index)))
    if let first = rest.first, first.hasSuffix("hotsecrets") { rest.removeFirst() }
    var i = 0
    var inCommandPath = true
    while i < rest.count {
      let word = rest[i]
      i += 1
      if word == "--" { break }
      if word.hasPrefix("-") {
        let parts = word.split(separator: "=", maxSplits: 1).map(String.init)
        if parts.count == 2 {
          options[parts[0]] = parts[1]
        } else if Self.valueOptions.contains(word), i < rest.count {
          options[word] = rest[i]
          i += 1
        }
        continue
      }
      if inCommandPath, let next = command.configuration.subcommands.first(where: { $0.configuration.commandName == word }) {
        command = next
        continue
      }
      inCommandPath = false
      positionals.append(word)
    }
  }

  var root: String { options["--root"] ?? "." }

  /// Every secret's address the vault holds (current ones), or none.
  func secrets() -> [SecretAddress] {
    let path = VaultLocation.resolve(
      explicit: options["--vault"], environment: ProcessEnvironment.value(ProcessEnvironment.vault), root: root)
    guard PostgresURI.isPostgres(path) || FileManager.default.fileExists(atPath: path),
      let store = try? VaultOptions.store(at: path, schema: options["--schema"], creating: false, busyTimeout: 1),
      let rows = try? store.read({ tx in try tx.secrets.rows(in: nil, ciphertexts: false) })
    else { return [] }
    return rows.filter { $0.current != nil }.map(\.address)
  }

  /// Environments named by `ROOT/policies/*.yaml`.
  func policyEnvironments() -> [String] { KnownEnvironment.policyEnvironments(root: root) }
}
