import ArgumentParser
import Foundation

/// The command line's own conventions on top of argument-parser's: global options before the
/// subcommand, and usage errors as one `hotsecrets: error:` line plus a `hotsecrets: hint:` line
/// where one fits (exit 64).
enum UsageErrors {
  /// The options every vault command takes, accepted before the subcommand as well as after it.
  static let globalOptions: Set<String> = ["--root", "--vault", "--identity", "--passphrase-file", "--schema"]

  /// `arguments` with the global options that precede the subcommand moved to its end (before a
  /// `--`, whose arguments belong to another program): `--root DIR verify prod` parses as
  /// `verify prod --root DIR`. Anything else is left as it is.
  static func movingGlobalOptions(_ arguments: [String]) -> [String] {
    var leading: [String] = []
    var index = 0
    while index < arguments.count {
      let argument = arguments[index]
      let name = argument.split(separator: "=", maxSplits: 1).first.map(String.init) ?? argument
      guard globalOptions.contains(name) else { break }
      if argument.contains("=") {
        leading.append(argument)
        index += 1
      } else {
        guard index + 1 < arguments.count else { break }
        leading += [argument, arguments[index + 1]]
        index += 2
      }
    }
    guard !leading.isEmpty, index < arguments.count else { return arguments }
    var rest = Array(arguments[index...])
    rest.insert(contentsOf: leading, at: rest.firstIndex(of: "--") ?? rest.count)
    return rest
  }

  /// Prints a parse error (help and --version go to stdout as usual) and exits: 0 for help, 64 for
  /// a usage error.
  static func exit(_ error: Error, arguments: [String]) -> Never {
    guard HotSecrets.exitCode(for: error) != .success else { HotSecrets.exit(withError: error) }
    for line in lines(for: error, arguments: arguments) { StandardStreams.error(line) }
    Foundation.exit(ExitStatus.usage)
  }

  /// The error line and, where one fits, the hint line.
  static func lines(for error: Error, arguments: [String]) -> [String] {
    var command: ParsableCommand.Type = HotSecrets.self
    var path = ["hotsecrets"]
    for argument in arguments {
      if argument == "--" { break }
      if argument.hasPrefix("-") { continue }
      let subcommands = command.configuration.subcommands
      guard !subcommands.isEmpty else { break }
      guard let next = subcommands.first(where: { name(of: $0) == argument }) else {
        let names = subcommands.map(name(of:))
        var lines = ["hotsecrets: error: unknown command '\(argument)' for '\(path.joined(separator: " "))'"]
        if let near = Suggestion.closest(to: argument, among: names) {
          lines.append("hotsecrets: hint: did you mean '\(near)'?")
        } else {
          lines.append("hotsecrets: hint: commands: \(names.joined(separator: ", "))")
        }
        return lines
      }
      command = next
      path.append(argument)
    }
    var message = HotSecrets.message(for: error).trimmingCharacters(in: .whitespacesAndNewlines)
    message = message.split(separator: "\n").first.map(String.init) ?? message
    if let first = message.first { message = first.lowercased() + message.dropFirst() }
    // argument-parser's own suggestion becomes the hint line.
    if let range = message.range(of: ". Did you mean") { message = String(message[..<range.lowerBound]) }
    var lines = ["hotsecrets: error: \(message)"]
    let help = "\(path.joined(separator: " ")) --help"
    if let option = unknownOption(in: message) {
      let options = optionNames(of: command)
      if let near = Suggestion.closest(to: option, among: options) {
        lines.append("hotsecrets: hint: did you mean '\(near)'? (see \(help))")
      } else {
        lines.append("hotsecrets: hint: see \(help)")
      }
    } else if message.hasPrefix("missing") || message.contains("unexpected argument") {
      let usage = HotSecrets.usageString(for: command).split(separator: "\n").first.map(String.init) ?? ""
      lines.append("hotsecrets: hint: usage: \(usage.trimmingCharacters(in: .whitespaces)) (see \(help))")
    }
    return lines
  }

  private static func name(of command: ParsableCommand.Type) -> String {
    command.configuration.commandName ?? String(describing: command).lowercased()
  }

  /// `--plan` of "unknown option '--plan'".
  private static func unknownOption(in message: String) -> String? {
    guard message.hasPrefix("unknown option '") else { return nil }
    return message.dropFirst("unknown option '".count).split(separator: "'").first.map(String.init)
  }

  /// Every `--name` the command's help shows.
  private static func optionNames(of command: ParsableCommand.Type) -> [String] {
    let help = HotSecrets.helpMessage(for: command, columns: 1000)
    var names: Set<String> = []
    var scanner = help[...]
    while let start = scanner.range(of: "--") {
      let tail = scanner[start.upperBound...]
      let word = tail.prefix { $0.isLetter || $0.isNumber || $0 == "-" }
      if !word.isEmpty { names.insert("--" + word) }
      scanner = tail.dropFirst(word.count)
    }
    return names.sorted()
  }
}
