import ArgumentParser
import Foundation
import HotSecretsOperations
import HotSecretsVault

extension HotSecrets {
  /// Prints (or writes) a quarterly rotation schedule: a GitHub Actions workflow or systemd units.
  struct Schedule: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "schedule",
      abstract: "Print a quarterly rotation schedule for ENV: a GitHub Actions workflow or systemd units.",
      discussion: """
        Both run `hotsecrets rotate ENV --due --deploy rolling --format json` on the first day of \
        each quarter at 06:17 (cron '\(RotationSchedule.cron)'; OnCalendar=\(RotationSchedule.onCalendar)).

        --github-actions prints the workflow hotsecrets-rotate-ENV.yml: the identity and the \
        management tokens come from the secrets of the GitHub environment (--github-environment, \
        default production); hotsecrets is fetched by commit (--hotsecrets-commit, default the \
        pinned release commit) and its build cached under that commit; the JSON report is uploaded as an artifact, the updated vault \
        (vault/hotsecrets.db) is committed back, and the job fails when the rotation did. \
        --systemd prints hotsecrets-rotate-ENV.service (oneshot, run in --root, tokens and \
        HOTSECRETS_IDENTITY from /etc/hotsecrets/ENV.env) and hotsecrets-rotate-ENV.timer, each \
        after a `# FILE: NAME` line. With --out DIR the files are written there instead (never \
        over an existing file unless --force). The vault is not opened. See docs/rotation.md.

        --drill prints the monthly restore drill instead (hotsecrets-drill-ENV.yml, or \
        hotsecrets-drill-ENV.service and .timer): `hotsecrets drill --env ENV --format json` at \
        05:43 on the first day of each month (cron '\(DrillSchedule.cron)'), the report kept, and \
        the workflow commits the vault's new `drill` audit entry back (docs/incident.md).

        Exit codes: 0 printed or written; 2 an error (bad ENV or option value, a file exists, \
        I/O); 64 usage error (neither or both of --github-actions and --systemd).
        """
    )

    @Argument(help: "Environment, e.g. prod.", completion: Completions.environment) var environment: String
    @Flag(help: "A GitHub Actions workflow.") var githubActions = false
    @Flag(help: "A systemd service and timer.") var systemd = false
    @Option(
      help: ArgumentHelp(
        "GitHub environment whose secrets hold the identity and tokens (--github-actions; default production).",
        valueName: "name"))
    var githubEnvironment: String?
    @Option(
      help: ArgumentHelp(
        "The hotsecrets commit the workflow builds, 40 hex digits (--github-actions; default the pinned release commit).",
        valueName: "sha"))
    var hotsecretsCommit: String?
    @Option(
      help: ArgumentHelp(
        "Directory the service runs in, holding vault/ and policies/ (--systemd; default /srv/hotsecrets).",
        valueName: "dir"), completion: .directory)
    var root: String?
    @Option(help: ArgumentHelp("Write the files into this folder instead of printing them.", valueName: "dir"), completion: .directory)
    var out: String?
    @Flag(help: "With --out: replace existing files.") var force = false
    @Flag(
      help:
        "The vault is on PostgreSQL: the workflow takes its URI from the secret HOTSECRETS_VAULT and commits only the audit checkpoints back."
    )
    var postgres = false
    @Flag(help: "The monthly restore drill (hotsecrets drill) instead of the quarterly rotation.") var drill = false

    func validate() throws {
      guard githubActions != systemd else {
        throw ValidationError("give exactly one of --github-actions and --systemd")
      }
      if githubActions, root != nil { throw ValidationError("--root applies to --systemd only") }
      if systemd, githubEnvironment != nil || hotsecretsCommit != nil {
        throw ValidationError("--github-environment and --hotsecrets-commit apply to --github-actions only")
      }
      if force, out == nil { throw ValidationError("--force applies to --out only") }
    }

    func run() throws {
      let files: [ScheduleFile]
      if githubActions {
        let options = GitHubActionsScheduleOptions(
          githubEnvironment: githubEnvironment ?? "production", hotsecretsVersion: HotSecretsVersion.current,
          hotsecretsCommit: hotsecretsCommit ?? HotSecretsVersion.pinnedCommit, postgres: postgres)
        files = [
          drill
            ? try DrillSchedule.githubActions(environment: environment, options: options)
            : try RotationSchedule.githubActions(environment: environment, options: options)
        ]
      } else {
        let options = SystemdScheduleOptions(root: root ?? "/srv/hotsecrets")
        let units =
          drill
          ? try DrillSchedule.systemd(environment: environment, options: options)
          : try RotationSchedule.systemd(environment: environment, options: options)
        files = [units.service, units.timer]
      }
      if let out {
        for path in try ScheduleOutput.write(files, into: out, force: force) { StandardStreams.output(path) }
      } else if githubActions {
        ScheduleOutput.print(files[0].content)
      } else {
        ScheduleOutput.print(files.map { "# FILE: \($0.name)\n\($0.content)" }.joined(separator: "\n"))
      }
    }
  }
}

/// Printing and writing schedule files.
enum ScheduleOutput {
  /// Writes `text` to stdout as it is (it already ends with a newline).
  static func print(_ text: String) {
    Array(text.utf8).withUnsafeBytes { StandardStreams.outputBytes($0) }
  }

  /// Writes each file into `folder` (created if missing) with mode 0644 and returns the paths.
  /// Unless `force`, nothing is written when any of the files exists.
  static func write(_ files: [ScheduleFile], into folder: String, force: Bool) throws -> [String] {
    let manager = FileManager.default
    var isFolder: ObjCBool = false
    if manager.fileExists(atPath: folder, isDirectory: &isFolder) {
      guard isFolder.boolValue else { throw CLIError.io(path: folder, reason: "not a folder") }
    } else {
      do {
        try manager.createDirectory(atPath: folder, withIntermediateDirectories: true)
      } catch {
        throw CLIError.io(path: folder, reason: "cannot create the folder")
      }
    }
    let paths = files.map { VaultLocation.join(folder, $0.name) }
    if !force {
      for path in paths where manager.fileExists(atPath: path) {
        throw CLIError.io(path: path, reason: "already exists; refusing to overwrite it (use --force)")
      }
    }
    for (file, path) in zip(files, paths) {
      do {
        try Data(file.content.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        try manager.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
      } catch {
        throw CLIError.io(path: path, reason: "cannot write the file")
      }
    }
    return paths
  }
}
