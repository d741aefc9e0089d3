import Foundation
import HotSecretsModel

/// Reads policy files (schema version 1) with the system's libyaml (`YAMLComposer`), checking every field and naming the
/// file:line:column of the first problem: unknown fields, wrong types, bad regular expressions,
/// unknown provider kinds, targets naming services that do not exist.
public enum PolicyParser {
  public static let supportedVersion = 1

  /// Reads and parses `path`; throws `PolicyError`.
  public static func load(path: String) throws -> Policy {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw PolicyError(
        file: path, position: nil,
        problem: FileManager.default.fileExists(atPath: path)
          ? "cannot read the file" : PolicyError.noSuchFile)
    }
    guard let text = String(data: data, encoding: .utf8) else {
      throw PolicyError(file: path, position: nil, problem: "not valid UTF-8")
    }
    return try parse(text, file: path)
  }

  /// Parses policy text; `file` names it in errors.
  public static func parse(_ text: String, file: String) throws -> Policy {
    let root: YAMLNode
    do {
      guard let node = try YAMLComposer.compose(text) else {
        throw PolicyError(file: file, position: nil, problem: "the file is empty")
      }
      root = node
    } catch let error as YAMLComposer.Failure {
      throw PolicyError(file: file, position: error.position, problem: error.problem)
    }
    return try Reader(file: file).policy(root)
  }

  /// Walks the node tree; every error carries the offending node's position.
  private final class Reader {
    let file: String
    /// Compiled formats by source text: policies repeat the same few patterns many times.
    var formats: [String: FormatRule] = [:]

    init(file: String) { self.file = file }

    func fail(_ node: YAMLNode?, _ problem: String) -> PolicyError {
      PolicyError(file: file, position: node?.position, problem: problem)
    }

    /// A mapping's entries by name. Policy mappings have a handful of fields: looked up linearly.
    /// Names are unique: `YAMLComposer` refuses duplicate keys (whatever their tags).
    struct Fields: Sequence {
      var entries: [(name: String, key: YAMLNode, value: YAMLNode)] = []

      subscript(_ name: String) -> (key: YAMLNode, value: YAMLNode)? {
        entries.first { $0.name == name }.map { ($0.key, $0.value) }
      }

      func makeIterator() -> some IteratorProtocol<(name: String, key: YAMLNode, value: YAMLNode)> {
        entries.makeIterator()
      }
    }

    /// The mapping's entries by key, rejecting keys not in `allowed`. `what` names the mapping in
    /// errors (built only then).
    func fields(_ node: YAMLNode, _ what: @autoclosure () -> String, allowed: [String]) throws -> Fields {
      guard let mapping = node.mapping else { throw fail(node, "\(what()) must be a mapping") }
      var result = Fields()
      result.entries.reserveCapacity(mapping.count)
      for (key, value) in mapping {
        guard let name = key.scalar else { throw fail(key, "\(what()): keys must be plain names") }
        guard allowed.contains(name) else {
          throw fail(key, "unknown field '\(name)' in \(what()) (expected one of: \(allowed.joined(separator: ", ")))")
        }
        result.entries.append((name, key, value))
      }
      return result
    }

    func string(_ node: YAMLNode, _ what: String) throws -> String {
      guard let scalar = node.scalar else { throw fail(node, "\(what) must be a string") }
      return scalar
    }

    func int(_ node: YAMLNode, _ what: String, min: Int = 0, max: Int? = nil) throws -> Int {
      guard let scalar = node.scalar, let value = Int(scalar), value >= min, value <= max ?? .max else {
        throw fail(node, "\(what) must be a whole number " + (max.map { "from \(min) to \($0)" } ?? "≥ \(min)"))
      }
      return value
    }

    func bool(_ node: YAMLNode, _ what: String) throws -> Bool {
      guard let scalar = node.scalar else { throw fail(node, "\(what) must be true or false") }
      switch scalar.lowercased() {
      case "true", "yes": return true
      case "false", "no": return false
      default: throw fail(node, "\(what) must be true or false")
      }
    }

    func stringList(_ node: YAMLNode, _ what: String) throws -> [(String, YAMLNode)] {
      guard let sequence = node.sequence else { throw fail(node, "\(what) must be a list") }
      return try sequence.map { (try string($0, what), $0) }
    }

    func policy(_ root: YAMLNode) throws -> Policy {
      let f = try fields(
        root, "the policy",
        allowed: ["version", "environment", "max_age_days", "exposed_max_days", "services", "targets"])
      guard let versionNode = f["version"]?.value else { throw fail(root, "missing field 'version' (use version: 1)") }
      let version = try int(versionNode, "version", min: 1)
      guard version == PolicyParser.supportedVersion else {
        throw fail(versionNode, "unsupported policy version \(version) (this hotsecrets reads version 1)")
      }
      guard let envNode = f["environment"]?.value else { throw fail(root, "missing field 'environment'") }
      let environment = try string(envNode, "environment")
      guard SecretAddress.isServiceName(environment) else {
        throw fail(envNode, "environment must match \(SecretAddress.serviceRule)")
      }
      let maxAge = try f["max_age_days"].map { try int($0.value, "max_age_days", min: 1) }
      let exposedMaxDays =
        try f["exposed_max_days"].map { try int($0.value, "exposed_max_days", min: 0) } ?? Policy.defaultExposedMaxDays
      var services: [ServicePolicy] = []
      if let servicesNode = f["services"]?.value {
        guard let mapping = servicesNode.mapping else { throw fail(servicesNode, "services must be a mapping") }
        for (nameNode, body) in mapping {
          let name = try string(nameNode, "a service name")
          guard SecretAddress.isServiceName(name) else {
            throw fail(nameNode, "service name '\(name)' must match \(SecretAddress.serviceRule)")
          }
          services.append(try service(name, body))
        }
      }
      let known = Set(services.map(\.name))
      var fly: [FlyTarget] = []
      var github: [GitHubTarget] = []
      if let targetsNode = f["targets"]?.value {
        let t = try fields(targetsNode, "targets", allowed: ["fly", "github"])
        if let list = t["fly"]?.value {
          guard let items = list.sequence else { throw fail(list, "targets.fly must be a list") }
          fly = try items.map { try flyTarget($0, known: known) }
        }
        if let list = t["github"]?.value {
          guard let items = list.sequence else { throw fail(list, "targets.github must be a list") }
          github = try items.map { try githubTarget($0, known: known) }
        }
      }
      return Policy(
        file: file, version: version, environment: environment, maxAgeDays: maxAge, exposedMaxDays: exposedMaxDays,
        services: services, flyTargets: fly, githubTargets: github)
    }

    func service(_ name: String, _ node: YAMLNode) throws -> ServicePolicy {
      let f = try fields(node, "service \(name)", allowed: ["provider", "keys"])
      let provider = try f["provider"].map { try self.provider($0.value, service: name) }
      var keys: [KeyPolicy] = []
      if let keysNode = f["keys"]?.value {
        guard let mapping = keysNode.mapping else { throw fail(keysNode, "keys of service \(name) must be a mapping") }
        for (keyNode, body) in mapping {
          let key = try string(keyNode, "a key name")
          guard SecretAddress.isKeyName(key) else {
            throw fail(keyNode, "key name '\(key)' must match \(SecretAddress.keyRule)")
          }
          keys.append(try self.key(key, body, at: keyNode, service: name))
        }
      }
      return ServicePolicy(name: name, provider: provider, keys: keys)
    }

    func provider(_ node: YAMLNode, service: String) throws -> ProviderConfig {
      guard node.mapping != nil else { throw fail(node, "provider of service \(service) must be a mapping") }
      guard let kindNode = node["kind"] else { throw fail(node, "provider of service \(service) needs a 'kind'") }
      let kindName = try string(kindNode, "provider kind")
      guard let kind = ProviderKind(rawValue: kindName) else {
        throw fail(
          kindNode,
          "unknown provider kind '\(kindName)' (known: \(ProviderKind.allCases.map(\.rawValue).joined(separator: ", ")))"
        )
      }
      let allowed = ["kind"] + kind.requiredSettings + kind.optionalSettings
      let f = try fields(node, "provider \(kind.rawValue) of service \(service)", allowed: allowed)
      var settings: [String: String] = [:]
      for entry in f where entry.name != "kind" { settings[entry.name] = try string(entry.value, entry.name) }
      for required in kind.requiredSettings where settings[required] == nil {
        throw fail(node, "provider \(kind.rawValue) of service \(service) needs '\(required)'")
      }
      if kind == .supabase, let ref = settings["project_ref"], let entry = f["project_ref"],
        !(ref.count == 20 && ref.utf8.allSatisfy({ $0 >= 97 && $0 <= 122 }))
      {
        throw fail(entry.value, "project_ref must be 20 lower-case letters")
      }
      return ProviderConfig(kind: kind, settings: settings)
    }

    func key(_ name: String, _ node: YAMLNode, at keyNode: YAMLNode, service: String) throws -> KeyPolicy {
      // Named only in errors: built only then.
      let what = { "key \(service)/\(name)" }
      // `KEY: {}` and `KEY:` (null) both mean "all defaults".
      let f: Fields
      if let scalar = node.scalar, scalar.isEmpty || scalar == "~" || scalar == "null" {
        f = Fields()
      } else {
        f = try fields(
          node, what(), allowed: ["required", "secret", "format", "max_age_days", "rotate", "length", "target_name"])
      }
      var format: FormatRule?
      if let entry = f["format"] {
        let pattern = try string(entry.value, "format")
        if let cached = formats[pattern] {
          format = cached
        } else {
          do { format = try FormatRule(pattern: pattern) } catch {
            throw fail(entry.value, formatProblem(error, pattern: pattern, of: what()))
          }
          formats[pattern] = format
        }
      }
      var rotate = RotationMode.manual
      if let entry = f["rotate"] {
        switch try string(entry.value, "rotate") {
        case "provider": rotate = .provider
        case "generate":
          let length = try f["length"].map { try int($0.value, "length of \(what())", min: 16, max: 4096) }
          rotate = .generate(length: length ?? 32)
        case "manual": rotate = .manual
        case let other:
          throw fail(entry.value, "rotate of \(what()) must be provider, generate or manual, not '\(other)'")
        }
      }
      if let entry = f["length"], rotate.name != "generate" {
        throw fail(entry.key, "length of \(what()) applies only to rotate: generate")
      }
      let targetName = try f["target_name"].map { try string($0.value, "target_name") }
      if let targetName, let entry = f["target_name"], !SecretAddress.isKeyName(targetName) {
        throw fail(entry.value, "target_name '\(targetName)' must match \(SecretAddress.keyRule)")
      }
      let mark = keyNode.position
      return KeyPolicy(
        name: name, required: try f["required"].map { try bool($0.value, "required") } ?? true,
        secret: try f["secret"].map { try bool($0.value, "secret") } ?? true, format: format,
        maxAgeDays: try f["max_age_days"].map { try int($0.value, "max_age_days", min: 1) }, rotate: rotate,
        targetName: targetName, position: mark)
    }

    /// The message for a refused `format`: the key, the pattern, where in it, and what is wrong.
    func formatProblem(_ error: FormatPatternError, pattern: String, of what: String) -> String {
      switch error.kind {
      case .invalid:
        return "format '\(pattern)' of \(what) is not a valid regular expression: \(error.problem) at character "
          + "\(error.offset)"
      case .unsupported:
        return "format '\(pattern)' of \(what) uses \(error.problem) at character \(error.offset), "
          + "which hotsecrets does not support (see docs/policy.md)"
      case .tooLarge:
        return "format '\(pattern)' of \(what) is refused: \(error.problem) (see docs/policy.md)"
      }
    }

    func services(_ node: YAMLNode?, in what: String, known: Set<String>, at parent: YAMLNode) throws -> [String] {
      guard let node else { throw fail(parent, "\(what) needs 'services'") }
      return try stringList(node, "services").map { name, item in
        guard known.contains(name) else {
          throw fail(item, "\(what) names service '\(name)', which the policy does not declare")
        }
        return name
      }
    }

    func flyTarget(_ node: YAMLNode, known: Set<String>) throws -> FlyTarget {
      let f = try fields(node, "a fly target", allowed: ["app", "services", "deploy", "health_url"])
      guard let appNode = f["app"]?.value else { throw fail(node, "a fly target needs 'app'") }
      let app = try string(appNode, "app")
      var deploy: FlyTarget.Deploy?
      if let entry = f["deploy"] {
        let text = try string(entry.value, "deploy")
        guard let value = FlyTarget.Deploy(rawValue: text) else {
          throw fail(entry.value, "deploy must be stage or rolling, not '\(text)'")
        }
        deploy = value
      }
      return FlyTarget(
        app: app, services: try services(f["services"]?.value, in: "fly target \(app)", known: known, at: node),
        deploy: deploy, healthURL: try f["health_url"].map { try string($0.value, "health_url") })
    }

    func githubTarget(_ node: YAMLNode, known: Set<String>) throws -> GitHubTarget {
      let f = try fields(node, "a github target", allowed: ["repository", "environment", "services"])
      guard let repoNode = f["repository"]?.value else { throw fail(node, "a github target needs 'repository'") }
      let repository = try string(repoNode, "repository")
      guard repository.split(separator: "/").count == 2 else {
        throw fail(repoNode, "repository must be owner/name, not '\(repository)'")
      }
      guard let envNode = f["environment"]?.value else { throw fail(node, "a github target needs 'environment'") }
      return GitHubTarget(
        repository: repository, environment: try string(envNode, "environment"),
        services: try services(f["services"]?.value, in: "github target \(repository)", known: known, at: node))
    }
  }
}
