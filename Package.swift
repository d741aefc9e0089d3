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
      dependencies: ["Sodium", "DotEnv", .product(name: "GRDB", package: "GRDB.swift")]
    ),
    .target(
      name: "HotSecretsCLI",
      dependencies: [
        "HotSecretsCore",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .executableTarget(name: "hotsecrets", dependencies: ["HotSecretsCLI"]),
    .testTarget(name: "SodiumTests", dependencies: ["Sodium"]),
    .testTarget(
      name: "DotEnvTests",
      dependencies: ["DotEnv", .product(name: "PropertyBased", package: "swift-property-based")]
    ),
    .testTarget(name: "HotSecretsCoreTests", dependencies: ["HotSecretsCore", "Sodium"]),
    .testTarget(
      name: "HotSecretsCLITests",
      dependencies: ["hotsecrets", "HotSecretsCore", .product(name: "GRDB", package: "GRDB.swift")]
    ),
  ]
)
