import Foundation

/// A policy file that cannot be used. The description is `FILE:LINE:COLUMN: problem` when the
/// problem has a position.
public struct PolicyError: LocalizedError, Equatable, Sendable {
  public let file: String
  public let position: SourcePosition?
  public let problem: String

  public init(file: String, position: SourcePosition?, problem: String) {
    self.file = file
    self.position = position
    self.problem = problem
  }

  /// The problem of a policy file that does not exist.
  public static let noSuchFile = "no such file (write one: see docs/policy.md)"

  public var errorDescription: String? {
    if let position { return "\(file):\(position.line):\(position.column): \(problem)" }
    return "\(file): \(problem)"
  }
}
