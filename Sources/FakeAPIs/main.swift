// hotsecrets-fakes: the loopback fakes of the Fly.io Machines API and GitHub's environment-secrets API as a
// process, for scripts/bench.
//
//   hotsecrets-fakes [--latency-ms N] [--fly-apps a,b] [--machines N] [--github owner/repo:env[,…]]…
//                    [--fly-token T] [--github-token T]
//
// Prints one JSON line {"fly":"http://127.0.0.1:P","github":"http://127.0.0.1:Q"} once both listen, then serves
// until standard input reaches end of file or SIGTERM arrives. Each fake also answers `GET /_stats` and
// `POST /_reset` (no auth, no latency).

import Foundation
import TestSupport

struct Options {
  var latencyMilliseconds = 0.0
  var flyApps: [String] = []
  var machines = 2
  var githubEnvironments: [(repository: String, environment: String)] = []
  var flyToken = "fly-test-token"
  var githubToken = "gh-test-token"
}

func fail(_ message: String) -> Never {
  FileHandle.standardError.write(Data("hotsecrets-fakes: \(message)\n".utf8))
  exit(2)
}

func parse(_ arguments: [String]) -> Options {
  var options = Options()
  var iterator = arguments.makeIterator()
  func value(_ flag: String) -> String {
    guard let value = iterator.next() else { fail("\(flag) needs a value") }
    return value
  }
  func list(_ text: String) -> [String] {
    text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
  }
  while let argument = iterator.next() {
    switch argument {
    case "--latency-ms":
      guard let number = Double(value(argument)), number >= 0 else { fail("--latency-ms needs a number ≥ 0") }
      options.latencyMilliseconds = number
    case "--fly-apps":
      options.flyApps += list(value(argument))
    case "--machines":
      guard let number = Int(value(argument)), number >= 0 else { fail("--machines needs a whole number ≥ 0") }
      options.machines = number
    case "--github":
      for item in list(value(argument)) {
        guard let colon = item.firstIndex(of: ":"), item[..<colon].contains("/"),
          item.index(after: colon) < item.endIndex
        else { fail("--github needs owner/repo:environment, got \(item)") }
        options.githubEnvironments.append((String(item[..<colon]), String(item[item.index(after: colon)...])))
      }
    case "--fly-token":
      options.flyToken = value(argument)
    case "--github-token":
      options.githubToken = value(argument)
    case "-h", "--help":
      print(
        "usage: hotsecrets-fakes [--latency-ms N] [--fly-apps a,b] [--machines N] "
          + "[--github owner/repo:env[,…]]… [--fly-token T] [--github-token T]")
      exit(0)
    default:
      fail("unknown argument \(argument)")
    }
  }
  return options
}

/// Returns once standard input reaches end of file (read on a thread of its own, not the cooperative pool).
func standardInputClosed() async {
  await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
    Thread.detachNewThread {
      var buffer = [UInt8](repeating: 0, count: 4096)
      while read(STDIN_FILENO, &buffer, buffer.count) > 0 {}
      continuation.resume()
    }
  }
}

let options = parse(Array(CommandLine.arguments.dropFirst()))
let latency = options.latencyMilliseconds / 1000
let fly = try await FakeFly.start(token: options.flyToken, latency: latency)
for app in options.flyApps { fly.addApp(app, machines: options.machines) }
let github = try await FakeGitHub.start(token: options.githubToken, latency: latency)
for (repository, environment) in options.githubEnvironments {
  try github.addEnvironment(repository: repository, environment: environment)
}

// SIGTERM: exit at once (the fakes hold nothing worth draining).
signal(SIGTERM) { _ in _exit(0) }

let ready = try JSONSerialization.data(
  withJSONObject: ["fly": fly.baseURL, "github": github.baseURL], options: [.sortedKeys, .withoutEscapingSlashes])
FileHandle.standardOutput.write(ready + Data("\n".utf8))  // unbuffered: the line is out now

await standardInputClosed()
exit(0)
