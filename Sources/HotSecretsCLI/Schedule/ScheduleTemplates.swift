import Foundation
import HotSecretsModel

/// A file that `hotsecrets schedule` prints or writes: its name and its text.
public struct ScheduleFile: Sendable, Equatable {
  /// The file name, without a folder (`hotsecrets-rotate-prod.yml`).
  public let name: String
  /// The whole file, ending with a newline.
  public let content: String

  public init(name: String, content: String) {
    self.name = name
    self.content = content
  }
}

/// What the GitHub Actions workflow depends on besides the environment.
public struct GitHubActionsScheduleOptions: Sendable, Equatable {
  /// The GitHub environment whose secrets hold the identity and the management tokens.
  public var githubEnvironment: String
  /// The hotsecrets version named in the workflow's header.
  public var hotsecretsVersion: String
  /// The hotsecrets commit the workflow fetches and builds (40 hex digits): pinned by commit, not
  /// by a tag that could be moved; the build cache is keyed by it.
  public var hotsecretsCommit: String
  /// The vault is on PostgreSQL: its URI comes from the secret HOTSECRETS_VAULT, and the workflow
  /// commits only the audit checkpoints back, never a vault file.
  public var postgres: Bool

  public init(
    githubEnvironment: String = "production", hotsecretsVersion: String, hotsecretsCommit: String,
    postgres: Bool = false
  ) {
    self.githubEnvironment = githubEnvironment
    self.hotsecretsVersion = hotsecretsVersion
    self.hotsecretsCommit = hotsecretsCommit
    self.postgres = postgres
  }
}

/// What the systemd units depend on besides the environment.
public struct SystemdScheduleOptions: Sendable, Equatable {
  /// The project root the service runs in (holds `vault/hotsecrets.db` and `policies/ENV.yaml`).
  public var root: String
  /// The installed binary.
  public var binary: String
  /// The system user the service runs as.
  public var user: String

  public init(
    root: String = "/srv/hotsecrets", binary: String = "/usr/local/bin/hotsecrets", user: String = "hotsecrets"
  ) {
    self.root = root
    self.binary = binary
    self.user = user
  }
}

/// Why a schedule cannot be generated.
public enum ScheduleError: LocalizedError, Equatable, Sendable {
  case invalidGitHubEnvironment(String)
  case invalidPath(kind: String, path: String)
  case invalidVersion(String)
  case invalidCommit(String)

  public var errorDescription: String? {
    switch self {
    case .invalidGitHubEnvironment(let name):
      "invalid GitHub environment name \"\(name)\": it must match [A-Za-z0-9][A-Za-z0-9._-]* (at most 255 characters)"
    case .invalidPath(let kind, let path):
      "invalid \(kind) \"\(path)\": it must be an absolute path of letters, digits and . _ - + @ /"
    case .invalidVersion(let version):
      "invalid hotsecrets version \"\(version)\""
    case .invalidCommit(let commit):
      "invalid hotsecrets commit \"\(commit)\": it must be a full commit id, 40 hexadecimal digits"
    }
  }
}

/// Scheduled quarterly rotation: the text of a GitHub Actions workflow, or of a systemd service and
/// timer, that run `hotsecrets rotate ENV --due --deploy rolling --format json` on the first day of
/// each quarter. Pure functions of their arguments; nothing is read or written here.
public enum RotationSchedule {
  /// 06:17 UTC on the first day of January, April, July and October.
  public static let cron = "17 6 1 1,4,7,10 *"
  /// The same moment as a systemd calendar event (in the machine's time zone).
  public static let onCalendar = "*-01,04,07,10-01 06:17:00"
  /// The Swift toolchain the workflow installs: the one the README's quick start names.
  public static let swiftVersion = "6.3"
  /// The Debian packages hotsecrets builds against (as scripts/install-deps installs them).
  public static let aptPackages = "libsodium-dev libsqlite3-dev libcurl4-openssl-dev libyaml-dev libpq-dev pkg-config"

  /// `hotsecrets-rotate-ENV`: the workflow's and the units' base name.
  public static func baseName(environment: String) -> String { "hotsecrets-rotate-\(environment)" }

  /// The rotate command both schedules run (arguments after the binary).
  public static func rotateArguments(environment: String) -> String {
    "rotate \(environment) --due --deploy rolling --format json"
  }

  /// Throws unless `name` can be a GitHub environment in the workflow as written.
  public static func validateGitHubEnvironment(_ name: String) throws {
    let ok =
      !name.isEmpty && name.utf8.count <= 255 && isAlnum(name.utf8.first!)
      && name.utf8.allSatisfy {
        isAlnum($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")
      }
    guard ok else { throw ScheduleError.invalidGitHubEnvironment(name) }
  }

  /// Throws unless `path` is absolute and safe to write unquoted in a unit file (no spaces, no `%`).
  public static func validateUnitPath(_ path: String, kind: String) throws {
    let allowed = Set("._-+@/".utf8)
    let ok =
      path.hasPrefix("/") && path.count > 1 && path.utf8.count <= 4096 && !path.contains("/../")
      && !path.hasSuffix("/..")
      && path.utf8.allSatisfy { isAlnum($0) || allowed.contains($0) }
    guard ok else { throw ScheduleError.invalidPath(kind: kind, path: path) }
  }

  /// The workflow `hotsecrets-rotate-ENV.yml`. Throws `VaultError.invalidName` for a bad
  /// environment, `ScheduleError` for a bad GitHub environment or version.
  public static func githubActions(environment: String, options: GitHubActionsScheduleOptions) throws -> ScheduleFile {
    try SecretAddress.validateEnvironment(environment)
    try validateGitHubEnvironment(options.githubEnvironment)
    let (version, commit) = try checkedBuild(options)
    let env = environment
    let name = baseName(environment: env)
    let text = """
      # Quarterly rotation of the \(env) secrets: hotsecrets \(rotateArguments(environment: env)).
      # Generated by `hotsecrets schedule \(env) --github-actions` (hotsecrets \(version), commit \(commit));
      # see docs/rotation.md.
      \(options.postgres ? postgresHeader(env: env, name: name) : fileHeader(env: env, name: name))
      #
      # Secrets of the GitHub environment "\(options.githubEnvironment)":
      #   HOTSECRETS_IDENTITY      content of a CI identity file that is a recipient of the vault
      #                            (hotsecrets identity new; hotsecrets recipients add); unlocks the vault
      #   FLY_API_TOKEN            Fly.io token allowed to set the apps' secrets and update their machines
      #   HOTSECRETS_GITHUB_TOKEN  fine-grained personal access token with Secrets: write and Environments:
      #                            write on the target repositories (this workflow's own GITHUB_TOKEN cannot
      #                            write environment secrets)
      #   OPENAI_ADMIN_KEY         OpenAI admin key: creates and deletes the projects' service accounts
      #   SUPABASE_ACCESS_TOKEN    Supabase personal access token: creates and deletes the projects' API keys\(options.postgres ? "\n#   HOTSECRETS_VAULT         postgresql:// URI of the vault (a session or direct connection, sslmode=verify-full)" : "")
      name: \(name)

      on:
        schedule:
          # 06:17 UTC on the first day of each quarter; an odd minute avoids the top-of-hour rush.
          - cron: '\(cron)'
        workflow_dispatch:
          inputs:
            resume:
              description: "Finish or roll back an unfinished rotation (rotate \(env) --resume)"
              type: boolean
              default: false

      concurrency:
        group: \(name)
        cancel-in-progress: false

      jobs:
        rotate:
          runs-on: ubuntu-24.04
          environment: \(options.githubEnvironment)
          timeout-minutes: 60
          permissions:
            contents: write  # only to commit the updated vault back
          steps:
      \(installSteps(version: version, commit: commit))

            - name: Rotate — hotsecrets rotate \(env) --due --deploy rolling
              id: rotate
              env:
                FLY_API_TOKEN: ${{ secrets.FLY_API_TOKEN }}                  # Fly apps: secrets, rolling restart
                GITHUB_TOKEN: ${{ secrets.HOTSECRETS_GITHUB_TOKEN }}         # GitHub environment secrets (a PAT)
                OPENAI_ADMIN_KEY: ${{ secrets.OPENAI_ADMIN_KEY }}            # OpenAI: mint and revoke keys
                SUPABASE_ACCESS_TOKEN: ${{ secrets.SUPABASE_ACCESS_TOKEN }}  # Supabase: mint and revoke keys\(options.postgres ? "\n          HOTSECRETS_VAULT: ${{ secrets.HOTSECRETS_VAULT }}            # the vault, on PostgreSQL" : "")
                RESUME: ${{ inputs.resume }}
              run: |
                set +e
                if [ "$RESUME" = "true" ]; then
                  hotsecrets rotate \(env) --resume --format json > rotation-report.json
                else
                  # First settle what earlier runs left live (deferred revocations, kept new values);
                  # what still waits is reported, and the rotation goes on.
                  hotsecrets rotate \(env) --finish --format json > finish-report.json \\
                    || echo "::warning title=hotsecrets rotate \(env) --finish::something is still waiting; see finish-report.json"
                  hotsecrets \(rotateArguments(environment: env)) > rotation-report.json
                fi
                status=$?
                echo "status=$status" >> "$GITHUB_OUTPUT"
                if [ "$status" -ne 0 ]; then
                  echo "::error title=hotsecrets rotate \(env)::exit $status; see the report and docs/rotation.md"
                fi
                exit $status

            - name: Keep the report
              if: always()
              uses: actions/upload-artifact@v4
              with:
                name: rotation-report-\(env)
                path: |
                  rotation-report.json
                  finish-report.json
                if-no-files-found: ignore

      \(options.postgres ? postgresCommitSteps(env: env) : fileCommitSteps(env: env))
            - name: Summary
              if: always()
              env:
                STATUS: ${{ steps.rotate.outputs.status }}
              run: |
                {
                  echo "### hotsecrets rotate \(env): exit ${STATUS:-none}"
                  if [ -s rotation-report.json ] && jq -e . rotation-report.json > /dev/null 2>&1; then
                    jq -r '"Outcome: \\(.outcome // "unknown")"
                        + (if .failed_step then ", failed at \\(.failed_step)" else "" end)
                        + (if .error then ": \\(.error)" else "" end),
                      ((.keys // [])[] | "- \\(.service)/\\(.key): \\(.state)"
                        + (if .new_version then ", version \\(.old_version // "?") → \\(.new_version)" else "" end)
                        + (if .revocation then ", old credential \\(.revocation)" else "" end)
                        + (if .error then " — \\(.error)" else "" end)),
                      ((.needs_operator // [])[] | "- \\(.): not rotated, needs a person (--value-from)"),
                      (if (.keys // []) + (.needs_operator // []) == [] then "No key was due." else empty end)' \\
                      rotation-report.json
                  else
                    echo "No report was written: see the log of the rotate step."
                  fi
                } >> "$GITHUB_STEP_SUMMARY"

            - name: Remove the identity
              if: always()
              run: rm -f "$RUNNER_TEMP/ci.identity"

      """
    return ScheduleFile(name: name + ".yml", content: text)
  }

  /// The hotsecrets version and commit of `options`, checked: a version of letters, digits, dots
  /// and dashes, a commit of 40 hex digits (lower-cased).
  static func checkedBuild(_ options: GitHubActionsScheduleOptions) throws -> (version: String, commit: String) {
    let version = options.hotsecretsVersion
    guard !version.isEmpty,
      version.utf8.allSatisfy({ isAlnum($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") })
    else { throw ScheduleError.invalidVersion(version) }
    let commit = options.hotsecretsCommit.lowercased()
    guard commit.utf8.count == 40, commit.utf8.allSatisfy({ isAlnum($0) && ($0 < UInt8(ascii: "g")) }) else {
      throw ScheduleError.invalidCommit(options.hotsecretsCommit)
    }
    return (version, commit)
  }

  /// A workflow job's first steps: check out, install Swift, build hotsecrets VERSION at COMMIT
  /// (cached by commit), and write the CI identity from the secret HOTSECRETS_IDENTITY.
  static func installSteps(version: String, commit: String) -> String {
    """
          - uses: actions/checkout@v4

          - name: Install Swift
            uses: swift-actions/setup-swift@v2
            with:
              swift-version: "\(swiftVersion)"

          # Pinned by commit: a tag can be moved, a commit id cannot.
          - name: Fetch hotsecrets \(version) at \(commit.prefix(12))
            run: |
              git init -q .hotsecrets
              git -C .hotsecrets fetch -q --depth 1 https://github.com/hotrodan/hotsecrets \(commit)
              git -C .hotsecrets checkout -q FETCH_HEAD

          - name: Cache the hotsecrets build
            uses: actions/cache@v4
            with:
              path: .hotsecrets/.build-release
              key: hotsecrets-${{ runner.os }}-swift\(swiftVersion)-\(commit)

          - name: Install hotsecrets
            run: |
              sudo apt-get update -qq
              sudo apt-get install -y -qq \(aptPackages) sqlite3
              bin=$(.hotsecrets/scripts/build-release)
              echo "$(dirname "$bin")" >> "$GITHUB_PATH"

          - name: Write the CI identity (0600, outside the workspace)
            env:
              IDENTITY: ${{ secrets.HOTSECRETS_IDENTITY }}
            run: |
              umask 077
              printf '%s\\n' "$IDENTITY" > "$RUNNER_TEMP/ci.identity"
              echo "HOTSECRETS_IDENTITY=$RUNNER_TEMP/ci.identity" >> "$GITHUB_ENV"
    """
  }

  /// The header lines of a workflow whose vault is the committed file.
  private static func fileHeader(env: String, name: String) -> String {
    """
      # Copy to .github/workflows/\(name).yml in the repository that holds the encrypted vault
      # (vault/hotsecrets.db, committed) and policies/\(env).yaml. Nothing secret is ever committed: after
      # the run the workflow commits the updated vault (every value in it is encrypted) back to the branch.
      """
  }

  /// The header lines of a workflow whose vault is on PostgreSQL.
  private static func postgresHeader(env: String, name: String) -> String {
    """
      # Copy to .github/workflows/\(name).yml in the repository that holds policies/\(env).yaml. The vault is
      # on PostgreSQL (docs/team.md): the run changes it there, and commits back only the signed audit
      # checkpoints (vault/audit-checkpoints.log), which anchor the audit chain outside the database.
      """
  }

  /// After the rotation: commit the vault file (and the checkpoints) back.
  private static func fileCommitSteps(env: String) -> String {
    """
            # Also after a failure or a cancellation: the vault then holds the keys that did rotate and the
            # journal that `rotate \(env) --resume` needs; a vault left behind would still hold old credentials.
            - name: Commit the updated vault
              id: commit
              if: always() && steps.rotate.outcome != 'skipped'
              env:
                STATUS: ${{ steps.rotate.outputs.status }}
              run: |
                [ -f vault/hotsecrets.db ] || exit 0
                if [ -s vault/hotsecrets.db-wal ]; then
                  sqlite3 vault/hotsecrets.db 'PRAGMA wal_checkpoint(TRUNCATE);'
                fi
                git add vault/hotsecrets.db
                if [ -f vault/audit-checkpoints.log ]; then git add vault/audit-checkpoints.log; fi
                if git diff --cached --quiet; then echo "the vault did not change"; exit 0; fi
                case "$STATUS" in
                  0) outcome="rotated" ;;
                  1) outcome="a key failed (see the run's report)" ;;
                  2) outcome="did not start" ;;
                  *) outcome="interrupted; finish it with a resume run" ;;
                esac
                \(commitAndPush(message: "hotsecrets: rotate \(env): $outcome"))

            # The vault is encrypted, and the repository already holds it: an artifact exposes nothing more.
            - name: Keep the vault when it could not be pushed
              if: always() && steps.commit.outcome == 'failure'
              uses: actions/upload-artifact@v4
              with:
                name: vault-\(env)-not-pushed
                path: vault/hotsecrets.db
                retention-days: 14
      """
  }

  /// After the rotation: commit the audit checkpoints back (the vault itself is on PostgreSQL).
  private static func postgresCommitSteps(env: String) -> String {
    """
            # Also after a failure: the checkpoint `rotate` wrote anchors the audit head of what did rotate.
            - name: Commit the audit checkpoints
              if: always() && steps.rotate.outcome != 'skipped'
              run: |
                [ -f vault/audit-checkpoints.log ] || exit 0
                git add vault/audit-checkpoints.log
                if git diff --cached --quiet; then echo "no new checkpoint"; exit 0; fi
                \(commitAndPush(message: "hotsecrets: rotate \(env): audit checkpoint"))

      """
  }

  /// The oneshot service `hotsecrets-rotate-ENV.service` and its timer `hotsecrets-rotate-ENV.timer`.
  /// Throws `VaultError.invalidName` for a bad environment, `ScheduleError` for a bad path or user.
  public static func systemd(
    environment: String, options: SystemdScheduleOptions = .init()
  ) throws -> (service: ScheduleFile, timer: ScheduleFile) {
    let root = try checkedUnits(environment: environment, options: options)
    let env = environment
    let name = baseName(environment: env)
    let envFile = "/etc/hotsecrets/\(env).env"
    let service = """
      # Rotates the due \(env) secrets: hotsecrets \(rotateArguments(environment: env)).
      # Generated by `hotsecrets schedule \(env) --systemd`; started by \(name).timer. See docs/rotation.md.
      #
      # \(envFile) (owner root, mode 0600) holds one KEY=value a line:
      #   HOTSECRETS_IDENTITY=/etc/hotsecrets/\(env).identity  identity file, a recipient of the vault
      #                                                     (owner \(options.user), mode 0600)
      #   FLY_API_TOKEN=…          Fly.io token allowed to set the apps' secrets and update their machines
      #   GITHUB_TOKEN=…           fine-grained PAT with Secrets: write and Environments: write
      #   OPENAI_ADMIN_KEY=…       OpenAI admin key: creates and deletes the projects' service accounts
      #   SUPABASE_ACCESS_TOKEN=…  Supabase personal access token: creates and deletes API keys
      #   HOTSECRETS_VAULT=postgresql://…  only for a vault on PostgreSQL (docs/team.md); without it the
      #                            vault is \(root)/vault/hotsecrets.db
      # The JSON report is written to \(root)/rotation-report.json; progress goes to the journal:
      #   journalctl -u \(name).service
      [Unit]
      Description=hotsecrets: rotate the due \(env) secrets
      Wants=network-online.target
      After=network-online.target

      [Service]
      Type=oneshot
      User=\(options.user)
      Group=\(options.user)
      WorkingDirectory=\(root)
      EnvironmentFile=\(envFile)
      # First settle what earlier runs left live; `-`: what still waits does not stop the rotation.
      ExecStartPre=-\(options.binary) rotate \(env) --finish
      ExecStart=\(options.binary) \(rotateArguments(environment: env))
      StandardOutput=truncate:\(root)/rotation-report.json
      StandardError=journal
      # A rotation interrupted here is completed or rolled back by `hotsecrets rotate \(env) --resume`.
      TimeoutStartSec=1h
      \(serviceHardening(root: root))

      """
    let timer = """
      # Starts \(name).service on the first day of each quarter at 06:17 (the machine's time zone).
      # Generated by `hotsecrets schedule \(env) --systemd`. See docs/rotation.md.
      [Unit]
      Description=hotsecrets: quarterly rotation of the \(env) secrets

      [Timer]
      OnCalendar=\(onCalendar)
      # A run missed while the machine was off starts at the next boot.
      Persistent=true
      RandomizedDelaySec=15m

      [Install]
      WantedBy=timers.target

      """
    return (
      ScheduleFile(name: name + ".service", content: service), ScheduleFile(name: name + ".timer", content: timer)
    )
  }

  /// Checks a systemd schedule's environment, paths and user; returns the root without trailing
  /// slashes.
  static func checkedUnits(environment: String, options: SystemdScheduleOptions) throws -> String {
    try SecretAddress.validateEnvironment(environment)
    try validateUnitPath(options.root, kind: "root directory")
    try validateUnitPath(options.binary, kind: "binary")
    guard SecretAddress.isServiceName(options.user) else {
      throw VaultError.invalidName(kind: "user", name: options.user, rule: SecretAddress.serviceRule)
    }
    var root = options.root
    while root.count > 1, root.hasSuffix("/") { root.removeLast() }
    return root
  }

  /// The end of a workflow step's script that commits what it staged as the Actions bot and pushes
  /// it to the branch, rebasing once when the branch moved meanwhile: lines after the first are
  /// indented for a step's `run: |` block, so interpolate it where the script's lines begin.
  static func commitAndPush(message: String) -> String {
    [
      #"git config user.name "github-actions[bot]""#,
      #"git config user.email "41898282+github-actions[bot]@users.noreply.github.com""#,
      #"git commit -q -m "\#(message)" \"#,
      #"  -m "$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID""#,
      #"git push -q origin "HEAD:$GITHUB_REF_NAME" \"#,
      #"  || { git pull -q --rebase origin "$GITHUB_REF_NAME" && git push -q origin "HEAD:$GITHUB_REF_NAME"; }"#,
    ].joined(separator: "\n          ")
  }

  /// A service's sandbox: it may write only `root` (and its private /tmp), nothing else.
  static func serviceHardening(root: String) -> String {
    """
    UMask=0077
    NoNewPrivileges=yes
    PrivateTmp=yes
    PrivateDevices=yes
    ProtectSystem=strict
    ReadWritePaths=\(root)
    ProtectHome=yes
    ProtectKernelTunables=yes
    ProtectKernelModules=yes
    ProtectControlGroups=yes
    RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
    RestrictNamespaces=yes
    RestrictSUIDSGID=yes
    LockPersonality=yes
    CapabilityBoundingSet=
    SystemCallArchitectures=native
    """
  }

  static func isAlnum(_ c: UInt8) -> Bool {
    (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
      || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
  }
}
