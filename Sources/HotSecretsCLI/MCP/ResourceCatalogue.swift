import Foundation
import HotSecretsModel
import HotSecretsVault

/// What the server offers to read: each environment's policy (`hotsecrets://policy/ENV`, the
/// committed YAML, which holds no value) and the last verify report this server produced for it
/// (`hotsecrets://verify/ENV`, the `verify` tool's structured result).
struct ResourceCatalogue {
  let root: String
  private var lastVerify: [String: JSONValue] = [:]

  init(root: String) {
    self.root = root
  }

  static let templates: [JSONValue] = [
    .object([
      "uriTemplate": .string("hotsecrets://policy/{environment}"), "name": .string("policy"),
      "title": .string("An environment's policy"), "mimeType": .string("application/yaml"),
      "description": .string("policies/ENV.yaml: the keys ENV must hold, their formats, ages, targets and rotation."),
    ]),
    .object([
      "uriTemplate": .string("hotsecrets://verify/{environment}"), "name": .string("verify-report"),
      "title": .string("The last verify report"), "mimeType": .string("application/json"),
      "description": .string("The last result of the verify tool for ENV on this server (names and checks, never values)."),
    ]),
  ]

  /// Every policy under ROOT/policies, and every verify report this server holds.
  func list() -> [JSONValue] {
    let folder = VaultLocation.join(root, "policies")
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
      .filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }
      .filter { (try? SecretAddress.validateEnvironment($0)) != nil }.sorted()
    var resources = names.map { name in
      JSONValue.object([
        "uri": .string("hotsecrets://policy/\(name)"), "name": .string("policy \(name)"),
        "title": .string("Policy for \(name)"), "mimeType": .string("application/yaml"),
        "description": .string("policies/\(name).yaml"),
      ])
    }
    for name in lastVerify.keys.sorted() {
      resources.append(
        .object([
          "uri": .string("hotsecrets://verify/\(name)"), "name": .string("verify \(name)"),
          "title": .string("Last verify report for \(name)"), "mimeType": .string("application/json"),
        ]))
    }
    return resources
  }

  /// The contents of `uri`. Throws resource-not-found for anything else.
  func read(_ uri: String, id: JSONValue) throws(JSONRPC.Failure) -> JSONValue {
    let notFound = JSONRPC.Failure(code: JSONRPC.Failure.resourceNotFoundCode, message: "resource not found: \(uri)", id: id)
    for (prefix, kind) in [("hotsecrets://policy/", "policy"), ("hotsecrets://verify/", "verify")] where uri.hasPrefix(prefix) {
      let name = String(uri.dropFirst(prefix.count))
      guard (try? SecretAddress.validateEnvironment(name)) != nil else { throw notFound }
      if kind == "verify" {
        guard let report = lastVerify[name] else {
          throw JSONRPC.Failure(
            code: JSONRPC.Failure.resourceNotFoundCode,
            message: "no verify report for \(name) yet: call the verify tool first", id: id)
        }
        return .object([
          "uri": .string(uri), "mimeType": .string("application/json"),
          "text": .string(String(decoding: JSONRPC.encode(report), as: UTF8.self)),
        ])
      }
      let path = VaultLocation.join(root, "policies/\(name).yaml")
      guard let data = FileManager.default.contents(atPath: path) else { throw notFound }
      return .object([
        "uri": .string(uri), "mimeType": .string("application/yaml"), "text": .string(String(decoding: data, as: UTF8.self)),
      ])
    }
    throw notFound
  }

  mutating func rememberVerify(_ report: JSONValue, environment: String) {
    lastVerify[environment] = report
  }
}
