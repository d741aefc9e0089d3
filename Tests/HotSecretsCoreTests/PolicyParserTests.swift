import Foundation
import Testing

@testable import HotSecretsCompliance
@testable import HotSecretsModel
@testable import HotSecretsPolicy
@testable import HotSecretsVault
@testable import VaultSQLite

@Suite struct PolicyParserTests {
  static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

  @Test(arguments: ["prod", "staging"])
  func shippedPoliciesParse(environment: String) throws {
    let policy = try PolicyParser.load(path: Self.repositoryRoot + "/policies/\(environment).yaml")
    #expect(policy.environment == environment)
    #expect(policy.services.map(\.name) == ["openai", "supabase", "shopify", "chatwoot"])
    let supabase = try #require(policy.service("supabase"))
    #expect(supabase.keys.map(\.name) == ["SUPABASE_URL", "SERVICE_KEY", "DATABASE_URL"])
    #expect(supabase.key("SERVICE_KEY")?.deployedName == "SUPABASE_SERVICE_KEY")
    #expect(supabase.key("SUPABASE_URL")?.secret == false)
    #expect(policy.service("chatwoot")?.key("REDIS_URL")?.deployedName == "CHATWOOT_REDIS_URL")
    #expect(
      policy.service("openai")?.key(environment == "prod" ? "API_KEY_PROD" : "API_KEY_STAGING")?.deployedName
        == "OPENAI_API_KEY")
    #expect(policy.flyTargets.count == 1)
    #expect(policy.githubTargets.first?.services == ["openai", "supabase"])
  }

  @Test func defaultsAndOverrides() throws {
    let policy = try PolicyParser.parse(
      """
      version: 1
      environment: prod
      max_age_days: 90
      services:
        app:
          keys:
            A: {}
            B:
            C: { required: false, secret: false, max_age_days: 30 }
            D: { max_age_days: 180, rotate: generate, length: 48, target_name: APP_D }
      """, file: "p.yaml")
    let keys = try #require(policy.service("app")).keys
    #expect(keys.map(\.required) == [true, true, false, true])
    #expect(keys.map { $0.effectiveMaxAgeDays(in: policy) } == [90, 90, nil, 180])
    #expect(keys[3].rotate == .generate(length: 48))
    #expect(keys[0].rotate == .manual)
    #expect(keys[3].deployedName == "APP_D")
    #expect(keys[2].position == SourcePosition(line: 9, column: 7))
  }

  /// Every error names file:line:column.
  @Test(arguments: [
    ("version: 1\nenvironment: prod\nfrobnicate: 1\n", 3, 1, "unknown field 'frobnicate' in the policy"),
    ("version: 2\nenvironment: prod\n", 1, 10, "unsupported policy version 2"),
    ("environment: prod\n", 1, 1, "missing field 'version'"),
    ("version: 1\nenvironment: Prod\n", 2, 14, "environment must match"),
    (
      "version: 1\nenvironment: prod\nservices:\n  app:\n    keys:\n      K: { fromat: 'x' }\n", 6, 12,
      "unknown field 'fromat' in key app/K"
    ),
    (
      "version: 1\nenvironment: prod\nservices:\n  app:\n    keys:\n      K: { format: '([a-z' }\n", 6, 20,
      "format '([a-z' of key app/K is not a valid regular expression: a '[' without its ']' at character 2"
    ),
    (
      "version: 1\nenvironment: prod\nservices:\n  app:\n    provider: { kind: aws }\n", 5, 23,
      "unknown provider kind 'aws'"
    ),
    (
      "version: 1\nenvironment: prod\nservices:\n  app:\n    provider: { kind: openai }\n", 5, 15,
      "provider openai of service app needs 'project_id'"
    ),
    (
      "version: 1\nenvironment: prod\nservices:\n  app:\n    provider: { kind: openai, project_id: p, shop: x }\n", 5,
      46, "unknown field 'shop' in provider openai"
    ),
    (
      "version: 1\nenvironment: prod\nservices:\n  db:\n    provider: { kind: supabase, project_ref: short }\n", 5, 46,
      "project_ref must be 20 lower-case letters"
    ),
    (
      "version: 1\nenvironment: prod\nservices:\n  app:\n    keys: {}\ntargets:\n  fly:\n    - { app: a, services: [app, ghost] }\n",
      8, 33, "names service 'ghost', which the policy does not declare"
    ),
    (
      "version: 1\nenvironment: prod\ntargets:\n  github:\n    - { repository: nope, environment: e, services: [] }\n",
      5, 21, "repository must be owner/name"
    ),
    (
      "version: 1\nenvironment: prod\nservices:\n  app:\n    keys:\n      K: { rotate: sometimes }\n", 6, 20,
      "rotate of key app/K must be provider, generate or manual"
    ),
    (
      "version: 1\nenvironment: prod\nservices:\n  app:\n    keys:\n      K: { length: 40 }\n", 6, 12,
      "length of key app/K applies only to rotate: generate"
    ),
    (
      "version: 1\nenvironment: prod\nservices:\n  app:\n    keys:\n      K: { required: maybe }\n", 6, 22,
      "required must be true or false"
    ),
    (
      "version: 1\nenvironment: prod\nservices:\n  app:\n    keys:\n      1BAD: {}\n", 6, 7,
      "key name '1BAD' must match"
    ),
    (
      "version: 1\nenvironment: prod\nservices:\n  app:\n    keys:\n      K: {}\n      K: {}\n", 6, 7, "duplicate key K"
    ),
    ("version: 1\nenvironment: prod\nservices: [\n", 4, 1, "invalid YAML"),
    ("version: 1\nenvironment: prod\n---\nversion: 1\n", 3, 1, "expected a single document in the stream"),
    ("version: 1\nenvironment: *env\n", 2, 14, "found undefined alias"),
    (
      "version: 1\nenvironment: prod\nservices:\n  app:\n    keys:\n      K: { secret: false, secret: true }\n", 6, 12,
      "duplicate key secret"
    ),
    (
      "version: 1\nenvironment: prod\ntargets:\n  fly:\n    - { app: a, services: [], deploy: sometimes }\n", 5, 39,
      "deploy must be stage or rolling"
    ),
  ])
  func errorsCarryTheirPosition(text: String, line: Int, column: Int, problem: String) throws {
    do {
      _ = try PolicyParser.parse(text, file: "policies/prod.yaml")
      Issue.record("expected an error containing \(problem)")
    } catch let error as PolicyError {
      #expect(error.position == SourcePosition(line: line, column: column), "\(error.errorDescription ?? "")")
      #expect(error.problem.contains(problem), "\(error.problem)")
      #expect(error.errorDescription?.hasPrefix("policies/prod.yaml:\(line):\(column): ") == true)
    }
  }

  @Test func anchorsAndAliasesAreResolved() throws {
    let policy = try PolicyParser.parse(
      """
      version: 1
      environment: prod
      services:
        openai:
          keys:
            API_KEY: &strict { format: '^sk-', max_age_days: 30 }
            OTHER_KEY: *strict
      """, file: "p.yaml")
    let keys = try #require(policy.service("openai")).keys
    #expect(keys.map(\.name) == ["API_KEY", "OTHER_KEY"])
    #expect(keys.map(\.maxAgeDays) == [30, 30])
    #expect(keys[1].format?.pattern == "^sk-")
  }

  @Test func anEmptyFileIsNamed() {
    #expect(throws: PolicyError(file: "p.yaml", position: nil, problem: "the file is empty")) {
      try PolicyParser.parse("# only a comment\n", file: "p.yaml")
    }
  }

  @Test func missingFileSaysWhatToDo() throws {
    #expect(
      throws: PolicyError(
        file: "/nonexistent/p.yaml", position: nil,
        problem: "no such file (write one: see docs/policy.md)")
    ) {
      try PolicyParser.load(path: "/nonexistent/p.yaml")
    }
  }
}
