import ArgumentParser
import Foundation
import HotSecretsModel
import HotSecretsOperations
import HotSecretsVault
import VaultPostgres
import VaultSQLite

/// Where the vault is and how to unlock it; shared by every command that opens the vault.
struct VaultOptions: ParsableArguments {
  @Option(help: "Project root: the default vault is ROOT/vault/hotsecrets.db.", completion: .directory)
  var root: String = "."

  @Option(help: ArgumentHelp("Vault file (overrides $HOTSECRETS_VAULT and the default).", valueName: "path"), completion: .file())
  var vault: String?

  @Option(help: ArgumentHelp("X25519 identity file to unlock with (or $HOTSECRETS_IDENTITY).", valueName: "file"), completion: .file())
  var identity: String?

  @Option(
    help: ArgumentHelp(
      "File holding the passphrase; one trailing newline is ignored (or $HOTSECRETS_PASSPHRASE).", valueName: "file"), completion: .file())
  var passphraseFile: String?

  @Option(
    help: ArgumentHelp(
      "PostgreSQL vaults: the schema (default: search_path in the URI's options, else hotsecrets; or $HOTSECRETS_SCHEMA).",
      valueName: "name"))
  var schema: String?

  /// The resolved vault: a file path, or a `postgresql://` URI.
  var vaultPath: String {
    VaultLocation.resolve(explicit: vault, environment: ProcessEnvironment.value(ProcessEnvironment.vault), root: root)
  }

  var busyTimeout: Double { Self.environmentBusyTimeout }

  /// Seconds a writer waits for another's write lock: $HOTSECRETS_BUSY_TIMEOUT, else 10.
  static var environmentBusyTimeout: Double {
    ProcessEnvironment.value(ProcessEnvironment.busyTimeout).flatMap(Double.init) ?? 10
  }

  /// The PostgreSQL vault named by `--vault` / `$HOTSECRETS_VAULT`, nil for a file.
  var postgres: PostgresURI? {
    get throws {
      let address = vaultPath
      guard PostgresURI.isPostgres(address) else { return nil }
      return try PostgresURI(address, schema: schema ?? ProcessEnvironment.value("HOTSECRETS_SCHEMA"))
    }
  }

  /// Where the vault is, for messages: the file, or the URI without its password.
  var vaultDescription: String {
    PostgresURI.isPostgres(vaultPath) ? ((try? postgres)??.redacted ?? PostgresURI.redact(vaultPath)) : vaultPath
  }

  /// Opens the vault's store without unlocking it.
  func openDatabase() throws -> any VaultStore {
    try Self.store(at: vaultPath, schema: schema, creating: false, busyTimeout: busyTimeout)
  }

  /// Creates the store of a new vault (`init`); throws `vaultExists` when there is one.
  func createDatabase() throws -> any VaultStore {
    try Self.store(at: vaultPath, schema: schema, creating: true, busyTimeout: busyTimeout)
  }

  /// The store at `address`: a `postgresql://` URI (in `schema`, else the URI's, else
  /// $HOTSECRETS_SCHEMA, else `hotsecrets`) or a file path; created when `creating`.
  static func store(at address: String, schema: String?, creating: Bool, busyTimeout: Double) throws -> any VaultStore {
    if PostgresURI.isPostgres(address) {
      let uri = try PostgresURI(address, schema: schema ?? ProcessEnvironment.value("HOTSECRETS_SCHEMA"))
      return creating
        ? try PostgresStore.create(uri, busyTimeout: busyTimeout) : try PostgresStore.open(uri, busyTimeout: busyTimeout)
    }
    return creating
      ? try SQLiteStore.create(path: address, busyTimeout: busyTimeout)
      : try SQLiteStore.open(path: address, busyTimeout: busyTimeout)
  }

  /// Opens and unlocks the vault: an identity (--identity, then $HOTSECRETS_IDENTITY) first, then a
  /// passphrase (--passphrase-file, then $HOTSECRETS_PASSPHRASE), then a terminal prompt.
  /// A vault from before authenticated current versions gets a one-line upgrade hint on stderr.
  func unlock() throws -> VaultSession {
    let database = try openDatabase()
    let session = try VaultAccess.unlock(database, with: try unlockMethod(), user: ProcessEnvironment.userName)
    if !session.authenticatesHeads {
      StandardStreams.error(
        "hotsecrets: warning: this vault predates re-keying and authenticated current versions; run `hotsecrets rekey` once to upgrade it (docs/security.md)"
      )
    }
    return session
  }

  /// Unlocks when an identity or passphrase was given (flag or environment), without prompting;
  /// nil when none was. A given one that does not open the vault is still an error.
  func unlockIfGiven() throws -> VaultSession? {
    unlocksWithoutPrompt ? try unlock() : nil
  }

  /// Whether an identity or passphrase was given (flag or environment), so that `unlock` will not
  /// read the terminal.
  var unlocksWithoutPrompt: Bool {
    identity != nil || passphraseFile != nil || ProcessEnvironment.value(ProcessEnvironment.identity) != nil
      || ProcessEnvironment.value(ProcessEnvironment.passphrase) != nil
  }

  func unlockMethod() throws -> UnlockMethod {
    if let path = identity ?? ProcessEnvironment.value(ProcessEnvironment.identity) {
      return .identity(try IdentityFile.load(path: path))
    }
    if let path = passphraseFile { return .passphrase(try PassphraseSource.read(file: path)) }
    if let secret = try PassphraseSource.fromEnvironment() { return .passphrase(secret) }
    if let secret = try Terminal.readSecret(prompt: "Passphrase for \(vaultDescription): ") { return .passphrase(secret) }
    throw CLIError.noUnlockMethod
  }
}

/// Reading passphrases from files and the environment into secure memory.
enum PassphraseSource {
  /// The file's content without one trailing newline.
  static func read(file path: String) throws -> SecretBytes {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw CLIError.io(path: path, reason: "cannot read the passphrase file")
    }
    var bytes = Array(data)
    defer { wipe(&bytes) }
    return try SecretBytes(copying: InputText.droppingOneTrailingNewline(bytes))
  }

  /// The passphrase in `variable` ($HOTSECRETS_PASSPHRASE by default), or nil when unset or empty.
  static func fromEnvironment(_ variable: String = ProcessEnvironment.passphrase) throws -> SecretBytes? {
    guard let raw = getenv(variable), raw.pointee != 0 else { return nil }
    return try SecretBytes(copying: UnsafeBufferPointer(start: raw, count: strlen(raw)).map { UInt8(bitPattern: $0) })
  }

  /// A new passphrase: from `file`, else `variable`, else asked twice on the terminal.
  /// Throws when none is available, the two entries differ, it is empty, or it is shorter than
  /// `PassphraseRule` allows (checked before the vault is touched or the passphrase repeated).
  static func readNew(file: String?, variable: String) throws -> SecretBytes {
    let secret: SecretBytes
    if let file {
      secret = try read(file: file)
    } else if let fromEnvironment = try fromEnvironment(variable) {
      secret = fromEnvironment
    } else {
      guard let first = try Terminal.readSecret(prompt: "New passphrase: ") else {
        throw CLIError.invalidInput(
          "no new passphrase given: set \(variable), pass a passphrase file, or run on a terminal")
      }
      try PassphraseRule.check(first)
      guard let again = try Terminal.readSecret(prompt: "Repeat the passphrase: "), again.constantTimeEquals(first)
      else {
        throw CLIError.invalidInput("the passphrases do not match")
      }
      secret = first
    }
    guard secret.count > 0 else { throw CLIError.invalidInput("the passphrase is empty") }
    try PassphraseRule.check(secret)
    return secret
  }
}

/// Loading identity files, with a warning when others can read them.
enum IdentityFile {
  static func load(path: String) throws -> Identity {
    var info = stat()
    if stat(path, &info) == 0, info.st_mode & 0o077 != 0 {
      StandardStreams.warning("identity file \(path) is readable by other users; run: chmod 600 \(path)")
    }
    return try Identity.load(path: path)
  }
}

/// Small input helpers.
enum InputText {
  /// Removes one trailing "\n" (or "\r\n") if present.
  static func droppingOneTrailingNewline(_ bytes: [UInt8]) -> ArraySlice<UInt8> {
    var slice = bytes[...]
    if slice.last == UInt8(ascii: "\n") {
      slice = slice.dropLast()
      if slice.last == UInt8(ascii: "\r") { slice = slice.dropLast() }
    }
    return slice
  }
}
