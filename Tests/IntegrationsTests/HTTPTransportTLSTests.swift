import Foundation
import TestSupport
import Testing

@testable import Integrations

/// TLS through the system's libcurl against a real TLS server (`openssl s_server`, a self-signed
/// certificate for 127.0.0.1): untrusted is a `tls` failure; trusted through a CA bundle works.
@Suite(.curlHandlePool(.shared)) struct HTTPTransportTLSTests {
  /// `openssl s_server -www` on 127.0.0.1 with a fresh self-signed certificate.
  final class TLSServer {
    let port: Int
    let certificate: String
    private let process: Process
    private let directory: URL

    init() throws {
      directory = FileManager.default.temporaryDirectory.appendingPathComponent("hs-tls-\(UUID().uuidString)")
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
      certificate = directory.appendingPathComponent("cert.pem").path
      let key = directory.appendingPathComponent("key.pem").path
      try Self.openssl([
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
        "-out", certificate, "-days", "1", "-subj", "/CN=localhost",
        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
      ])
      port = closedLoopbackPort()
      process = Process()
      process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
      process.arguments = ["s_server", "-accept", "127.0.0.1:\(port)", "-cert", certificate, "-key", key, "-www", "-quiet"]
      process.standardOutput = FileHandle.nullDevice
      process.standardError = FileHandle.nullDevice
      process.standardInput = FileHandle.nullDevice
      try process.run()
      // Wait until it listens.
      for _ in 0..<100 {
        if Self.listening(port) { break }
        usleep(50_000)
      }
    }

    /// Kills the server. (Foundation's `terminate()` + `waitUntilExit()` can hang in a test task.)
    func stop() {
      kill(process.processIdentifier, SIGKILL)
      waitpid(process.processIdentifier, nil, 0)
      try? FileManager.default.removeItem(at: directory)
    }

    var url: URL { URL(string: "https://127.0.0.1:\(port)/")! }

    static func openssl(_ arguments: [String]) throws {
      let process = Process()
      process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
      process.arguments = arguments
      process.standardOutput = FileHandle.nullDevice
      process.standardError = FileHandle.nullDevice
      try process.run()
      process.waitUntilExit()
      guard process.terminationStatus == 0 else { throw CocoaError(.fileWriteUnknown) }
    }

    static func listening(_ port: Int) -> Bool {
      let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
      defer { close(fd) }
      var address = sockaddr_in()
      address.sin_family = sa_family_t(AF_INET)
      address.sin_port = in_port_t(UInt16(port).bigEndian)
      address.sin_addr.s_addr = inet_addr("127.0.0.1")
      return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
        }
      }
    }
  }

  @Test func anUntrustedCertificateIsATLSFailure() async throws {
    let server = try TLSServer()
    defer { server.stop() }
    let transport = HTTPTransport(timeout: 5, network: NetworkSettings())
    do {
      _ = try await transport.send("GET", server.url, headers: ["Authorization": "Bearer never-sent-in-clear"])
      Issue.record("a self-signed certificate was accepted")
    } catch let failure as HTTPFailure {
      #expect(failure.kind == .tls)
      #expect(failure.category == "tls")
      #expect(failure.reason == "cannot reach 127.0.0.1: TLS failure (certificate or handshake)")
    }
  }

  @Test func aCABundleFromTheEnvironmentIsTrusted() async throws {
    let server = try TLSServer()
    defer { server.stop() }
    let transport = HTTPTransport(timeout: 5, network: .fromEnvironment(["CURL_CA_BUNDLE": server.certificate]))
    let response = try await transport.send("GET", server.url)
    #expect(response.status == 200)
  }

}
