import ArgumentParser
import HotSecretsCompliance
import HotSecretsModel
import HotSecretsOperations
import HotSecretsVault
import RemoteAPIs

extension HotSecrets {
  /// The hash-chained audit trail.
  struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "audit",
      abstract: "Read and verify the audit trail.",
      subcommands: [Log.self, Verify.self, Checkpoint.self])

    struct Log: ParsableCommand {
      static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Print the audit trail (who did what to which secret, with fingerprints, never values).",
        discussion: ExitStatus.help())
      @OptionGroup var vault: VaultOptions
      @OptionGroup var output: OutputOptions
      @Option(help: "Only the newest N entries.") var limit: Int?

      struct Entry: Encodable {
        let seq: Int64
        let time: String
        let actor: Actor
        let action: String
        @NullEncoded var subject: String?
        @NullEncoded var version: Int?
        @NullEncoded var fingerprint: String?
        /// The stored detail as a JSON object (its text when it is not JSON, which only a damaged
        /// entry can be, and `audit verify` reports).
        @NullEncoded var detail: JSONValue?
        let prev_hash, hash, mac: String
        struct Actor: Encodable {
          let user: String
          @NullEncoded var recipient: String?
        }
      }

      func run() throws {
        var entries = try vault.unlock().auditEntries()
        if let limit, limit >= 0, entries.count > limit { entries = Array(entries.suffix(limit)) }
        let rows = entries.map {
          Entry(
            seq: $0.seq, time: $0.time, actor: .init(user: $0.actorUser, recipient: $0.actorRecipient),
            action: $0.action,
            subject: $0.subject, version: $0.version, fingerprint: $0.fingerprint,
            detail: $0.detail.map { JSONValue(parsing: $0) ?? .string($0) },
            prev_hash: $0.prevHash, hash: $0.hash, mac: $0.mac)
        }
        try output.write(["entries": rows]) {
          var table = TextTable("SEQ", "TIME", "USER", "RECIPIENT", "ACTION", "SUBJECT", "VERSION", "FINGERPRINT")
          for e in rows {
            table.add(
              String(e.seq), e.time, e.actor.user, e.actor.recipient ?? "-", e.action, e.subject ?? "-",
              e.version.map(String.init) ?? "-", Short.fingerprint(e.fingerprint))
          }
          return table.rendered
        }
      }
    }

    struct Verify: ParsableCommand {
      static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the audit chain and its signed checkpoints: exit 0 when intact, 1 naming the first bad one.",
        discussion: """
          Checks numbering, links and hashes, which needs no unlock (the chain holds no secrets). \
          When an identity or passphrase is given (flag or environment), every entry's MAC is \
          checked too, which also catches a chain rewritten with recomputed hashes by someone \
          without the vault's key.

          Then every line of the checkpoints file (default ROOT/vault/audit-checkpoints.log; a \
          missing file means no checkpoints): its signature must verify with the vault's signing \
          key, and the (seq, hash) it signed must still be in the chain. This detects the newest \
          entries being deleted once a checkpoint covered them, and any rewrite below a checkpoint.

          \(ExitStatus.help("the chain or a checkpoint does not verify"))
          """)
      @OptionGroup var vault: VaultOptions
      @OptionGroup var output: OutputOptions
      @Option(help: ArgumentHelp("Checkpoints file (default: ROOT/vault/audit-checkpoints.log).", valueName: "file"), completion: .file())
      var checkpoints: String?

      func run() throws {
        try output.print(try report(session: vault.unlockIfGiven()))
      }

      /// The chain's and the checkpoints' verification: with `session`, every entry's MAC too.
      func report(session: VaultSession?) throws -> CommandReport {
        let path = AuditCheckpoints.path(explicit: checkpoints, root: vault.root)
        let result = try session?.verifyAudit(checkpoints: path) ?? vault.openDatabase().verifyAudit(checkpoints: path)
        var lines: [String] = []
        if result.intact {
          lines.append(
            "audit chain intact: \(Plural.count(result.entries, "entry", "entries"))"
              + (result.headSeq.map { ", head seq \($0) hash \(Short.fingerprint(result.headHash))" } ?? "")
              + (result.authenticated
                ? " (hashes and MACs checked)"
                : " (hashes checked; give an identity or passphrase to check MACs too)"))
        } else if result.checkpointError == nil || result.reason != result.checkpointError {
          lines.append("audit chain broken at seq \(result.firstBadSeq ?? 0): \(result.reason ?? "unknown")")
        }
        if let error = result.checkpointError {
          lines.append("audit checkpoint failed: \(error) (\(Plural.count(result.checkpoints, "checkpoint")) before it verified)")
        } else {
          lines.append("checkpoints: \(result.checkpoints) verified (\(path))")
        }
        return CommandReport(
          result, summary: lines[0], exitStatus: result.intact ? ExitStatus.success : ExitStatus.checkFailed
        ) { lines.joined(separator: "\n") }
      }
    }

    struct Checkpoint: ParsableCommand {
      static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Sign the audit chain's head and append it to the checkpoints file.",
        discussion: """
          Appends one line to ROOT/vault/audit-checkpoints.log (wherever --vault points; \
          --checkpoints overrides): the head's seq and hash, the time, the vault id, the vault's \
          Ed25519 signing public key and the signature (format: docs/security.md). The file holds \
          no secret and is created 0644: commit it, so the head is anchored outside this machine \
          and `audit verify` detects the newest entries being deleted. The first checkpoint creates \
          the vault's signing key (audited as signing-key-create). The checkpoint itself is not an \
          audit entry. `rotate` writes one after every run.

          \(ExitStatus.help())
          """)
      @OptionGroup var vault: VaultOptions
      @OptionGroup var output: OutputOptions
      @Option(help: ArgumentHelp("Checkpoints file (default: ROOT/vault/audit-checkpoints.log).", valueName: "file"), completion: .file())
      var checkpoints: String?

      struct Result: Encodable {
        let seq: Int64
        let hash, time, vaultID, publicKey, signature, line, file: String
        let signingKeyCreated: Bool
        enum CodingKeys: String, CodingKey {
          case seq, hash, time, signature, line, file
          case vaultID = "vault_id"
          case publicKey = "public_key"
          case signingKeyCreated = "signing_key_created"
        }
      }

      func run() throws {
        let path = AuditCheckpoints.path(explicit: checkpoints, root: vault.root)
        let written = try AuditCheckpoints.write(session: try vault.unlock(), path: path)
        let c = written.checkpoint
        let result = Result(
          seq: c.seq, hash: c.hash, time: c.time, vaultID: c.vaultID, publicKey: c.publicKeyBase64,
          signature: c.signatureBase64, line: c.line, file: path, signingKeyCreated: written.signingKeyCreated)
        try output.write(result) {
          (written.signingKeyCreated ? "created the vault's signing key \(result.publicKey)\n" : "")
            + "checkpoint: seq \(c.seq) hash \(c.hash) appended to \(path)"
        }
      }
    }
  }
}
