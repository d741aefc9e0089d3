import ArgumentParser
import HotSecretsCore

extension HotSecrets {
  /// The hash-chained audit trail.
  struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "audit",
      abstract: "Read and verify the audit trail.",
      subcommands: [Log.self, Verify.self])

    struct Log: ParsableCommand {
      static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Print the audit trail (who did what to which secret, with fingerprints, never values).",
        discussion: ExitStatus.helpText)
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
        @NullEncoded var detail: String?
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
            subject: $0.subject, version: $0.version, fingerprint: $0.fingerprint, detail: $0.detail,
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
        abstract: "Check the audit chain: exit 0 when intact, 1 naming the first bad entry.",
        discussion: """
          Checks numbering, links and hashes, which needs no unlock (the chain holds no secrets). \
          When an identity or passphrase is given (flag or environment), every entry's MAC is \
          checked too, which also catches a chain rewritten with recomputed hashes by someone \
          without the vault's key.

          \(ExitStatus.helpText)
          """)
      @OptionGroup var vault: VaultOptions
      @OptionGroup var output: OutputOptions

      func run() throws {
        let session = try vault.unlockIfGiven()
        let result = try session?.verifyAudit() ?? vault.openDatabase().verifyAudit()
        try output.write(result) {
          if result.intact {
            return "audit chain intact: \(result.entries) entries"
              + (result.headSeq.map { ", head seq \($0) hash \(Short.fingerprint(result.headHash))" } ?? "")
              + (result.authenticated
                ? " (hashes and MACs checked)" : " (hashes checked; give an identity or passphrase to check MACs too)")
          }
          return "audit chain broken at seq \(result.firstBadSeq ?? 0): \(result.reason ?? "unknown")"
        }
        if !result.intact { throw ExitCode(ExitStatus.checkFailed) }
      }
    }
  }
}
