import Foundation
import TestSupport
import Testing

@testable import Integrations

/// TLS through the system's libcurl against a real TLS server (`openssl s_server`, a self-signed
/// certificate for 127.0.0.1): untrusted is a `tls` failure; trusted through a CA bundle works.
@Suite(.curlHandlePool(.shared)) struct HTTPTransportTLSTests {
  /// `openssl s_server -www` on 127.0.0.1 with a fresh self-signed certificate, on a port the kernel picks (it
  /// prints it): a port chosen beforehand could be taken by a fake another test starts meanwhile.
  final class TLSServer: Sendable {
    let port: Int
    let certificate: String
    private let process: ChildProcess
    private let directory: URL

    private init(port: Int, certificate: String, process: ChildProcess, directory: URL) {
      self.port = port
      self.certificate = certificate
      self.process = process
      self.directory = directory
    }

    static func start() async throws -> TLSServer {
      let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hs-tls-\(UUID().uuidString)")
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
      let certificate = directory.appendingPathComponent("cert.pem").path
      let key = directory.appendingPathComponent("key.pem").path
      try await openssl([
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
        "-out", certificate, "-days", "1", "-subj", "/CN=localhost",
        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
      ])
      let log = directory.appendingPathComponent("s_server.log").path
      let process = try ChildProcess.spawn(
        "/usr/bin/openssl",
        ["s_server", "-accept", "127.0.0.1:0", "-cert", certificate, "-key", key, "-www"],
        environment: ProcessInfo.processInfo.environment, output: .file(log))
      // "ACCEPT 127.0.0.1:PORT" once it listens.
      for _ in 0..<200 {
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("ACCEPT ") }),
          let port = line.split(separator: ":").last.flatMap({ Int($0) })
        {
          return TLSServer(port: port, certificate: certificate, process: process, directory: directory)
        }
        guard process.isRunning else { break }
        try await Task.sleep(for: .milliseconds(50))
      }
      process.signal(SIGKILL)
      throw CocoaError(.fileReadUnknown)
    }

    /// Kills the server (its thread reaps it).
    func stop() {
      process.signal(SIGKILL)
      try? FileManager.default.removeItem(at: directory)
    }

    var url: URL { URL(string: "https://127.0.0.1:\(port)/")! }

    static func openssl(_ arguments: [String]) async throws {
      let result = try await ChildProcess.run(
        "/usr/bin/openssl", arguments, environment: ProcessInfo.processInfo.environment)
      guard result.status == 0 else { throw CocoaError(.fileWriteUnknown) }
    }
  }

  @Test func anUntrustedCertificateIsATLSFailure() async throws {
    let server = try await TLSServer.start()
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
    let server = try await TLSServer.start()
    defer { server.stop() }
    let transport = HTTPTransport(timeout: 5, network: .fromEnvironment(["CURL_CA_BUNDLE": server.certificate]))
    let response = try await transport.send("GET", server.url)
    #expect(response.status == 200)
  }

}
