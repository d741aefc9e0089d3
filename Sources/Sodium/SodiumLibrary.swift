import CSodium

/// One-time libsodium initialisation shared by every wrapper type.
enum SodiumLibrary {
  /// `sodium_init()` result, computed once; thread-safe because Swift globals are lazily initialised once.
  private static let initResult: Int32 = sodium_init()

  /// Makes sure libsodium is ready; throws when it is not.
  static func ensureInitialized() throws {
    guard initResult >= 0 else { throw SodiumError.initializationFailed }
  }

  /// Throws `invalidLength` unless `bytes` has exactly `expected` elements.
  static func check(_ name: String, _ bytes: some Collection, equals expected: Int) throws {
    try check(name, count: bytes.count, equals: expected)
  }

  /// Throws `invalidLength` unless `count == expected`.
  static func check(_ name: String, count: Int, equals expected: Int) throws {
    guard count == expected else {
      throw SodiumError.invalidLength(what: name, expected: expected, actual: count)
    }
  }
}
