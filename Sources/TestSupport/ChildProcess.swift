import Foundation
import SystemLibraries

#if canImport(Glibc)
  import Glibc
#endif

/// What a child process did: its exit status (or the signal that ended it) and everything it printed.
public struct ChildOutput: Sendable {
  /// The exit status; for a child ended by a signal, the signal's number (as Foundation's `Process` reports it).
  public let status: Int32
  /// The signal that ended the child, or nil when it exited.
  public let signal: Int32?
  /// Standard output (empty when it was not captured).
  public let stdout: Data
  /// Standard error (empty when it was not captured).
  public let stderr: Data
}

/// Why a child could not be started.
public enum ChildProcessError: Error, Sendable, Equatable {
  /// A pipe could not be made (errno).
  case pipe(Int32)
  /// `posix_spawn` failed (errno), e.g. ENOENT for a missing executable.
  case spawn(executable: String, errno: Int32)
}

/// A child process for tests, started with `posix_spawn` and awaited without ever blocking a Swift-concurrency
/// thread: one dedicated thread per child writes its standard input, drains its standard output and error (with
/// `poll`, so a chatty child never blocks on a full pipe), then reaps it with `waitpid` and resumes whoever awaits
/// `output()`. Tests run in parallel on a cooperative pool as wide as the machine (2 threads here) that also serves
/// the loopback fakes the child may be talking to; a test blocked in `waitUntilExit` took a pool thread away from them.
///
/// The child gets exactly the given environment and working directory, every signal at its default disposition
/// and an empty signal mask, and no descriptor but 0, 1 and 2: the test process's sockets (listening fakes) and
/// other children's pipes are not inherited, so a stopped fake really refuses connections and a pipe reaches end
/// of file when its own child exits.
public final class ChildProcess: Sendable {
  /// Where a child's standard output and error go.
  public enum Output: Sendable {
    /// Into a pipe the child's thread drains; see `ChildOutput`.
    case capture
    /// To /dev/null.
    case discard
    /// Both appended to this file (created if need be), e.g. for a server that reports its port there.
    case file(String)
    /// Standard input and output are pipes the caller talks through (`spawnConnected`); standard error is
    /// captured.
    case connected
  }

  /// A child started by `spawnConnected`: the test writes its standard input and reads its standard output
  /// (both non-blocking, close-on-exec; the test closes them), e.g. as a protocol client.
  public struct Connection: Sendable {
    public let process: ChildProcess
    /// The write end of the child's standard input.
    public let input: Int32
    /// The read end of the child's standard output.
    public let output: Int32
  }

  /// Starts `executable` as `spawn` does, with its standard input and output connected to the returned pipes.
  public static func spawnConnected(
    _ executable: String, _ arguments: [String], environment: [String: String], directory: String? = nil
  ) throws -> Connection {
    var ends: (input: Int32, output: Int32) = (-1, -1)
    let process = try spawn(executable, arguments, environment: environment, directory: directory, output: .connected) {
      ends = ($0, $1)
    }
    return Connection(process: process, input: ends.input, output: ends.output)
  }

  public let pid: pid_t
  private let state = Locked(State())

  private struct State: Sendable {
    /// Set (under the lock) once the child has exited, before it is reaped: `signal(_:)` never reaches a pid
    /// that may have been reused.
    var exited = false
    var result: ChildOutput?
    var waiters: [CheckedContinuation<ChildOutput, Never>] = []
  }

  private init(pid: pid_t) { self.pid = pid }

  /// Starts `executable` (a path; no PATH search) with `arguments`, exactly `environment`, in `directory` (the
  /// test process's own when nil). `stdin` is written to the child's standard input, which is then closed (nil:
  /// closed at once, an empty input).
  public static func spawn(
    _ executable: String, _ arguments: [String], environment: [String: String], directory: String? = nil,
    stdin: Data? = nil, output: Output = .capture
  ) throws -> ChildProcess {
    try spawn(executable, arguments, environment: environment, directory: directory, stdin: stdin, output: output) {
      _, _ in
    }
  }

  /// `spawn`; with `.connected` output, `connect` gets the parent's ends of standard input and output.
  private static func spawn(
    _ executable: String, _ arguments: [String], environment: [String: String], directory: String? = nil,
    stdin: Data? = nil, output: Output, connect: (_ input: Int32, _ output: Int32) -> Void
  ) throws -> ChildProcess {
    // Parent ends non-blocking (the child's thread polls them), all of them close-on-exec: another test's
    // child started at the same moment must not inherit them (a pipe stays open while anyone holds its write end).
    let input = try Pipe2(parentEnd: .write)
    var out: Pipe2?
    var err: Pipe2?
    do {
      switch output {
      case .capture, .connected:
        out = try Pipe2(parentEnd: .read)
        err = try Pipe2(parentEnd: .read)
      case .discard, .file: break
      }
    } catch {
      input.closeBoth()
      throw error
    }
    defer {
      // The child's ends, which only the child keeps.
      input.closeRead()
      out?.closeWrite()
      err?.closeWrite()
    }

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, input.read, 0)
    switch output {
    case .capture, .connected:
      posix_spawn_file_actions_adddup2(&actions, out!.write, 1)
      posix_spawn_file_actions_adddup2(&actions, err!.write, 2)
    case .discard:
      posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
      posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    case .file(let path):
      posix_spawn_file_actions_addopen(&actions, 1, path, O_WRONLY | O_CREAT | O_APPEND, 0o600)
      posix_spawn_file_actions_adddup2(&actions, 1, 2)
    }
    _ = LibC.shared.addCloseFrom(&actions, 3)
    if let directory { _ = LibC.shared.addChdir(&actions, directory) }

    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var all = sigset_t()
    sigfillset(&all)
    var none = sigset_t()
    sigemptyset(&none)
    posix_spawnattr_setsigdefault(&attributes, &all)
    posix_spawnattr_setsigmask(&attributes, &none)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

    let argv = [executable] + arguments
    let envp = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
    var pid: pid_t = 0
    let spawned = withCStrings(argv) { argv in
      withCStrings(envp) { envp in
        posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
      }
    }
    guard spawned == 0 else {
      input.closeWrite()
      out?.closeRead()
      err?.closeRead()
      throw ChildProcessError.spawn(executable: executable, errno: spawned)
    }
    let child = ChildProcess(pid: pid)
    var io = ChildIO(stdin: (input.write, Array(stdin ?? Data())), stdout: out?.read, stderr: err?.read)
    if case .connected = output {
      connect(input.write, out!.read)
      io.stdin = nil
      io.stdout = nil
    }
    let started = io
    let thread = Thread { child.serve(started) }
    thread.name = "child-\(pid)"
    thread.start()
    return child
  }

  /// Starts the child and awaits its end; see `spawn`.
  public static func run(
    _ executable: String, _ arguments: [String], environment: [String: String], directory: String? = nil,
    stdin: Data? = nil
  ) async throws -> ChildOutput {
    try await spawn(executable, arguments, environment: environment, directory: directory, stdin: stdin).output()
  }

  /// Waits (suspending, never blocking) until the child has exited and its output has been read to the end.
  public func output() async -> ChildOutput {
    await withCheckedContinuation { continuation in
      let ready = state.withLock { state -> ChildOutput? in
        if let result = state.result { return result }
        state.waiters.append(continuation)
        return nil
      }
      if let ready { continuation.resume(returning: ready) }
    }
  }

  /// Sends `signal` to the child if it is still running (a child that has exited is never signalled: its pid could
  /// belong to another process once reaped). Returns whether it was sent.
  @discardableResult
  public func signal(_ signal: Int32) -> Bool {
    state.withLock { state in
      guard !state.exited else { return false }
      return kill(pid, signal) == 0
    }
  }

  /// Whether the child is still running.
  public var isRunning: Bool { !state.withLock { $0.exited } }

  // MARK: - The child's thread

  private struct ChildIO {
    /// nil when the caller writes the child's input (`.connected`).
    var stdin: (fd: Int32, bytes: [UInt8])?
    var stdout: Int32?
    var stderr: Int32?
  }

  private func serve(_ io: ChildIO) {
    // A write to a child that exited without reading its input fails with EPIPE rather than killing the test
    // process: SIGPIPE is blocked on this thread, and one raised here dies with it.
    var pipeSignal = sigset_t()
    sigemptyset(&pipeSignal)
    sigaddset(&pipeSignal, SIGPIPE)
    pthread_sigmask(SIG_BLOCK, &pipeSignal, nil)

    let (stdout, stderr) = Self.pump(io)

    // Wait for the exit without reaping, mark the child exited, then reap: `signal(_:)` checks the mark under the
    // same lock, so it can only reach this child (alive, or a zombie), never a reused pid.
    var info = siginfo_t()
    while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0, errno == EINTR {}
    state.withLock { $0.exited = true }
    var status: Int32 = 0
    var reaped: pid_t
    repeat { reaped = waitpid(pid, &status, 0) } while reaped < 0 && errno == EINTR
    // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import (macros). A child reaped by someone else
    // (nothing in the tests does) has no known status: -1, never a made-up success.
    let signal = status & 0x7f
    let result = ChildOutput(
      status: reaped != pid ? -1 : signal == 0 ? (status >> 8) & 0xff : signal,
      signal: reaped == pid && signal != 0 ? signal : nil, stdout: Data(stdout), stderr: Data(stderr))
    let waiters = state.withLock { state in
      state.result = result
      defer { state.waiters = [] }
      return state.waiters
    }
    for waiter in waiters { waiter.resume(returning: result) }
  }

  /// Writes the input and reads both outputs until end of file, whichever is ready first; closes all three.
  private static func pump(_ io: ChildIO) -> (stdout: [UInt8], stderr: [UInt8]) {
    var input: Int32? = io.stdin?.fd
    let bytes = io.stdin?.bytes ?? []
    var offset = 0
    var reads: [Int32: [UInt8]] = [:]
    for fd in [io.stdout, io.stderr].compactMap({ $0 }) { reads[fd] = [] }
    var open = Set(reads.keys)
    var chunk = [UInt8](repeating: 0, count: 64 * 1024)
    if bytes.isEmpty, let fd = input {
      close(fd)
      input = nil
    }
    while input != nil || !open.isEmpty {
      var fds = open.sorted().map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
      if let input { fds.append(pollfd(fd: input, events: Int16(POLLOUT), revents: 0)) }
      let ready = poll(&fds, nfds_t(fds.count), -1)
      if ready < 0 {
        if errno == EINTR { continue }
        break
      }
      for entry in fds where entry.revents != 0 {
        if entry.fd == input {
          let written = bytes.withUnsafeBytes { raw in
            write(entry.fd, raw.baseAddress! + offset, raw.count - offset)
          }
          if written > 0 { offset += written }
          let failed = written < 0 && errno != EINTR && errno != EAGAIN
          if failed || offset == bytes.count {
            close(entry.fd)
            input = nil
          }
        } else {
          let count = read(entry.fd, &chunk, chunk.count)
          if count > 0 {
            reads[entry.fd]!.append(contentsOf: chunk[0..<count])
          } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
            close(entry.fd)
            open.remove(entry.fd)
          }
        }
      }
    }
    if let input { close(input) }
    for fd in open { close(fd) }
    return (io.stdout.flatMap { reads[$0] } ?? [], io.stderr.flatMap { reads[$0] } ?? [])
  }
}

/// A pipe made with `pipe2(O_CLOEXEC)`, the parent's end non-blocking (the child's stays blocking, as a program
/// expects), each end closed at most once.
private final class Pipe2 {
  enum End { case read, write }

  let read: Int32
  let write: Int32
  private var readOpen = true
  private var writeOpen = true

  init(parentEnd: End) throws {
    var fds: [Int32] = [-1, -1]
    guard LibC.shared.pipe2(&fds, O_CLOEXEC) == 0 else { throw ChildProcessError.pipe(errno) }
    read = fds[0]
    write = fds[1]
    let parent = parentEnd == .read ? read : write
    _ = fcntl(parent, F_SETFL, fcntl(parent, F_GETFL) | O_NONBLOCK)
  }

  func closeRead() {
    if readOpen { close(read) }
    readOpen = false
  }

  func closeWrite() {
    if writeOpen { close(write) }
    writeOpen = false
  }

  func closeBoth() {
    closeRead()
    closeWrite()
  }
}

/// Runs `body` on a new thread of its own and returns its result: for waits a test must time precisely (sleep, then
/// kill a child) or that block, which on the cooperative pool would depend on, and take from, the other tests.
public func onDedicatedThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
  await withCheckedContinuation { continuation in
    Thread.detachNewThread { continuation.resume(returning: body()) }
  }
}

/// glibc functions Swift's Glibc module does not declare (they need `_GNU_SOURCE`), looked up once.
struct LibC: Sendable {
  typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
  typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
  typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32

  /// `posix_spawn_file_actions_addclosefrom_np` (glibc 2.34): the child closes every descriptor from this one up.
  let addCloseFrom: AddCloseFrom
  /// `posix_spawn_file_actions_addchdir_np` (glibc 2.29).
  let addChdir: AddChdir
  let pipe2: Pipe2

  static let shared: LibC = {
    do {
      let libc = try DynamicLibrary.open(["libc.so.6"], package: "libc6")
      return LibC(
        addCloseFrom: try libc.function("posix_spawn_file_actions_addclosefrom_np", as: AddCloseFrom.self),
        addChdir: try libc.function("posix_spawn_file_actions_addchdir_np", as: AddChdir.self),
        pipe2: try libc.function("pipe2", as: Pipe2.self))
    } catch {
      fatalError("TestSupport.ChildProcess needs glibc 2.34 or later: \(error)")
    }
  }()
}

/// Calls `body` with a NULL-terminated C array of `strings`.
private func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
  let pointers = strings.map { strdup($0) } + [nil]
  defer { for pointer in pointers { free(pointer) } }
  return body(pointers)
}
