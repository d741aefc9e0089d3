/// Where a secret lives: environment, service and KEY, each validated on construction.
///
/// Environments and services match `[a-z0-9][a-z0-9_-]*`; keys match `[A-Za-z_][A-Za-z0-9_]*`
/// (valid environment-variable names). Nothing with another shape reaches the store.
public struct SecretAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
  public let environment: String
  public let service: String
  public let key: String

  public static let serviceRule = "[a-z0-9][a-z0-9_-]*"
  public static let keyRule = "[A-Za-z_][A-Za-z0-9_]*"

  /// Throws `VaultError.invalidName` naming the first part that does not match its rule.
  public init(environment: String, service: String, key: String) throws {
    try Self.validateEnvironment(environment)
    try Self.validateService(service)
    try Self.validateKey(key)
    self.environment = environment
    self.service = service
    self.key = key
  }

  /// For rows read back from the store, whose names were validated when written.
  package init(trusted environment: String, service: String, key: String) {
    self.environment = environment
    self.service = service
    self.key = key
  }

  /// `env/service/KEY`, the form used in messages and the audit trail.
  public var description: String { "\(environment)/\(service)/\(key)" }

  public static func < (a: SecretAddress, b: SecretAddress) -> Bool {
    (a.environment, a.service, a.key) < (b.environment, b.service, b.key)
  }

  public static func validateEnvironment(_ name: String) throws {
    guard isServiceName(name) else { throw VaultError.invalidName(kind: "environment", name: name, rule: serviceRule) }
  }

  public static func validateService(_ name: String) throws {
    guard isServiceName(name) else { throw VaultError.invalidName(kind: "service", name: name, rule: serviceRule) }
  }

  public static func validateKey(_ name: String) throws {
    guard isKeyName(name) else { throw VaultError.invalidName(kind: "key", name: name, rule: keyRule) }
  }

  /// `[a-z0-9][a-z0-9_-]*`
  public static func isServiceName(_ s: String) -> Bool {
    let u = Array(s.utf8)
    guard let first = u.first, isLowerAlnum(first) else { return false }
    return u.dropFirst().allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
  }

  /// `[A-Za-z_][A-Za-z0-9_]*`
  public static func isKeyName(_ s: String) -> Bool {
    let u = Array(s.utf8)
    guard let first = u.first, isAlpha(first) || first == UInt8(ascii: "_") else { return false }
    return u.dropFirst().allSatisfy { isAlpha($0) || isDigit($0) || $0 == UInt8(ascii: "_") }
  }

  private static func isLowerAlnum(_ c: UInt8) -> Bool { (c >= 97 && c <= 122) || isDigit(c) }
  private static func isAlpha(_ c: UInt8) -> Bool { (c >= 65 && c <= 90) || (c >= 97 && c <= 122) }
  private static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
}
