import Foundation

#if canImport(Glibc)
  import Glibc
  private let sendFlags = Int32(MSG_NOSIGNAL)
#else
  import Darwin
  private let sendFlags: Int32 = 0
#endif

/// The C calls whose names the connection's methods shadow.
private func closeDescriptor(_ fd: Int32) { _ = close(fd) }
private func sendBytes(_ fd: Int32, _ pointer: UnsafeRawPointer, _ count: Int) -> Int {
  send(fd, pointer, count, sendFlags)
}

/// Why a `LoopbackHTTPConnection` failed.
public enum LoopbackHTTPError: Error, Sendable, Equatable {
  /// The URL is not `http://127.0.0.1:PORT/…` (or `localhost`).
  case notLoopback(String)
  /// `connect` failed (errno), e.g. ECONNREFUSED when nothing listens.
  case connectFailed(Int32)
  /// No byte arrived (or could be sent) within the timeout.
  case timedOut
  /// The server closed the connection before a whole response arrived.
  case closed
  /// The response could not be parsed.
  case malformed(String)
  /// A socket call failed (errno).
  case socket(Int32)
}

/// A response read by `LoopbackHTTPConnection`.
public struct LoopbackHTTPResponse: Sendable {
  public let status: Int
  public let reason: String
  /// Header fields in the order received, names as sent.
  public let headerFields: [(name: String, value: String)]
  /// The body (chunked encoding decoded).
  public let body: Data

  /// The first field named `name` (case-insensitive), or nil.
  public func header(_ name: String) -> String? {
    headerFields.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
  }

  public var bodyText: String { String(decoding: body, as: UTF8.self) }

  /// The body parsed as a JSON object, or nil.
  public var jsonObject: [String: Any]? { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] }
}

/// One HTTP/1.1 client connection to 127.0.0.1 over a blocking POSIX socket, for tests and the fakes: requests are
/// written exactly as given, each response is read by `Content-Length`, chunked encoding or until the server
/// closes. The blocking calls run on a thread of their own, never on the Swift concurrency pool (which the fakes
/// answer on). Use one request at a time per connection; `close()` it (or drop it) when done.
public final class LoopbackHTTPConnection: @unchecked Sendable {
  private let fd: Int32
  private let lock = NSLock()
  /// Bytes read past the last response (keep-alive).
  private var buffer = Data()
  private var isClosed = false
  private var sawEndOfFile = false

  /// Whether the server has closed its side (seen as end of file by a read so far).
  public var peerClosed: Bool { lock.withLock { sawEndOfFile } }

  /// Connects to `127.0.0.1:port`; `timeout` seconds bound each later read and write.
  public init(port: Int, timeout: Double = 10) async throws {
    let fd = try await Self.blocking { () throws -> Int32 in
      let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
      guard fd >= 0 else { throw LoopbackHTTPError.socket(errno) }
      var address = sockaddr_in()
      address.sin_family = sa_family_t(AF_INET)
      address.sin_port = UInt16(clamping: port).bigEndian
      address.sin_addr.s_addr = inet_addr("127.0.0.1")
      let connected = withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
      }
      guard connected == 0 else {
        let error = errno
        closeDescriptor(fd)
        throw LoopbackHTTPError.connectFailed(error)
      }
      var time = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1_000_000))
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
      setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
      return fd
    }
    self.fd = fd
  }

  /// Writes `bytes` as they are.
  public func write(_ bytes: Data) async throws {
    try await Self.blocking { try self.writeAll(bytes) }
  }

  /// Writes `request` as it is (a whole HTTP/1.1 request, or several) and reads one response. `head`: the
  /// request was a HEAD (the response has no body whatever its headers say).
  public func exchange(_ request: Data, head: Bool = false) async throws -> LoopbackHTTPResponse {
    try await Self.blocking {
      try self.writeAll(request)
      return try self.readResponseBlocking(head: head)
    }
  }

  /// Sends `method target HTTP/1.1` with `Host`, `headers` (in order), `Content-Length` when there is a body or the
  /// method usually has one, then the body; reads the response.
  public func send(
    _ method: String, _ target: String, host: String? = nil, headers: [(String, String)] = [], body: Data? = nil
  ) async throws -> LoopbackHTTPResponse {
    let request = Self.request(method, target, host: host ?? "127.0.0.1", headers: headers, body: body)
    return try await exchange(request, head: method.uppercased() == "HEAD")
  }

  /// Reads one response (e.g. after `write`).
  public func readResponse(head: Bool = false) async throws -> LoopbackHTTPResponse {
    try await Self.blocking { try self.readResponseBlocking(head: head) }
  }

  /// Reads whatever arrives until the server closes the connection (or the timeout passes: `LoopbackHTTPError.timedOut`).
  public func readToEnd() async throws -> Data {
    try await Self.blocking { () throws -> Data in
      while try self.fill() {}
      return self.lock.withLock {
        defer { self.buffer = Data() }
        return self.buffer
      }
    }
  }

  public func close() {
    lock.withLock {
      guard !isClosed else { return }
      isClosed = true
      closeDescriptor(fd)
    }
  }

  deinit { close() }

  /// The bytes of a request: request line, `Host`, `headers`, `Content-Length` (when there is a body, or for
  /// POST/PUT/PATCH), blank line, body.
  public static func request(
    _ method: String, _ target: String, host: String, headers: [(String, String)] = [], body: Data? = nil
  ) -> Data {
    var head = "\(method) \(target) HTTP/1.1\r\nHost: \(host)\r\n"
    for (name, value) in headers { head += "\(name): \(value)\r\n" }
    let hasLength = headers.contains { $0.0.caseInsensitiveCompare("Content-Length") == .orderedSame }
    if !hasLength, body != nil || ["POST", "PUT", "PATCH"].contains(method.uppercased()) {
      head += "Content-Length: \(body?.count ?? 0)\r\n"
    }
    head += "\r\n"
    return Data(head.utf8) + (body ?? Data())
  }

  // MARK: - Blocking I/O

  /// Runs `body` on a new thread and returns its result.
  static func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
      Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
  }

  private func writeAll(_ data: Data) throws {
    var offset = 0
    while offset < data.count {
      let sent = data.withUnsafeBytes { raw in
        sendBytes(fd, raw.baseAddress! + offset, data.count - offset)
      }
      if sent < 0 {
        if errno == EINTR { continue }
        throw errno == EAGAIN || errno == EWOULDBLOCK ? LoopbackHTTPError.timedOut : LoopbackHTTPError.socket(errno)
      }
      offset += sent
    }
  }

  /// Reads more bytes into the buffer; false at end of file.
  private func fill() throws -> Bool {
    var chunk = [UInt8](repeating: 0, count: 64 * 1024)
    while true {
      let count = recv(fd, &chunk, chunk.count, 0)
      if count > 0 {
        lock.withLock { buffer.append(contentsOf: chunk[0..<count]) }
        return true
      }
      if count == 0 {
        lock.withLock { sawEndOfFile = true }
        return false
      }
      if errno == EINTR { continue }
      throw errno == EAGAIN || errno == EWOULDBLOCK ? LoopbackHTTPError.timedOut : LoopbackHTTPError.socket(errno)
    }
  }

  private var buffered: Data { lock.withLock { buffer } }

  /// Removes and returns the first `count` buffered bytes.
  private func take(_ count: Int) -> Data {
    lock.withLock {
      let taken = Data(buffer.prefix(count))
      buffer = Data(buffer.dropFirst(count))
      return taken
    }
  }

  /// The next line (without CRLF), reading as needed.
  private func line() throws -> String {
    while true {
      if let index = buffered.firstIndex(of: UInt8(ascii: "\n")) {
        let bytes = take(index - buffered.startIndex + 1)
        return String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: CharacterSet(charactersIn: "\r\n"))
      }
      guard try fill() else { throw LoopbackHTTPError.closed }
    }
  }

  private func exactly(_ count: Int) throws -> Data {
    while buffered.count < count {
      guard try fill() else { throw LoopbackHTTPError.closed }
    }
    return take(count)
  }

  private func readResponseBlocking(head: Bool) throws -> LoopbackHTTPResponse {
    while true {
      let statusLine = try line()
      let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
      guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let status = Int(parts[1]) else {
        throw LoopbackHTTPError.malformed("status line: \(statusLine)")
      }
      var fields: [(name: String, value: String)] = []
      while true {
        let text = try line()
        if text.isEmpty { break }
        guard let colon = text.firstIndex(of: ":") else { throw LoopbackHTTPError.malformed("header: \(text)") }
        fields.append(
          (String(text[..<colon]), text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
      }
      if (100..<200).contains(status) { continue }  // 100 Continue and other interim responses
      let response = { (body: Data) in
        LoopbackHTTPResponse(
          status: status, reason: parts.count > 2 ? String(parts[2]) : "", headerFields: fields, body: body)
      }
      let field = { (name: String) in fields.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value }
      if head || status == 204 || status == 304 { return response(Data()) }
      if let encoding = field("Transfer-Encoding"), encoding.lowercased().contains("chunked") {
        var body = Data()
        while true {
          let sizeLine = try line()
          guard let size = Int(sizeLine.split(separator: ";")[0].trimmingCharacters(in: .whitespaces), radix: 16)
          else { throw LoopbackHTTPError.malformed("chunk size: \(sizeLine)") }
          if size == 0 {
            while try !line().isEmpty {}  // trailers
            return response(body)
          }
          body.append(try exactly(size))
          _ = try line()
        }
      }
      if let length = field("Content-Length").flatMap({ Int($0) }) { return response(try exactly(length)) }
      while try fill() {}
      return response(take(buffered.count))
    }
  }
}

/// One-shot requests to a loopback fake over `LoopbackHTTPConnection`.
public enum LoopbackHTTP {
  /// Sends one request to `url` (`http://127.0.0.1:PORT/path?query`) on a new connection, closed afterwards.
  public static func send(
    _ method: String, _ url: String, headers: [(String, String)] = [], body: Data? = nil, timeout: Double = 10
  ) async throws -> LoopbackHTTPResponse {
    let (port, target, host) = try split(url)
    let connection = try await LoopbackHTTPConnection(port: port, timeout: timeout)
    defer { connection.close() }
    return try await connection.send(method, target, host: host, headers: headers, body: body)
  }

  /// The port, origin-form target ("/path?query") and `Host` value of a loopback `http://` URL.
  public static func split(_ url: String) throws -> (port: Int, target: String, host: String) {
    guard let components = URLComponents(string: url), components.scheme?.lowercased() == "http",
      let host = components.host, ["127.0.0.1", "localhost"].contains(host.lowercased())
    else { throw LoopbackHTTPError.notLoopback(url) }
    let port = components.port ?? 80
    var target = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
    if let query = components.percentEncodedQuery { target += "?" + query }
    return (port, target, "\(host):\(port)")
  }
}
