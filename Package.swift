// swift-tools-version: 6.1
import PackageDescription

let package = Package(
  name: "hotsecrets",
  platforms: [.macOS(.v14)],
  products: [
    .executable(name: "hotsecrets", targets: ["hotsecrets"])
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    .package(url: "https://github.com/swhitty/FlyingFox", from: "0.27.1"),
    .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
  ],
  targets: [
    .systemLibrary(
      name: "CSodium",
      pkgConfig: "libsodium",
      providers: [.apt(["libsodium-dev"]), .brew(["libsodium"])]
    ),
    .target(name: "Sodium", dependencies: ["CSodium"]),
    .target(name: "DotEnv"),
    .target(
      name: "HotSecretsCore",
      dependencies: [
        // Yams: the policy reader reads libyaml's events through the C module (CYaml) Yams bundles.
        "Sodium", "DotEnv", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Yams", package: "Yams"),
        // Insecure.MD5 only: Fly reports each app secret's digest as the hex MD5 of its value.
        .product(name: "Crypto", package: "swift-crypto"),
      ]
    ),
    // HTTP through AsyncHTTPClient (SwiftNIO + BoringSSL, linked statically). Foundation's
    // URLSession was measured first: on Linux it links libcurl and ~30 shared libraries, which
    // added 8 ms to the start-up of every command (docs/performance.md).
    .target(
      name: "Integrations",
      dependencies: ["HotSecretsCore", .product(name: "AsyncHTTPClient", package: "async-http-client")]
    ),
    .target(
      name: "HotSecretsCLI",
      dependencies: [
        "HotSecretsCore", "Integrations",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .executableTarget(name: "hotsecrets", dependencies: ["HotSecretsCLI"]),
    // In-process loopback fakes of the remote APIs, for tests and benchmarks only. FlyingFox: an
    // HTTP/1.1 server on BSD sockets and Swift concurrency (no SwiftNIO), quick to build.
    .target(
      name: "TestSupport",
      dependencies: [
        "Sodium", .product(name: "FlyingFox", package: "FlyingFox"),
        .product(name: "FlyingSocks", package: "FlyingFox"), .product(name: "Crypto", package: "swift-crypto"),
      ]
    ),
    // The loopback fakes as a process, for scripts/bench (`hotsecrets-fakes --latency-ms 50 …`).
    .executableTarget(name: "hotsecrets-fakes", dependencies: ["TestSupport"], path: "Sources/FakeAPIs"),
    .testTarget(name: "SodiumTests", dependencies: ["Sodium"]),
    .testTarget(
      name: "DotEnvTests",
      dependencies: ["DotEnv", .product(name: "PropertyBased", package: "swift-property-based")]
    ),
    // Yams: the policy reader's composer is checked against Yams' own (a differential test).
    .testTarget(
      name: "HotSecretsCoreTests", dependencies: ["HotSecretsCore", "Sodium", .product(name: "Yams", package: "Yams")]),
    .testTarget(name: "IntegrationsTests", dependencies: ["Integrations", "HotSecretsCore", "TestSupport"]),
    .testTarget(
      name: "HotSecretsCLITests",
      dependencies: [
        "hotsecrets", "HotSecretsCLI", "HotSecretsCore", "TestSupport", .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
  ]
)
