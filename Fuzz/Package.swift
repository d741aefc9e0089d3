// swift-tools-version: 6.1
// libFuzzer targets for the parsers that read files a user (or an attacker who can write them)
// controls. Built and run by scripts/fuzz TARGET [SECONDS], with -sanitize=fuzzer,address; a
// separate package so that the main build never sees them (they have no `main` of their own).
import PackageDescription

let package = Package(
  name: "hotsecrets-fuzz",
  dependencies: [.package(name: "hotsecrets", path: "..")],
  targets: [
    // libFuzzer's driver entry point, declared for Swift.
    .target(name: "FuzzSupport"),
    // .env files: parse; whatever parses must survive writing and parsing again unchanged.
    .executableTarget(
      name: "FuzzDotEnv", dependencies: ["FuzzSupport", .product(name: "DotEnv", package: "hotsecrets")]),
    // policies/ENV.yaml: the libyaml composer and every field check; errors are fine, crashes are not.
    .executableTarget(
      name: "FuzzPolicy", dependencies: ["FuzzSupport", .product(name: "HotSecretsPolicy", package: "hotsecrets")]),
    // The audit trail's canonical JSON (any JSON value: one canonical text, stable when read back)
    // and the checkpoint-log line parser.
    .executableTarget(
      name: "FuzzCanonicalJSON",
      dependencies: [
        "FuzzSupport", .product(name: "HotSecretsModel", package: "hotsecrets"),
        .product(name: "HotSecretsVault", package: "hotsecrets"),
      ]),
  ]
)
