import Foundation
import GRDB
import HotSecretsModel

extension SQLiteStore {
  /// Copies the vault into a new file at `path` with SQLite's online backup API: one consistent
  /// snapshot, while other processes go on reading and writing. The file is created 0600 (with its
  /// folder when missing) and refused when it exists; the copy is one self-contained file (a
  /// rollback journal, no `-wal` beside it), closed when this returns.
  public func backup(toNewFile path: String) throws {
    guard !FileManager.default.fileExists(atPath: path) else { throw VaultError.vaultExists(path: path) }
    try PathName.createFolder(of: path)
    let fd = Foundation.open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
    guard fd >= 0 else {
      throw VaultError.io(path: path, reason: "cannot create the backup file (\(String(cString: strerror(errno))))")
    }
    close(fd)
    do {
      let destination = try DatabaseQueue(path: path)
      try queue.backup(to: destination)
      try destination.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = DELETE") }
      try destination.close()
    } catch {
      try? FileManager.default.removeItem(atPath: path)
      throw Self.translate(error, busyTimeout: busyTimeout)
    }
  }
}
