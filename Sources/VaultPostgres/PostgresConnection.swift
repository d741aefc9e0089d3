import CPostgres
import Foundation
import HotSecretsModel

/// A value bound to a statement parameter (`$1`, `$2`, …).
enum PostgresValue {
  case null
  case text(String)
  case int(Int64)
  /// Sent in binary format (a `bytea` parameter).
  case bytes([UInt8])

  static func optional(_ text: String?) -> PostgresValue { text.map { .text($0) } ?? .null }
  static func optional(_ value: Int?) -> PostgresValue { value.map { .int(Int64($0)) } ?? .null }
  static func optional(_ value: Int64?) -> PostgresValue { value.map { .int($0) } ?? .null }
  static func optional(_ bytes: [UInt8]?) -> PostgresValue { bytes.map { .bytes($0) } ?? .null }
}

/// The rows a statement returned, read by row and column index. Text-format results: integers and
/// text as written, `bytea` as `\x` hex.
struct PostgresRows {
  /// Frees the result when the last copy of these rows goes.
  fileprivate let owner: ResultOwner
  private var library: PostgresLibrary { owner.library }
  private var result: OpaquePointer? { owner.result }
  let count: Int
  /// Rows the command changed (INSERT, UPDATE, DELETE).
  let affected: Int

  func isNull(_ row: Int, _ column: Int) -> Bool { library.getisnull(result, Int32(row), Int32(column)) == 1 }

  func string(_ row: Int, _ column: Int) -> String? {
    guard !isNull(row, column), let value = library.getvalue(result, Int32(row), Int32(column)) else { return nil }
    return String(cString: value)
  }

  func int(_ row: Int, _ column: Int) -> Int? { string(row, column).flatMap { Int($0) } }
  func int64(_ row: Int, _ column: Int) -> Int64? { string(row, column).flatMap { Int64($0) } }
  func bool(_ row: Int, _ column: Int) -> Bool? { string(row, column).map { $0 == "t" } }

  /// A `bytea` column, nil when NULL.
  func bytes(_ row: Int, _ column: Int) -> [UInt8]? {
    guard !isNull(row, column), let value = library.getvalue(result, Int32(row), Int32(column)) else { return nil }
    let length = Int(library.getlength(result, Int32(row), Int32(column)))
    return Hex.decodeBytea(UnsafeRawBufferPointer(start: value, count: length))
  }
}

/// One libpq connection. Not thread-safe: used by one transaction at a time (`PostgresStore` owns
/// it). Errors never carry a statement's parameters (which may hold ciphertext).
final class PostgresConnection: @unchecked Sendable {
  private let library: PostgresLibrary
  private let connection: OpaquePointer
  /// Where the vault is, password removed, for messages.
  let location: String

  /// Connects with a libpq connection string or URI (the `PG*` variables and service files apply
  /// as libpq reads them). Throws `VaultError.storage` with libpq's one-line reason.
  init(uri: String, location: String, password: String? = nil) throws {
    let library: PostgresLibrary
    switch PostgresLibrary.shared {
    case .success(let loaded): library = loaded
    case .failure(let error): throw VaultError.storage(error.description)
    }
    guard let connection = library.connectDB(uri) else {
      throw VaultError.storage("\(location): cannot connect (out of memory)")
    }
    guard library.status(connection) == CONNECTION_OK else {
      var reason = Self.oneLine(library.errorMessage(connection))
      // libpq repeats parts of a URI it cannot parse, which may be the password.
      if let password, !password.isEmpty { reason = reason.replacingOccurrences(of: password, with: "***") }
      if let encoded = password?.removingPercentEncoding, !encoded.isEmpty {
        reason = reason.replacingOccurrences(of: encoded, with: "***")
      }
      library.finish(connection)
      throw VaultError.storage("\(location): cannot connect: \(reason)")
    }
    self.library = library
    self.connection = connection
    self.location = location
  }

  deinit { library.finish(connection) }

  /// Whether the connection is encrypted (TLS).
  var usesTLS: Bool { library.sslInUse(connection) == 1 }

  /// The host (or socket folder) the connection reached.
  var host: String { library.host(connection).map { String(cString: $0) } ?? "" }

  /// Runs `sql` with `parameters` bound to `$1…`. Throws `PostgresError` (SQLSTATE and the server's
  /// message, which names no parameter value).
  @discardableResult
  func execute(_ sql: String, _ parameters: [PostgresValue] = []) throws -> PostgresRows {
    var storage: [[UInt8]] = []
    var lengths: [Int32] = []
    var formats: [Int32] = []
    var isNull: [Bool] = []
    for parameter in parameters {
      switch parameter {
      case .null:
        storage.append([])
        formats.append(0)
        isNull.append(true)
      case .text(let text):
        storage.append(Array(text.utf8) + [0])
        formats.append(0)
        isNull.append(false)
      case .int(let value):
        storage.append(Array(String(value).utf8) + [0])
        formats.append(0)
        isNull.append(false)
      case .bytes(let bytes):
        storage.append(bytes)
        formats.append(1)
        isNull.append(false)
      }
      lengths.append(Int32(storage.last!.count))
    }
    let result = withPointers(storage, isNull: isNull) { pointers in
      library.execParams(connection, sql, Int32(parameters.count), nil, pointers, lengths, formats, 0)
    }
    for index in storage.indices where formats[index] == 1 { wipe(&storage[index]) }
    return try rows(of: result)
  }

  /// Runs `sql`, which may hold several statements and no parameter (a migration).
  func executeScript(_ sql: String) throws {
    _ = try rows(of: library.exec(connection, sql))
  }

  /// The rows of `result`, or its error (the result is freed then).
  private func rows(of result: OpaquePointer?) throws -> PostgresRows {
    let status = library.resultStatus(result)
    guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
      let state = library.resultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) } ?? ""
      let message =
        library.resultErrorField(result, Int32(UInt8(ascii: "M"))).map { String(cString: $0) }
        ?? Self.oneLine(library.errorMessage(connection))
      library.clear(result)
      throw PostgresError(state: state, message: message)
    }
    let count = Int(library.ntuples(result))
    let affected = library.cmdTuples(result).flatMap { Int(String(cString: $0)) } ?? 0
    return PostgresRows(owner: ResultOwner(library: library, result: result), count: count, affected: affected)
  }

  private func withPointers<T>(
    _ storage: [[UInt8]], isNull: [Bool], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> T
  ) -> T {
    var pointers: [UnsafePointer<CChar>?] = []
    pointers.reserveCapacity(storage.count)
    var buffers: [UnsafeMutableBufferPointer<UInt8>] = []
    defer {
      for buffer in buffers {
        buffer.update(repeating: 0)
        buffer.deallocate()
      }
    }
    for (index, bytes) in storage.enumerated() {
      if isNull[index] {
        pointers.append(nil)
        continue
      }
      let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(1, bytes.count))
      _ = buffer.initialize(from: bytes)
      buffers.append(buffer)
      pointers.append(UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self))
    }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress ?? UnsafePointer(bitPattern: 1)!) }
  }

  /// libpq's message, on one line.
  static func oneLine(_ text: UnsafeMutablePointer<CChar>?) -> String {
    guard let text else { return "unknown error" }
    return String(cString: text).split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
      .filter { !$0.isEmpty }.joined(separator: "; ")
  }
}

/// Frees a result when the last copy of the rows that read it goes.
final class ResultOwner: @unchecked Sendable {
  let library: PostgresLibrary
  let result: OpaquePointer?
  init(library: PostgresLibrary, result: OpaquePointer?) {
    self.library = library
    self.result = result
  }
  deinit { library.clear(result) }
}

/// An error the server (or libpq) reported for a statement.
struct PostgresError: Error, CustomStringConvertible {
  /// The SQLSTATE, e.g. `55P03` (lock not available), `42P01` (no such table).
  let state: String
  let message: String
  var description: String { "\(message) (SQLSTATE \(state))" }
}

/// `bytea` hex text (`\x0a1b…`).
enum Hex {
  static func decodeBytea(_ text: UnsafeRawBufferPointer) -> [UInt8] {
    guard text.count >= 2, text[0] == UInt8(ascii: "\\"), text[1] == UInt8(ascii: "x") else { return Array(text) }
    var out = [UInt8]()
    out.reserveCapacity((text.count - 2) / 2)
    var index = 2
    while index + 1 < text.count {
      out.append(nibble(text[index]) << 4 | nibble(text[index + 1]))
      index += 2
    }
    return out
  }

  private static func nibble(_ c: UInt8) -> UInt8 {
    switch c {
    case 48...57: c - 48
    case 97...102: c - 87
    case 65...70: c - 55
    default: 0
    }
  }
}
