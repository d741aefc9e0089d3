/// An optional that JSON encoders write as `null` when absent, instead of leaving the key out:
/// documented JSON output keeps the same keys in every object.
@propertyWrapper
public struct NullEncoded<Value: Encodable & Sendable>: Encodable, Sendable {
  public var wrappedValue: Value?

  public init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }

  public func encode(to encoder: Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(wrappedValue)
  }
}

extension NullEncoded: Equatable where Value: Equatable {}
