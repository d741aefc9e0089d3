import ArgumentParser

/// The plain spelling of a hot leaf command's arguments — `--name value` options, `--name` flags
/// and positionals, each name at most once — read without argument-parser.
///
/// Building argument-parser's model of a command (reflection, and a first-time protocol
/// conformance lookup per property-wrapper type) costs about 3 ms of every process, a fifth of a
/// `verify` or `list`. The commands run on every deploy and CI job (`list`, `get`, `verify`,
/// `status`, `render`) read their plain invocations with this instead. Anything else — a short or
/// `--name=value` form, an unknown or repeated name, `--`, a value that starts with `-`, help — is
/// not plain: `init` returns nil and the command goes through argument-parser, so its errors and
/// usage text are the usual ones. HotSecretsCLITests checks each command's plain grammar against
/// argument-parser's own model of it, and that both parse the same invocations to the same values.
struct PlainArguments {
  private var values: [String: String] = [:]
  private var flags: Set<String> = []
  private(set) var positionals: [String] = []

  /// Nil unless `arguments` are plain for a command with these option and flag names (`--…`).
  init?(_ arguments: [String], options: [String], flags: [String]) {
    var index = 0
    while index < arguments.count {
      let argument = arguments[index]
      index += 1
      guard argument.hasPrefix("-") else {
        positionals.append(argument)
        continue
      }
      if options.contains(argument) {
        guard index < arguments.count, !arguments[index].hasPrefix("-"), values[argument] == nil else { return nil }
        values[argument] = arguments[index]
        index += 1
      } else if flags.contains(argument), !self.flags.contains(argument) {
        self.flags.insert(argument)
      } else {
        return nil
      }
    }
  }

  /// The value given for option `name`, if any.
  func value(_ name: String) -> String? { values[name] }

  /// Whether flag `name` was given.
  func flag(_ name: String) -> Bool { flags.contains(name) }
}

/// A leaf command that reads its plain invocations without argument-parser (see `PlainArguments`).
protocol PlainParsable: ParsableCommand {
  /// Option names (`--…`) the command takes, its option groups' included.
  static var plainOptions: [String] { get }
  /// Flag names (`--…`) the command takes.
  static var plainFlags: [String] { get }
  /// The command with every property set from `arguments`; nil when a value does not convert
  /// (argument-parser then reports it).
  static func make(_ arguments: PlainArguments) -> Self?
}

extension PlainParsable {
  static var plainFlags: [String] { [] }

  /// `arguments` parsed without argument-parser, or nil when they are not plain.
  static func parsePlain(_ arguments: [String]) -> Self? {
    guard var command = PlainArguments(arguments, options: plainOptions, flags: plainFlags).flatMap(make),
      (try? command.validate()) != nil
    else { return nil }
    return command
  }
}

extension VaultOptions {
  static let plainOptions = ["--root", "--vault", "--identity", "--passphrase-file"]

  init(_ arguments: PlainArguments) {
    self.init()
    root = arguments.value("--root") ?? "."
    vault = arguments.value("--vault")
    identity = arguments.value("--identity")
    passphraseFile = arguments.value("--passphrase-file")
  }
}

extension OutputOptions {
  static let plainOptions = ["--format"]

  init?(_ arguments: PlainArguments) {
    self.init()
    guard let format = arguments.value("--format").map(OutputFormat.init(rawValue:)) ?? .text else { return nil }
    self.format = format
  }
}

extension PolicyOptions {
  static let plainOptions = ["--policy"]

  init(_ arguments: PlainArguments) {
    self.init()
    policy = arguments.value("--policy")
  }
}

extension SecretAddressArguments {
  /// From exactly three positionals; nil otherwise.
  init?(_ arguments: PlainArguments) {
    guard arguments.positionals.count == 3 else { return nil }
    self.init()
    environment = arguments.positionals[0]
    service = arguments.positionals[1]
    key = arguments.positionals[2]
  }
}

extension HotSecrets.List: PlainParsable {
  static let plainOptions = VaultOptions.plainOptions + OutputOptions.plainOptions

  static func make(_ arguments: PlainArguments) -> Self? {
    guard arguments.positionals.count <= 1, let output = OutputOptions(arguments) else { return nil }
    var command = Self()
    command.vault = VaultOptions(arguments)
    command.output = output
    command.environment = arguments.positionals.first
    return command
  }
}

extension HotSecrets.GetValue: PlainParsable {
  static let plainOptions = VaultOptions.plainOptions

  static func make(_ arguments: PlainArguments) -> Self? {
    guard let name = SecretAddressArguments(arguments) else { return nil }
    var command = Self()
    command.vault = VaultOptions(arguments)
    command.name = name
    return command
  }
}

/// A plain-parsable command of one environment with the vault and output options: `status`,
/// `render` and `verify`.
protocol PlainEnvironmentCommand: PlainParsable {
  var vault: VaultOptions { get set }
  var output: OutputOptions { get set }
  var environment: String { get set }
}

extension PlainEnvironmentCommand {
  /// The command with its vault and output options and its one environment set (the rest is the
  /// caller's); nil unless there is exactly one positional and the format is known.
  static func withEnvironment(_ arguments: PlainArguments) -> Self? {
    guard arguments.positionals.count == 1, let output = OutputOptions(arguments) else { return nil }
    var command = Self()
    command.vault = VaultOptions(arguments)
    command.output = output
    command.environment = arguments.positionals[0]
    return command
  }
}

extension HotSecrets.Status: PlainEnvironmentCommand {
  static let plainOptions = VaultOptions.plainOptions + OutputOptions.plainOptions + ["--from"]

  static func make(_ arguments: PlainArguments) -> Self? {
    guard var command = withEnvironment(arguments) else { return nil }
    command.from = arguments.value("--from")
    return command
  }
}

extension HotSecrets.Render: PlainEnvironmentCommand {
  static let plainOptions = VaultOptions.plainOptions + OutputOptions.plainOptions + ["--to"]

  static func make(_ arguments: PlainArguments) -> Self? {
    guard var command = withEnvironment(arguments) else { return nil }
    command.to = arguments.value("--to")
    return command
  }
}

extension HotSecrets.Verify: PlainEnvironmentCommand {
  static let plainOptions =
    VaultOptions.plainOptions + OutputOptions.plainOptions + PolicyOptions.plainOptions + [
      "--from", "--as-of", "--timeout",
    ]
  static let plainFlags = ["--live", "--targets", "--strict"]

  static func make(_ arguments: PlainArguments) -> Self? {
    var timeout = 10.0
    if let text = arguments.value("--timeout") {
      guard let seconds = Double(text) else { return nil }
      timeout = seconds
    }
    guard var command = withEnvironment(arguments) else { return nil }
    command.policyOptions = PolicyOptions(arguments)
    command.from = arguments.value("--from")
    command.live = arguments.flag("--live")
    command.targets = arguments.flag("--targets")
    command.strict = arguments.flag("--strict")
    command.asOf = arguments.value("--as-of")
    command.timeout = timeout
    return command
  }
}
