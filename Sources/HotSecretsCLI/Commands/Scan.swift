import ArgumentParser
import Foundation
import HotSecretsModel
import HotSecretsOperations
import HotSecretsPolicy
import HotSecretsVault

extension HotSecrets {
  /// Finds where a stored secret value leaked: exact bytes, not patterns.
  struct Scan: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "scan",
      abstract: "Find every copy of a stored secret value in files, staged changes or git history.",
      discussion: """
        Looks for the vault's values themselves — their exact bytes, their base64 and URL-safe \
        base64, and their percent-encoding — so every finding is a real copy and nothing is \
        guessed. Each finding is printed as PATH:LINE:COLUMN with ENV/SERVICE/KEY, the version \
        and whether it is current; never the value.

        Default PATH: ROOT, every file but .git folders and the git-ignored plaintext mirror \
        files under ROOT/vault/occ. --staged scans what is staged for commit (the index); \
        --git-history every blob reachable from any ref, reported with the commit and path \
        where it first appears. --versions all also looks for every older version still \
        stored (a leaked old credential matters if it was never revoked). Values shorter than \
        8 bytes are not looked for (they occur by chance); they are named on stderr.

        --install-hook writes a git pre-commit hook that runs `hotsecrets scan --staged`, so a \
        commit holding a value is refused (the hook needs HOTSECRETS_IDENTITY or a passphrase \
        to unlock the vault). One `scan` audit entry records the counts and the names found, \
        not where (docs/incident.md).

        Exit codes: 0 clean; 1 a value was found; 2 the scan could not run, or some files could \
        not be read (named on stderr; the rest was scanned); 64 usage error.
        """
    )

    enum Versions: String, ExpressibleByArgument, CaseIterable {
      case current, all
    }

    @OptionGroup var vault: VaultOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "Files or folders to scan (default: ROOT).", completion: .file()) var paths: [String] = []
    @Option(name: .customLong("env"), help: ArgumentHelp("Only this environment's values (default: all).", valueName: "env"),
      completion: Completions.environment)
    var environment: String?
    @Option(help: "Look for the current values, or every version still stored.") var versions: Versions = .current
    @Flag(help: "Scan what is staged for commit instead of files.") var staged = false
    @Flag(help: "Scan every blob reachable from any ref instead of files.") var gitHistory = false
    @Flag(help: "Install a git pre-commit hook that runs `hotsecrets scan --staged`, and exit.") var installHook = false

    struct FindingJSON: Encodable {
      let path: String
      let line, column: Int
      let environment, service, key: String
      let version: Int
      let current: Bool
      let encoding: String
      @NullEncoded var commit: String?
    }

    struct Report: Encodable {
      let source: String
      let clean: Bool
      let findings: [FindingJSON]
      let files, bytes: Int
      @NullEncoded var commits: Int?
      let too_short: [String]
      let skipped_mirror_files: Int
      /// Paths that could not be read (the scan went on without them).
      let unreadable: [String]
    }

    func validate() throws {
      if staged && gitHistory { throw ValidationError("--staged and --git-history are two scans: give one") }
      if (staged || gitHistory || installHook) && !paths.isEmpty {
        throw ValidationError("PATH is for a scan of files; --staged, --git-history and --install-hook read the repository")
      }
    }

    func run() throws {
      if installHook {
        do {
          let path = try PreCommitHook.install(workTree: try workTree(), command: "hotsecrets scan --staged")
          return StandardStreams.output("installed \(path): each commit runs `hotsecrets scan --staged` first")
        } catch LeakScanError.foreignHook(let path) {
          throw CLIError.invalidInput(
            "\(path) exists and is not hotsecrets' hook: add `hotsecrets scan --staged` to it yourself")
        }
      }
      if let environment { try SecretAddress.validateEnvironment(environment) }
      let session = try vault.unlock()
      let stored = try session.storedValues(environment: environment, allVersions: versions == .all)
      if stored.isEmpty, let environment {
        try KnownEnvironment.require(environment, session: session, root: vault.root)
      }
      // Keys a policy marks `secret: false` (a URL, a shop's domain) are meant to be seen.
      let published = try Self.notSecret(in: Set(stored.map(\.address.environment)), root: vault.root)
      let values = stored.filter { !published.contains($0.address) }
      let scanner = try LeakScanner(values: values)
      let source: LeakScanSource = staged ? .staged : gitHistory ? .history : .files
      let report: LeakScanReport
      switch source {
      case .staged: report = try scanner.scanStaged(workTree: try workTree())
      case .history: report = try scanner.scanHistory(workTree: try workTree())
      case .files:
        report = try scanner.scanFiles(
          paths.isEmpty ? [vault.root] : paths, root: vault.root,
          skipping: try LeakScanner.ignoredMirrorFiles(root: vault.root))
      }
      // A clean scan of what is staged writes nothing: the pre-commit hook runs it on every commit,
      // and the vault file may be tracked by the same repository.
      if source != .staged || !report.clean {
        try session.recordScan(environment: environment, source: source, allVersions: versions == .all, report: report)
      }
      if !report.unreadable.isEmpty {
        StandardStreams.warning(
          "not scanned (\(report.unreadable.count)): " + report.unreadable.prefix(20).joined(separator: "; ")
            + (report.unreadable.count > 20 ? "; …" : ""))
      }
      if !scanner.tooShort.isEmpty {
        StandardStreams.warning(
          "not looked for (shorter than 8 bytes, they would match by chance): "
            + scanner.tooShort.map(\.description).joined(separator: ", "))
      }
      let document = Report(
        source: source.rawValue, clean: report.clean,
        findings: report.findings.map {
          FindingJSON(
            path: $0.path, line: $0.line, column: $0.column, environment: $0.address.environment,
            service: $0.address.service, key: $0.address.key, version: $0.version, current: $0.isCurrent,
            encoding: $0.encoding.rawValue, commit: $0.commit)
        }, files: report.files, bytes: report.bytes, commits: source == .history ? report.commits : nil,
        too_short: scanner.tooShort.map(\.description), skipped_mirror_files: report.skippedMirrorFiles,
        unreadable: report.unreadable)
      // Found: 1. Clean but some files unread: 2 (not proven clean). Clean: 0.
      let status = !report.clean ? ExitStatus.checkFailed : report.unreadable.isEmpty ? ExitStatus.success : ExitStatus.error
      try output.print(
        CommandReport(document, summary: Self.summary(report, source: source), exitStatus: status) {
          (report.findings.map(Self.line) + [Self.summary(report, source: source)]).joined(separator: "\n")
        })
    }

    /// The addresses that `policies/ENV.yaml` of each of `environments` (when there is one) marks
    /// `secret: false`.
    static func notSecret(in environments: Set<String>, root: String) throws -> Set<SecretAddress> {
      var result = Set<SecretAddress>()
      for name in environments {
        let path = VaultLocation.join(root, "policies/\(name).yaml")
        guard FileManager.default.fileExists(atPath: path) else { continue }
        for service in try PolicyParser.load(path: path).services {
          for key in service.keys where !key.secret {
            result.insert(try SecretAddress(environment: name, service: service.name, key: key.name))
          }
        }
      }
      return result
    }

    /// `path:line:column: prod/openai/API_KEY_PROD version 3 (current), base64 [in commit abc1234]`.
    static func line(_ finding: LeakFinding) -> String {
      "\(finding.path):\(finding.line):\(finding.column): \(finding.address) version \(finding.version) "
        + (finding.isCurrent ? "(current)" : "(an older version)")
        + (finding.encoding == .exact ? "" : ", \(finding.encoding.rawValue)-encoded")
        + (finding.commit.map { " in commit \($0.prefix(12))" } ?? "")
    }

    static func summary(_ report: LeakScanReport, source: LeakScanSource) -> String {
      let what =
        switch source {
        case .files: Plural.count(report.files, "file")
        case .staged: Plural.count(report.files, "staged file")
        case .history: "\(Plural.count(report.files, "blob")) of \(Plural.count(report.commits, "commit"))"
        }
      let bytes = String(format: "%.1f MB", Double(report.bytes) / 1_000_000)
      let unread = report.unreadable.isEmpty ? "" : "; \(Plural.count(report.unreadable.count, "path")) could not be read"
      guard !report.clean else {
        return "scan: clean (\(what), \(bytes) read\(unread))" + (unread.isEmpty ? "" : ": not proven clean")
      }
      let secrets = Set(report.findings.map(\.address)).count
      return
        "scan: \(Plural.count(report.findings.count, "finding")) of \(Plural.count(secrets, "secret")) (\(what), \(bytes) read\(unread)): rotate them (docs/incident.md)"
    }

    /// The git work tree ROOT is in, for --staged, --git-history and --install-hook.
    private func workTree() throws -> String {
      guard let tree = LeakScanner.gitWorkTree(containing: vault.root) else {
        throw CLIError.invalidInput("\(vault.root) is not in a git work tree (--staged, --git-history and --install-hook need a repository)")
      }
      return tree
    }
  }
}
