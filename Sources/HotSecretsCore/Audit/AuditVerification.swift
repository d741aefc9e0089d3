extension VaultDatabase {
  /// Checks the audit chain without unlocking the vault: the chain holds no secrets, so anyone
  /// with read access to the file can confirm it is intact.
  public func verifyAudit() throws -> AuditChain.Verification {
    try read { db in try AuditChain.verify(in: db) }
  }
}
