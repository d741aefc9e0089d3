extension VaultDatabase {
  /// Checks the audit chain's numbering, links and hashes without unlocking the vault: the chain
  /// holds no secrets, so anyone with read access to the file can run this. It cannot tell a chain
  /// rewritten with recomputed hashes; `VaultSession.verifyAudit()` can.
  public func verifyAudit() throws -> AuditChain.Verification {
    try read { db in try AuditChain.verify(in: db, keys: nil) }
  }
}

extension VaultSession {
  /// Checks the audit chain including every entry's MAC: an entry written or rewritten by anyone
  /// without the data key is detected.
  public func verifyAudit() throws -> AuditChain.Verification {
    try database.read { db in try AuditChain.verify(in: db, keys: keys) }
  }
}
