import Foundation

/// Opens (and closes) a TCP connection to check that a host:port answers.
enum TCPProbe {
  /// nil when a connection was established within `timeout`, else the reason it was not.
  static func connect(host: String, port: Int, timeout: TimeInterval) -> String? {
    var hints = addrinfo()
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    hints.ai_family = AF_UNSPEC
    var list: UnsafeMutablePointer<addrinfo>?
    guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else { return "unknown host \(host)" }
    defer { freeaddrinfo(list) }
    var lastError = "connection failed"
    var entry: UnsafeMutablePointer<addrinfo>? = first
    while let info = entry {
      defer { entry = info.pointee.ai_next }
      let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
      guard fd >= 0 else { continue }
      defer { close(fd) }
      _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
      if Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return nil }
      guard errno == EINPROGRESS else {
        lastError = String(cString: strerror(errno))
        continue
      }
      var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
      let ready = poll(&pfd, 1, Int32(timeout * 1000))
      if ready == 0 {
        lastError = "no answer from \(host):\(port) in \(Int(timeout)) s"
        continue
      }
      var soError: Int32 = 0
      var length = socklen_t(MemoryLayout<Int32>.size)
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length)
      if soError == 0 { return nil }
      lastError = String(cString: strerror(soError))
    }
    return "cannot connect to \(host):\(port): \(lastError)"
  }
}
