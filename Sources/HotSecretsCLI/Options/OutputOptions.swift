import ArgumentParser
import Foundation
import HotSecretsModel

/// Output format for commands whose output is data.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
  case text, json
}

/// `--format text|json`.
struct OutputOptions: ParsableArguments {
  @Option(help: "Output format: text or json (stable fields, documented in docs/json.md).")
  var format: OutputFormat = .text

  var isJSON: Bool { format == .json }

  /// Prints `value` as JSON (sorted keys, pretty) or `text()` as text.
  func write<T: Encodable>(_ value: T, text: () -> String) throws {
    if isJSON {
      StandardStreams.output(try JSONOutput.encode(value))
    } else {
      let t = text()
      if !t.isEmpty { StandardStreams.output(t) }
    }
  }
}

enum JSONOutput {
  static func encode<T: Encodable>(_ value: T) throws -> String {
    String(decoding: try StableJSON.encode(value), as: UTF8.self)
  }
}
