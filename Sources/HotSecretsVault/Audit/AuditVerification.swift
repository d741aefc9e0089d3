import HotSecretsModel

extension VaultStore {
  /// Checks the audit chain's numbering, links and hashes without unlocking the vault: the chain
  /// holds no secrets, so anyone with read access to the file can run this. It cannot tell a chain
  /// rewritten with recomputed hashes; `VaultSession.verifyAudit()` can.
  public func verifyAudit() throws -> AuditChain.Verification {
    try read { tx in try AuditChain.verify(in: tx, keys: nil) }
  }

  /// `verifyAudit()` and the checkpoints in the file at `path` (none when it does not exist): each
  /// must be signed by the vault's signing public key (stored in the clear) and name a (seq, hash)
  /// still in the chain. Throws `VaultError.io` when the file exists but cannot be read.
  public func verifyAudit(checkpoints path: String) throws -> AuditChain.Verification {
    let lines = try AuditCheckpoints.readLines(path) ?? []
    return try read { tx in
      var result = try AuditChain.verify(in: tx, keys: nil)
      if !lines.isEmpty {
        result.include(
          try AuditCheckpoints.check(
            lines, path: path, vaultID: try Self.vaultID(in: tx), signingKey: try SigningKey.publicKey(in: tx),
            keyProblem: nil, in: tx))
      }
      return result
    }
  }

  static func vaultID(in tx: any StoreTransaction) throws -> String {
    guard let id = try tx.header.read()?.vaultID else {
      throw VaultError.corruptVault("the vault header is missing")
    }
    return id
  }
}

extension VaultSession {
  /// Checks the audit chain including every entry's MAC: an entry written or rewritten by anyone
  /// without the data key is detected.
  public func verifyAudit() throws -> AuditChain.Verification {
    try database.read { tx in try AuditChain.verify(in: tx, keys: keys) }
  }

  /// `verifyAudit()` and the checkpoints in the file at `path`, as `VaultStore.verifyAudit(checkpoints:)`
  /// does, but against the public key derived from the decrypted signing key: a public key replaced
  /// in the file (to pass off checkpoints signed by another key) is detected too.
  public func verifyAudit(checkpoints path: String) throws -> AuditChain.Verification {
    try database.read { tx in try verifyAudit(checkpoints: path, in: tx) }
  }

  /// `verifyAudit(checkpoints:)` of a copy taken when the chain ended at `seq` (a backup): the
  /// checkpoints signed later — of entries the copy cannot hold — are left out, not reported as a
  /// truncation.
  public func verifyAudit(checkpoints path: String, throughSeq seq: Int64?) throws -> AuditChain.Verification {
    try database.read { tx in try verifyAudit(checkpoints: path, in: tx, throughSeq: seq ?? 0) }
  }

  /// `verifyAudit(checkpoints:)` inside the caller's transaction; `visit` sees every entry in seq order.
  /// With `throughSeq`, only the checkpoints of entries up to that seq are checked.
  package func verifyAudit(
    checkpoints path: String, in tx: any StoreTransaction, throughSeq: Int64? = nil,
    visit: ((AuditEntry) throws -> Void)? = nil
  ) throws -> AuditChain.Verification {
    var lines = try AuditCheckpoints.readLines(path) ?? []
    if let throughSeq {
      lines = lines.filter { line in (try? AuditCheckpoint.parse(utf8: line)).map { $0.seq <= throughSeq } ?? true }
    }
    var result = try AuditChain.verify(in: tx, keys: keys, visit: visit)
    if !lines.isEmpty {
      var signingKey: [UInt8]?
      var keyProblem: String?
      if let record: SigningKeyRecord = try tx.signingKey.read() {
        do {
          signingKey = try SigningKey.open(record, keys: keys, vaultID: vaultID).publicKey
        } catch let error as VaultError {
          if case .corruptVault(let reason) = error { keyProblem = reason } else { throw error }
        }
      }
      result.include(
        try AuditCheckpoints.check(
          lines, path: path, vaultID: vaultID, signingKey: signingKey, keyProblem: keyProblem, in: tx))
    }
    return result
  }
}
