import HotSecretsModel

/// One argument of an MCP tool: its JSON Schema, and the check a call's value must pass.
struct ToolArgument: Sendable {
  enum Kind: Sendable {
    case string
    case boolean
    /// An array of strings.
    case strings
    /// One of these strings.
    case choice([String])
  }

  let name: String
  let kind: Kind
  let description: String
  var required = false

  var schema: JSONValue {
    var schema: [String: JSONValue] = ["description": .string(description)]
    switch kind {
    case .string: schema["type"] = .string("string")
    case .boolean: schema["type"] = .string("boolean")
    case .strings:
      schema["type"] = .string("array")
      schema["items"] = .object(["type": .string("string")])
    case .choice(let choices):
      schema["type"] = .string("string")
      schema["enum"] = .array(choices.map(JSONValue.string))
    }
    return .object(schema)
  }

  /// Whether `value` has this argument's type.
  func accepts(_ value: JSONValue) -> Bool {
    switch (kind, value) {
    case (.string, .string), (.boolean, .bool): true
    case (.strings, .array(let items)): items.allSatisfy { $0.stringValue != nil }
    case (.choice(let choices), .string(let text)): choices.contains(text)
    default: false
    }
  }

  /// The expected type in words, for an error.
  var typeWords: String {
    switch kind {
    case .string: "a string"
    case .boolean: "true or false"
    case .strings: "an array of strings"
    case .choice(let choices): "one of " + choices.joined(separator: ", ")
    }
  }
}

/// A tool call's arguments, checked against the tool's schema.
struct ToolArguments: Sendable {
  let values: [String: JSONValue]

  func string(_ name: String) -> String? { values[name]?.stringValue }

  func bool(_ name: String) -> Bool {
    if case .bool(let flag)? = values[name] { flag } else { false }
  }

  func strings(_ name: String) -> [String] {
    if case .array(let items)? = values[name] { items.compactMap(\.stringValue) } else { [] }
  }
}

/// The tools `hotsecrets mcp` offers: what each takes, what it answers and whether it changes
/// anything. None returns or accepts a secret value.
enum Tool: String, CaseIterable, Sendable {
  case verify, status, list, history
  case auditVerify = "audit_verify"
  case rotationPlan = "rotation_plan"
  case syncPlan = "sync_plan"
  // Tools that change things: offered only when named in --allow.
  case sync, rotate
  case rotateFinish = "rotate_finish"

  /// The tools that change the vault or the targets.
  static let writeTools: [Tool] = [.sync, .rotate, .rotateFinish]

  var changesThings: Bool { Self.writeTools.contains(self) }

  /// Whether the tool needs the vault's key (values, keyed fingerprints, MACs, the journal).
  var needsUnlock: Bool { self != .auditVerify }

  /// The command line the tool answers like.
  var command: String {
    switch self {
    case .verify: "hotsecrets verify ENV --format json"
    case .status: "hotsecrets status ENV --format json"
    case .list: "hotsecrets list [ENV] --format json"
    case .history: "hotsecrets history ENV SERVICE KEY --format json"
    case .auditVerify: "hotsecrets audit verify --format json"
    case .rotationPlan: "hotsecrets rotate ENV --dry-run --format json"
    case .syncPlan: "hotsecrets sync ENV --dry-run --format json"
    case .sync: "hotsecrets sync ENV --format json"
    case .rotate: "hotsecrets rotate ENV --format json"
    case .rotateFinish: "hotsecrets rotate ENV --finish --format json"
    }
  }

  var title: String {
    switch self {
    case .verify: "Pre-deploy gate"
    case .status: "Mirror drift"
    case .list: "Secrets (names, versions, ages)"
    case .history: "Versions of one secret"
    case .auditVerify: "Verify the audit trail"
    case .rotationPlan: "Rotation plan"
    case .syncPlan: "Sync plan"
    case .sync: "Push secrets to Fly and GitHub"
    case .rotate: "Rotate credentials"
    case .rotateFinish: "Settle earlier rotations"
    }
  }

  var summary: String {
    switch self {
    case .verify:
      "Checks ENV's secrets against policies/ENV.yaml: missing, empty, placeholder, format, age, mirror drift; with live, whether each provider accepts the credential; with targets, whether Fly and GitHub hold the current values. passed=false means do not deploy."
    case .status:
      "Compares the mirror files (vault/occ/SERVICE/ENV.env) with the vault by keyed fingerprint: keys added, changed or missing, and which side changed. Decrypts nothing."
    case .list: "Lists secrets with version, creation time, age, keyed fingerprint and exposure to removed recipients. Never values."
    case .history: "Every version of one secret: state, creation time, source, keyed fingerprint. Never values."
    case .auditVerify:
      "Checks the hash-chained audit trail and its signed checkpoints (and every entry's MAC when the server is unlocked)."
    case .rotationPlan:
      "What `rotate` would do: which keys (named, due by max age, or exposed to a removed recipient), how each is minted and where it is pushed. Changes nothing and reads no credential."
    case .syncPlan:
      "What `sync` would push to each Fly app and GitHub environment of the policy (names only). Asks the targets when their tokens are available, else plans from the push ledger. Sends no write."
    case .sync: "Pushes ENV's secrets to the policy's Fly apps and GitHub Actions environments (what differs only). Audited."
    case .rotate:
      "Rotates credentials at their providers and everywhere they are deployed: mint, test, push, verify, promote, revoke, journaled and audited. Keys whose new value comes from a person are reported as needs_operator."
    case .rotateFinish: "Settles what earlier rotations left live: deferred old credentials, new values kept after an incomplete rollback."
    }
  }

  var arguments: [ToolArgument] {
    let environment = ToolArgument(name: "environment", kind: .string, description: "Environment, e.g. prod.", required: true)
    let keys = ToolArgument(name: "keys", kind: .strings, description: "Keys to rotate, as SERVICE/KEY (e.g. openai/API_KEY_PROD).")
    let due = ToolArgument(name: "due", kind: .boolean, description: "Also every key past its max age or within 7 days of it.")
    let exposed = ToolArgument(
      name: "exposed", kind: .boolean, description: "Also every key whose current value a removed recipient could have read.")
    let target = ToolArgument(name: "target", kind: .choice(TargetSelection.allCases.map(\.rawValue)), description: "Targets: fly, github or all (default).")
    let deploy = ToolArgument(
      name: "deploy", kind: .choice(["stage", "rolling"]),
      description: "Fly: stage (machines load the secrets at the next deploy) or rolling (restart them now). Default: the policy's.")
    let asOf = ToolArgument(name: "as_of", kind: .string, description: "Measure ages at this date (YYYY-MM-DD or ISO 8601).")
    switch self {
    case .verify:
      return [
        environment,
        ToolArgument(name: "live", kind: .boolean, description: "Also ask each provider whether the credential works (network; audited as verify-live)."),
        ToolArgument(name: "targets", kind: .boolean, description: "Also check that the policy's Fly apps and GitHub environments hold the current values (network)."),
        ToolArgument(name: "strict", kind: .boolean, description: "Warnings fail too."),
        asOf,
      ]
    case .status: return [environment]
    case .list: return [ToolArgument(name: "environment", kind: .string, description: "Only this environment (default: all).")]
    case .history:
      return [
        environment, ToolArgument(name: "service", kind: .string, description: "Service, e.g. openai.", required: true),
        ToolArgument(name: "key", kind: .string, description: "Key, e.g. API_KEY_PROD.", required: true),
      ]
    case .auditVerify: return []
    case .rotationPlan: return [environment, keys, due, exposed, asOf]
    case .syncPlan: return [environment, target]
    case .sync: return [environment, target, deploy]
    case .rotate: return [environment, keys, due, exposed, deploy]
    case .rotateFinish: return [environment]
    }
  }

  /// The top-level fields of the structured result (the `--format json` document's).
  var resultFields: [String] {
    switch self {
    case .verify: ["environment", "policy", "passed", "findings", "summary"]
    case .status: ["in_sync", "added", "changed", "missing", "warnings"]
    case .list: ["secrets"]
    case .history: ["environment", "service", "key", "versions"]
    case .auditVerify: ["intact", "entries", "authenticated", "checkpoints"]
    case .rotationPlan, .rotate: ["environment", "outcome", "dry_run", "plan", "keys", "pushes"]
    case .syncPlan, .sync: ["environment", "dry_run", "succeeded", "targets", "summary"]
    case .rotateFinish: ["environment", "settled", "entries"]
    }
  }

  /// The tool as `tools/list` describes it.
  var listing: JSONValue {
    let properties = Dictionary(uniqueKeysWithValues: arguments.map { ($0.name, $0.schema) })
    let required = arguments.filter(\.required).map { JSONValue.string($0.name) }
    var input: [String: JSONValue] = [
      "type": .string("object"), "properties": .object(properties), "additionalProperties": .bool(false),
    ]
    if !required.isEmpty { input["required"] = .array(required) }
    return .object([
      "name": .string(rawValue),
      "title": .string(title),
      "description": .string("\(summary) Same result as `\(command)`."),
      "inputSchema": .object(input),
      "outputSchema": .object([
        "type": .string("object"),
        "required": .array(resultFields.map(JSONValue.string)),
        "description": .string("The document `\(command)` prints (docs/json.md)."),
      ]),
      "annotations": .object([
        "title": .string(title),
        "readOnlyHint": .bool(!changesThings),
        "destructiveHint": .bool(changesThings),
        "idempotentHint": .bool(!changesThings),
        "openWorldHint": .bool([.verify, .syncPlan, .sync, .rotate, .rotateFinish].contains(self)),
      ]),
    ])
  }

  /// `given` checked against the schema: no unknown argument, every required one present, each of
  /// its type. The error names the argument.
  func check(_ given: [String: JSONValue]) throws(ToolCallError) -> ToolArguments {
    let declared = Dictionary(uniqueKeysWithValues: arguments.map { ($0.name, $0) })
    for name in given.keys.sorted() where declared[name] == nil {
      let known = arguments.map(\.name)
      throw .invalidArguments(
        "unknown argument '\(name)'; \(rawValue) takes "
          + (known.isEmpty ? "no arguments" : known.joined(separator: ", ")))
    }
    for argument in arguments {
      guard let value = given[argument.name], value != .null else {
        if argument.required { throw .invalidArguments("missing argument '\(argument.name)'") }
        continue
      }
      guard argument.accepts(value) else {
        throw .invalidArguments("argument '\(argument.name)' must be \(argument.typeWords)")
      }
    }
    return ToolArguments(values: given.filter { $0.value != .null })
  }
}

/// Why a tool call failed: returned as the call's result with `isError`, one line, never a value.
enum ToolCallError: Error {
  case invalidArguments(String)
  case locked(Tool)
  /// The vault was re-keyed after the server unlocked it.
  case rekeyed

  var message: String {
    switch self {
    case .invalidArguments(let reason): reason
    case .locked(let tool):
      "\(tool.rawValue) needs the vault unlocked, and this server runs without its key: start `hotsecrets mcp` with --identity FILE (or HOTSECRETS_IDENTITY) or --passphrase-file FILE (or HOTSECRETS_PASSPHRASE) in the client's server configuration (docs/mcp.md)"
    case .rekeyed:
      "the vault was re-keyed since this server started (hotsecrets rekey, or a recipient removed): restart the server so that it unlocks with the new key; if its identity was removed, it no longer has access"
    }
  }
}
