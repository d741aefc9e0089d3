import Foundation

/// An exclusive lock held while a rotation (or its resume) runs: a file next to the vault, locked
/// with `flock`. The kernel drops it when the process dies, so an unfinished run whose lock is free
/// was interrupted and may be resumed.
final class RotationLock {
  private let fd: Int32

  /// Takes the lock or throws `busy` when another process holds it.
  init(vaultPath: String, environment: String) throws {
    let path = vaultPath + ".rotate-\(environment).lock"
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw VaultError.io(path: path, reason: "cannot open the rotation lock") }
    guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
      close(fd)
      throw RotationError.busy(environment: environment)
    }
  }

  deinit {
    flock(fd, LOCK_UN)
    close(fd)
  }
}
