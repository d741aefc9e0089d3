import Foundation
import HotSecretsModel
import Sodium

/// Finds every occurrence of a set of byte strings in raw bytes, in one pass: a multi-pattern
/// matcher keyed by each pattern's first `window` bytes. At each position the next 8 bytes are
/// read as one word, hashed, and looked up in an 8 KiB bit filter and then an open-addressed table
/// of pattern prefixes; only a prefix hit is compared in full. Patterns shorter than `window` are
/// not accepted (a value that short would match by chance).
///
/// Everything derived from the patterns (their bytes, the prefix table, the filter) is held in
/// secure memory and zeroed when the matcher goes away.
package final class ValueMatcher: @unchecked Sendable {
  /// The prefix length every pattern must reach.
  package static let window = 8

  private let patternBytes: SecretBytes
  /// Pattern `i` is `patternBytes[offsets[i]..<offsets[i + 1]]`.
  private let offsets: [Int]
  /// 2^16 bits, one per top-16-bit hash of a pattern prefix.
  private let filter: SecretBytes
  /// Slots of 16 bytes: the prefix (8 bytes), then 1 + the first pattern index with it (0: empty).
  private let table: SecretBytes
  private let slotBits: Int
  /// The next pattern sharing a prefix (-1: none); not secret, only indices.
  private let next: [Int32]

  package var patternCount: Int { offsets.count - 1 }

  /// The length of pattern `index`.
  package func length(of index: Int) -> Int { offsets[index + 1] - offsets[index] }

  /// The longest pattern's length (0 without patterns).
  package var longestPattern: Int { (0..<patternCount).map(length(of:)).max() ?? 0 }

  private static let multiplier: UInt64 = 0x9E37_79B9_7F4A_7C15

  /// A matcher for `patterns`, each at least `window` bytes long.
  package init(patterns: [SecretBytes]) throws {
    precondition(patterns.allSatisfy { $0.count >= Self.window }, "patterns shorter than the window")
    var offsets = [0]
    for pattern in patterns { offsets.append(offsets.last! + pattern.count) }
    let patternBytes = try SecretBytes(count: offsets.last!)
    patternBytes.withUnsafeMutableBytes { out in
      for (i, pattern) in patterns.enumerated() {
        pattern.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: out[offsets[i]..<offsets[i + 1]]).copyMemory(from: $0) }
      }
    }
    var bits = 10
    while (1 << bits) < patterns.count * 4 { bits += 1 }
    let filter = try SecretBytes(count: 8192)
    let table = try SecretBytes(count: 16 << bits)
    var next = [Int32](repeating: -1, count: patterns.count)
    let mask = (1 << bits) - 1
    patternBytes.withUnsafeBytes { bytes in
      filter.withUnsafeMutableBytes { filter in
        table.withUnsafeMutableBytes { table in
          for i in 0..<patterns.count {
            let prefix = bytes.loadUnaligned(fromByteOffset: offsets[i], as: UInt64.self)
            let hash = prefix &* Self.multiplier
            let bit = Int(hash >> 48)
            filter.storeBytes(
              of: filter.load(fromByteOffset: (bit >> 6) * 8, as: UInt64.self) | (1 << UInt64(bit & 63)),
              toByteOffset: (bit >> 6) * 8, as: UInt64.self)
            var slot = Int(hash >> UInt64(64 - bits))
            while true {
              let head = table.load(fromByteOffset: slot * 16 + 8, as: Int64.self)
              if head == 0 {
                table.storeBytes(of: prefix, toByteOffset: slot * 16, as: UInt64.self)
                table.storeBytes(of: Int64(i + 1), toByteOffset: slot * 16 + 8, as: Int64.self)
                break
              }
              if table.load(fromByteOffset: slot * 16, as: UInt64.self) == prefix {
                next[i] = Int32(head - 1)
                table.storeBytes(of: Int64(i + 1), toByteOffset: slot * 16 + 8, as: Int64.self)
                break
              }
              slot = (slot + 1) & mask
            }
          }
        }
      }
    }
    self.offsets = offsets
    self.patternBytes = patternBytes
    self.filter = filter
    self.table = table
    self.slotBits = bits
    self.next = next
  }

  /// Calls `found` with (pattern index, offset) for every occurrence in `buffer`, in offset order
  /// (several patterns at one offset in no particular order).
  package func matches(in buffer: UnsafeRawBufferPointer, _ found: (_ pattern: Int, _ offset: Int) -> Void) {
    let count = buffer.count
    guard count >= Self.window, patternCount > 0, let base = buffer.baseAddress else { return }
    let mask = (1 << slotBits) - 1
    let shift = UInt64(64 - slotBits)
    patternBytes.withUnsafeBytes { bytes in
      filter.withUnsafeBytes { filter in
        table.withUnsafeBytes { table in
          let words = filter.baseAddress!.assumingMemoryBound(to: UInt64.self)
          let slots = table.baseAddress!
          for i in 0...(count - Self.window) {
            let word = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            let hash = word &* Self.multiplier
            let bit = Int(hash >> 48)
            guard words[bit >> 6] & (1 << UInt64(bit & 63)) != 0 else { continue }
            var slot = Int(hash >> shift)
            while true {
              let head = slots.load(fromByteOffset: slot * 16 + 8, as: Int64.self)
              if head == 0 { break }
              if slots.load(fromByteOffset: slot * 16, as: UInt64.self) == word {
                var pattern = Int(head - 1)
                while pattern >= 0 {
                  let start = offsets[pattern]
                  let length = offsets[pattern + 1] - start
                  if i + length <= count, memcmp(base + i, bytes.baseAddress! + start, length) == 0 {
                    found(pattern, i)
                  }
                  pattern = Int(next[pattern])
                }
                break
              }
              slot = (slot + 1) & mask
            }
          }
        }
      }
    }
  }
}
