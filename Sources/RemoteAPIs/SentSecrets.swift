import Foundation

/// Every credential and value this process sent to a remote API, so that whatever an API says
/// back can be scrubbed before it is printed. APIs echo what they were sent — a request body
/// quoted in a 422, an `Authorization` header in a 401 — often cut short, so a prefix of a value
/// must go too: `scrub` replaces every run of text made of substrings of `window` (8) or more bytes
/// of any registered value. Values shorter than that are replaced where they appear whole (from 4
/// bytes). The HTTP client registers every credential header it sends, the API clients every
/// string of a JSON body (as sent and JSON-escaped), the command line every management token.
/// What is registered stays in memory (as 8-byte windows) until the process ends.
public final class SentSecrets: @unchecked Sendable {
  /// The one registry of this process.
  public static let shared = SentSecrets()

  /// The shortest echoed fragment of a value that is scrubbed.
  public static let window = 8
  /// Shorter values are scrubbed only where they appear whole, and only from this length.
  static let shortest = 4
  public static let replacement = "[redacted]"

  private let lock = NSLock()
  /// Every `window`-byte substring of every registered value, packed into a UInt64.
  private var windows = Set<UInt64>()
  /// Registered values of `shortest` to `window - 1` bytes.
  private var shortValues = Set<[UInt8]>()

  public init() {}

  /// Adds `value` (a token, a header value, a secret sent in a body).
  public func register(_ value: some Collection<UInt8>) {
    let bytes = Array(value)
    guard bytes.count >= Self.shortest else { return }
    lock.lock()
    defer { lock.unlock() }
    if bytes.count < Self.window {
      shortValues.insert(bytes)
      return
    }
    for start in 0...(bytes.count - Self.window) { windows.insert(Self.pack(bytes, at: start)) }
  }

  public func register(_ value: String) { register(value.utf8) }

  /// `text` with every echo of a registered value replaced by `[redacted]`.
  public func scrub(_ text: String) -> String {
    let bytes = Array(text.utf8)
    var marked = [Bool](repeating: false, count: bytes.count)
    var found = false
    lock.lock()
    if bytes.count >= Self.window, !windows.isEmpty {
      for start in 0...(bytes.count - Self.window) where windows.contains(Self.pack(bytes, at: start)) {
        for index in start..<start + Self.window { marked[index] = true }
        found = true
      }
    }
    for value in shortValues where bytes.count >= value.count {
      for start in 0...(bytes.count - value.count) where bytes[start..<start + value.count].elementsEqual(value) {
        for index in start..<start + value.count { marked[index] = true }
        found = true
      }
    }
    lock.unlock()
    guard found else { return text }
    // Widen each run to whole UTF-8 characters, then replace it.
    for index in bytes.indices where marked[index] {
      var before = index
      while before > 0, !marked[before - 1], bytes[before] & 0xC0 == 0x80 {
        before -= 1
        marked[before] = true
      }
      var after = index + 1
      while after < bytes.count, !marked[after], bytes[after] & 0xC0 == 0x80 {
        marked[after] = true
        after += 1
      }
    }
    var output: [UInt8] = []
    output.reserveCapacity(bytes.count)
    var index = 0
    while index < bytes.count {
      if marked[index] {
        output += Array(Self.replacement.utf8)
        while index < bytes.count, marked[index] { index += 1 }
      } else {
        output.append(bytes[index])
        index += 1
      }
    }
    return String(decoding: output, as: UTF8.self)
  }

  private static func pack(_ bytes: [UInt8], at start: Int) -> UInt64 {
    var packed: UInt64 = 0
    for offset in 0..<window { packed = packed << 8 | UInt64(bytes[start + offset]) }
    return packed
  }
}
