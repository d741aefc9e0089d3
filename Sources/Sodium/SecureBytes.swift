import CSodium

/// Key material held in `sodium_malloc`ed memory: guarded pages, locked when the OS allows,
/// and zeroed by `sodium_free` when the last reference goes away.
///
/// Contents are only reachable through `withUnsafeBytes`; copy them out only where a C API
/// or a value's final consumer needs them.
public final class SecureBytes: @unchecked Sendable {
  private let pointer: UnsafeMutableRawPointer
  /// Number of bytes held.
  public let count: Int

  /// Allocates `count` zeroed bytes of guarded memory.
  public init(count: Int) throws {
    try SodiumLibrary.ensureInitialized()
    guard let p = sodium_malloc(max(count, 1)) else {
      throw SodiumError.operationFailed("secure allocation")
    }
    sodium_memzero(p, max(count, 1))
    pointer = p
    self.count = count
  }

  /// Copies `bytes` into guarded memory. The caller should wipe its own copy if it matters.
  public convenience init(copying bytes: some Collection<UInt8>) throws {
    try self.init(count: bytes.count)
    // Arrays and buffers are copied in one go; only other collections are walked element by element.
    let copied = bytes.withContiguousStorageIfAvailable { source in
      if let base = source.baseAddress { pointer.copyMemory(from: base, byteCount: source.count) }
    }
    guard copied == nil else { return }
    var i = 0
    let out = pointer.assumingMemoryBound(to: UInt8.self)
    for b in bytes {
      out[i] = b
      i += 1
    }
  }

  /// `count` random bytes from libsodium's CSPRNG.
  public static func random(count: Int) throws -> SecureBytes {
    let s = try SecureBytes(count: count)
    randombytes_buf(s.pointer, count)
    return s
  }

  /// `prefix` followed by the bytes of `secret`, in secure memory.
  public static func concatenating(_ prefix: [UInt8], _ secret: SecureBytes) throws -> SecureBytes {
    let out = try SecureBytes(count: prefix.count + secret.count)
    out.withUnsafeMutableBytes { o in
      o.copyBytes(from: prefix)
      secret.withUnsafeBytes { s in
        UnsafeMutableRawBufferPointer(rebasing: o[prefix.count...]).copyMemory(from: s)
      }
    }
    return out
  }

  deinit { sodium_free(pointer) }

  /// Read-only access to the bytes for the duration of `body`.
  public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
    try body(UnsafeRawBufferPointer(start: pointer, count: count))
  }

  /// Write access, used when a C call fills the buffer.
  public func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
    try body(UnsafeMutableRawBufferPointer(start: pointer, count: count))
  }

  /// A plain copy of the bytes. Use only for values that leave secure memory anyway.
  public func copyBytes() -> [UInt8] {
    withUnsafeBytes { Array($0) }
  }

  /// Constant-time equality.
  public func constantTimeEquals(_ other: SecureBytes) -> Bool {
    guard count == other.count else { return false }
    return withUnsafeBytes { a in
      other.withUnsafeBytes { b in sodium_memcmp(a.baseAddress!, b.baseAddress!, count) == 0 }
    }
  }
}

/// Overwrites an ordinary byte array with zeros (best effort for memory outside `SecureBytes`).
public func secureZero(_ bytes: inout [UInt8]) {
  bytes.withUnsafeMutableBytes { buffer in
    if let base = buffer.baseAddress { sodium_memzero(base, buffer.count) }
  }
}
