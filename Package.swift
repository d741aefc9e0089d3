// swift-tools-version: 6.1
import PackageDescription

let package = Package(
  name: "hotsecrets",
  // No Apple platform is declared because none is built or tested: hotsecrets runs on Linux (Debian
  // and Ubuntu), opening libcurl and libcrypto by their Linux sonames (SystemLibraries, Integrations).
  products: [
    .executable(name: "hotsecrets", targets: ["hotsecrets"]),
    // For the fuzz targets (Fuzz/Package.swift) only.
    .library(name: "DotEnv", targets: ["DotEnv"]),
    .library(name: "HotSecretsModel", targets: ["HotSecretsModel"]),
    .library(name: "HotSecretsPolicy", targets: ["HotSecretsPolicy"]),
    .library(name: "HotSecretsVault", targets: ["HotSecretsVault"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    .package(url: "https://github.com/swhitty/FlyingFox", from: "0.27.1"),
    // Tests only: the official MCP client drives `hotsecrets mcp` as an agent's client would. The
    // binary does not link it (its HTTP transports pull in FoundationNetworking and libcurl at
    // every command's start-up; docs/mcp.md says why the server is hotsecrets' own).
    .package(url: "https://github.com/modelcontextprotocol/swift-sdk", exact: "0.12.1"),
    .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
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
    // libpq's declarations only, nothing linked: opened with dlopen when a PostgreSQL vault is.
    .systemLibrary(name: "CPostgres", providers: [.apt(["libpq-dev"]), .brew(["libpq"])]),
    // The policy reader's YAML parser.
    .systemLibrary(
      name: "CYAML",
      pkgConfig: "yaml-0.1",
      providers: [.apt(["libyaml-dev"]), .brew(["libyaml"])]
    ),
    // System libraries opened on first use (dlopen): libcrypto's MD5 for Fly's digests.
    .target(name: "SystemLibraries"),
    .target(name: "DotEnv"),
    // The layers, bottom up. Each target depends on the ones below it that it needs, no more; the
    // compiler keeps the layering (README, Development).
    //
    // The vocabulary every layer shares: names, errors, the rows the store keeps and the store's
    // protocol (`VaultStore` and its repositories), audit entries, the rotation journal's records.
    .target(name: "HotSecretsModel", dependencies: ["Sodium"]),
    // The default store: the vault as one SQLite file. The only target that imports GRDB.
    .target(
      name: "VaultSQLite",
      dependencies: ["HotSecretsModel", .product(name: "GRDB", package: "GRDB.swift")]
    ),
    // The team store: the vault in a PostgreSQL schema, through libpq (dlopen on first use). With
    // VaultSQLite, the only targets that hold SQL.
    .target(name: "VaultPostgres", dependencies: ["HotSecretsModel", "CPostgres", "SystemLibraries"]),
    // The policy file (YAML through the system's libyaml) and value formats.
    .target(name: "HotSecretsPolicy", dependencies: ["HotSecretsModel", "CYAML"]),
    // What hotsecrets asks of remote services (providers, Fly, GitHub, live probes) as protocols,
    // and the rules every request follows (https, no redirects, scrubbed errors).
    .target(name: "RemoteAPIs", dependencies: ["HotSecretsModel", "HotSecretsPolicy"]),
    // The vault: unlock, keys and values' encryption, recipients and re-keys, authenticated heads,
    // the audit chain and its checkpoints. Talks to storage only through `VaultStore`.
    .target(name: "HotSecretsVault", dependencies: ["HotSecretsModel", "Sodium"]),
    // What users run: the file mirror, verify (the pre-deploy gate), sync, rotation.
    .target(
      name: "HotSecretsOperations",
      dependencies: ["HotSecretsVault", "HotSecretsPolicy", "RemoteAPIs", "DotEnv", "SystemLibraries", "Sodium"]
    ),
    // The compliance bundle (evidence, HTML report, manifest) and its verifier.
    .target(name: "HotSecretsCompliance", dependencies: ["HotSecretsOperations", "Sodium"]),
    // HTTP through the system's libcurl, opened on the first request: linking it (or Foundation's
    // URLSession, which links it) adds ~30 shared libraries and 7-8 ms to every command's start-up.
    .target(name: "Integrations", dependencies: ["RemoteAPIs", "CCurl", "SystemLibraries"]),
    .target(
      name: "HotSecretsCLI",
      dependencies: [
        "HotSecretsCompliance", "VaultSQLite", "VaultPostgres", "Integrations",
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
      name: "HotSecretsCoreTests",
      dependencies: [
        "HotSecretsCompliance", "VaultSQLite", "VaultPostgres", "TestSupport", "Sodium",
        .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Yams", package: "Yams"),
      ]),
    .testTarget(name: "IntegrationsTests", dependencies: ["Integrations", "TestSupport"]),
    .testTarget(
      name: "HotSecretsCLITests",
      dependencies: [
        "hotsecrets", "HotSecretsCLI", "HotSecretsCompliance", "VaultSQLite", "VaultPostgres", "TestSupport",
        .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "MCP", package: "swift-sdk"), .product(name: "SystemPackage", package: "swift-system"),
      ]
    ),
  ]
)
