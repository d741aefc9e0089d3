/// A secret's name within one environment.
public struct ServiceKey: Hashable, Sendable, Comparable, CustomStringConvertible {
  public let service: String
  public let key: String

  public init(service: String, key: String) {
    self.service = service
    self.key = key
  }

  public var description: String { "\(service)/\(key)" }

  public static func < (a: ServiceKey, b: ServiceKey) -> Bool { (a.service, a.key) < (b.service, b.key) }
}
