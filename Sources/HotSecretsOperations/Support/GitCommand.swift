import Foundation
import HotSecretsModel
import HotSecretsVault

/// Runs git: as an absolute path resolved once per process, with a minimal environment, so none
/// of the caller's tokens, passphrases or `HOTSECRETS_*` settings reach git or anything its
/// configuration runs.
package enum GitCommand {
  /// git as an absolute path: the first executable `git` in an absolute entry of the PATH this
  /// process started with (relative entries such as `.` are skipped: they would find a `git` in
  /// whatever folder the command runs in). Resolved once per process, so nothing that changes
  /// PATH later moves it; nil when there is none.
  package static let executable: String? = findGit(searchPath: ProcessInfo.processInfo.environment["PATH"])

  /// The first executable regular file named `git` in an absolute entry of `searchPath` (a
  /// default system path when nil).
  package static func findGit(searchPath: String?) -> String? {
    for entry in (searchPath ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") where entry.hasPrefix("/") {
      let candidate = VaultLocation.join(String(entry), "git")
      var info = stat()
      if stat(candidate, &info) == 0, info.st_mode & S_IFMT == S_IFREG, access(candidate, X_OK) == 0 {
        return candidate
      }
    }
    return nil
  }

  /// Variables passed to git, whatever else the caller's environment holds: where to find
  /// programs (PATH), the user's git configuration (HOME, XDG_CONFIG_HOME: a global excludes
  /// file changes what is ignored) and the locale. Nothing else: no token, passphrase or
  /// `HOTSECRETS_*` variable, and no `GIT_*` variable either (GIT_DIR, GIT_WORK_TREE and friends
  /// could point git at another repository; callers name the work tree with `-C`).
  package static let environmentNames: Set<String> = [
    "PATH", "HOME", "XDG_CONFIG_HOME", "LANG", "LC_ALL", "LC_CTYPE", "LC_MESSAGES",
  ]

  /// `environment` reduced to `environmentNames`.
  package static func environment(_ environment: [String: String]) -> [String: String] {
    environment.filter { environmentNames.contains($0.key) }
  }

  /// Why git could not be run.
  package struct Unavailable: Error {}

  /// Runs `git ARGUMENTS` with `input` on its stdin (written from another thread, so a git that
  /// answers while it reads cannot deadlock), giving its exit status and everything it wrote on
  /// stdout; stderr is discarded. Throws `Unavailable` when git is missing or cannot start.
  package static func run(
    _ arguments: [String], input: [UInt8] = [], environment extra: [String: String] = [:]
  ) throws -> (status: Int32, output: [UInt8]) {
    var output: [UInt8] = []
    let status = try stream(arguments, input: input, environment: extra) { fd in output = FileDescriptorIO.readAll(fd) ?? [] }
    return (status, output)
  }

  /// Runs `git ARGUMENTS` as `run` does, handing `read` git's stdout to consume as it comes;
  /// returns git's exit status once `read` is done and git has exited. git is started with
  /// `posix_spawn`: stdin and stdout are pipes, stderr is /dev/null, and no other descriptor of
  /// this process reaches it (the pipes' own ends, like the vault's, are close-on-exec).
  /// `extra` adds variables on top of `environmentNames` (e.g. the `GIT_INDEX_FILE` git gives a
  /// pre-commit hook).
  package static func stream(
    _ arguments: [String], input: [UInt8], environment extra: [String: String] = [:], read: (Int32) throws -> Void
  ) throws -> Int32 {
    guard let executable else { throw Unavailable() }
    var toGit: [Int32] = [-1, -1]
    var fromGit: [Int32] = [-1, -1]
    guard pipe(&toGit) == 0 else { throw Unavailable() }
    guard pipe(&fromGit) == 0 else {
      close(toGit[0])
      close(toGit[1])
      throw Unavailable()
    }
    for fd in toGit + fromGit { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, toGit[0], 0)
    posix_spawn_file_actions_adddup2(&actions, fromGit[1], 1)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    let envp =
      environment(ProcessInfo.processInfo.environment).merging(extra) { $1 }.sorted { $0.key < $1.key }
      .map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { for pointer in argv + envp { free(pointer) } }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
    close(toGit[0])
    close(fromGit[1])
    guard spawned == 0 else {
      close(toGit[1])
      close(fromGit[0])
      throw Unavailable()
    }
    // The input goes in from a thread of its own, so a git that answers while it reads cannot
    // deadlock. SIGPIPE is blocked on that thread: a git that exits without reading everything
    // makes the write fail with EPIPE instead of ending this process.
    let writer = toGit[1]
    let feeding = Thread {
      var pipeSignal = sigset_t()
      sigemptyset(&pipeSignal)
      sigaddset(&pipeSignal, SIGPIPE)
      pthread_sigmask(SIG_BLOCK, &pipeSignal, nil)
      FileDescriptorIO.writeAll(writer, input)
      close(writer)
    }
    feeding.start()
    var failure: Error?
    do { try read(fromGit[0]) } catch { failure = error }
    // Drain what `read` left, so git never blocks on a full pipe before exiting (it may be a
    // blob's content: zeroed).
    var rest = FileDescriptorIO.readAll(fromGit[0]) ?? []
    rest.withUnsafeMutableBytes { if let base = $0.baseAddress { _ = memset(base, 0, $0.count) } }
    close(fromGit[0])
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0, errno == EINTR {}
    if let failure { throw failure }
    // WIFEXITED / WEXITSTATUS (macros Swift does not import): a signal is reported as 128 + it.
    return status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
  }
}
