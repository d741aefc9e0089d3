import Foundation

/// Whole reads and writes on file descriptors, retrying when a signal interrupts them (EINTR).
/// Foundation's `FileHandle.readDataToEndOfFile()` and `write(_:)` crash on EINTR on Linux.
public enum FileDescriptorIO {
  /// Everything until end of file; nil on a read error.
  public static func readAll(_ fd: Int32) -> [UInt8]? {
    var result: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 64 * 1024)
    while true {
      let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if n < 0 {
        if errno == EINTR { continue }
        return nil
      }
      if n == 0 { return result }
      result.append(contentsOf: chunk[0..<n])
    }
  }

  /// Reads up to `count` bytes into `buffer`, retrying short reads and EINTR; the number read
  /// (fewer at end of file or on an error).
  public static func readFully(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, count: Int) -> Int {
    var total = 0
    while total < count {
      let n = read(fd, buffer.baseAddress! + total, count - total)
      if n < 0, errno == EINTR { continue }
      if n <= 0 { break }
      total += n
    }
    return total
  }

  /// Writes all of `bytes`; false on a write error.
  @discardableResult
  public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
    var offset = 0
    while offset < bytes.count {
      let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
      if n < 0 {
        if errno == EINTR { continue }
        return false
      }
      offset += n
    }
    return true
  }

  /// Writes all of `bytes`; false on a write error.
  @discardableResult
  public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { writeAll(fd, $0) }
  }
}
