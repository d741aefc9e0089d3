// swift-tools-version: 6.1
import PackageDescription

let package = Package(
  name: "hotsecrets",
  platforms: [.macOS(.v14)],
  products: [
    .executable(name: "hotsecrets", targets: ["hotsecrets"]),
    // For the fuzz targets (Fuzz/Package.swift) only.
    .library(name: "DotEnv", targets: ["DotEnv"]),
    .library(name: "HotSecretsCore", targets: ["HotSecretsCore"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    .package(url: "https://github.com/swhitty/FlyingFox", from: "0.27.1"),
  ],
  targets: [
    .systemLibrary(
      name: "CSodium",
      pkgConfig: "libsodium",
      providers: [.apt(["libsodium-dev"]), .brew(["libsodium"])]
    ),
    .target(name: "Sodium", dependencies: ["CSodium"]),
    // Declarations only, nothing linked: libcurl is opened with dlopen on the first request. No
    // pkgConfig: SwiftPM would add pkg-config's `-lcurl` to the link; Debian's <curl/curl.h> is on
    // the compiler's default (multiarch) include path.
    .systemLibrary(name: "CCurl", providers: [.apt(["libcurl4-openssl-dev"]), .brew(["curl"])]),
    // The policy reader's YAML parser.
    .systemLibrary(
      name: "CYAML",
      pkgConfig: "yaml-0.1",
      providers: [.apt(["libyaml-dev"]), .brew(["libyaml"])]
    ),
    // System libraries opened on first use (dlopen): libcrypto's MD5 for Fly's digests.
    .target(name: "SystemLibraries"),
    .target(name: "DotEnv"),
    .target(
      name: "HotSecretsCore",
      dependencies: [
        "Sodium", "DotEnv", "CYAML", "SystemLibraries", .product(name: "GRDB", package: "GRDB.swift"),
      ]
    ),
    // HTTP through the system's libcurl, opened on the first request: linking it (or Foundation's
    // URLSession, which links it) adds ~30 shared libraries and 7-8 ms to every command's start-up.
    .target(name: "Integrations", dependencies: ["HotSecretsCore", "CCurl", "SystemLibraries"]),
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
        "Sodium", "SystemLibraries", .product(name: "FlyingFox", package: "FlyingFox"),
        .product(name: "FlyingSocks", package: "FlyingFox"),
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
