import ArgumentParser
import Foundation
import HotSecretsModel
import HotSecretsVault

extension HotSecrets {
  /// Where a vault lives.
  struct VaultCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "vault",
      abstract: "Move a vault between a file and PostgreSQL.",
      subcommands: [Copy.self])

    struct Copy: ParsableCommand {
      static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy a vault exactly, file to PostgreSQL or back (every version, recipient, audit entry).",
        discussion: """
          SRC and DST are a vault file or a postgresql:// URI (docs/team.md). Nothing is decrypted \\
          and nothing needs unlocking: the rows move as they are, ids included, so the copy is the \\
          same vault (same id, recipients, keys, audit chain). One transaction on DST: a copy that \\
          fails leaves nothing behind. DST must hold no vault. Before success is reported, every \\
          table of DST is compared with SRC (rows and digests) and DST's audit chain is verified, \\
          with the committed checkpoints (--checkpoints, default ROOT/vault/audit-checkpoints.log).

          \\(ExitStatus.help("the copy does not match the source, or its audit chain does not verify"))
          """)

      @Option(help: ArgumentHelp("The vault to copy: a file or a postgresql:// URI.", valueName: "src"), completion: .file())
      var from: String
      @Option(help: ArgumentHelp("Where to copy it: a new file or an empty PostgreSQL schema.", valueName: "dst"), completion: .file())
      var to: String
      @Option(help: ArgumentHelp("Schema of a PostgreSQL SRC (default: the URI's, else hotsecrets).", valueName: "name"))
      var fromSchema: String?
      @Option(help: ArgumentHelp("Schema of a PostgreSQL DST (default: the URI's, else hotsecrets).", valueName: "name"))
      var toSchema: String?
      @Option(help: "Project root: the default checkpoints file is ROOT/vault/audit-checkpoints.log.", completion: .directory)
      var root: String = "."
      @Option(help: ArgumentHelp("Checkpoints file DST's audit chain must match.", valueName: "file"), completion: .file())
      var checkpoints: String?
      @OptionGroup var output: OutputOptions

      struct Report: Encodable {
        let from, to: String
        let tables: [VaultCopy.TableSummary]
        let audit_entries: Int
        let checkpoints: Int
        let verified: Bool
      }

      func run() throws {
        let busy = VaultOptions.environmentBusyTimeout
        let source = try VaultOptions.store(at: from, schema: fromSchema, creating: false, busyTimeout: busy)
        let destination = try VaultOptions.store(at: to, schema: toSchema, creating: true, busyTimeout: busy)
        let copied: [VaultCopy.TableSummary]
        do {
          copied = try VaultCopy.copy(from: source, to: destination) { table, rows in
            ProgressOutput.shared.step("vault copy: \(table): \(Plural.count(rows, "row"))")
          }
        } catch {
          destination.discard()
          throw error
        }
        ProgressOutput.shared.finish()
        let again = try VaultCopy.summarize(destination)
        let path = AuditCheckpoints.path(explicit: checkpoints, root: root)
        let audit = try destination.verifyAudit(checkpoints: path)
        let matches = again == copied
        let report = Report(
          from: source.location, to: destination.location, tables: copied,
          audit_entries: audit.entries, checkpoints: audit.checkpoints, verified: matches && audit.intact)
        try output.write(report) {
          var lines = copied.map { "  \($0.table.padding(toLength: 18, withPad: " ", startingAt: 0)) \($0.rows)" }
          if !matches {
            let differing = zip(copied, again).filter { $0 != $1 }.map(\.0.table)
            lines.append("the copy does not match the source: \(differing.joined(separator: ", ")) differ")
          } else if !audit.intact {
            lines.append("the copy's audit chain does not verify: \(audit.reason ?? "broken")")
          } else {
            lines.append(
              "copied \(source.location) to \(destination.location): \(Plural.count(copied.reduce(0) { $0 + $1.rows }, "row")), "
                + "every table matches; audit chain intact (\(Plural.count(audit.entries, "entry", "entries")), "
                + "\(Plural.count(audit.checkpoints, "checkpoint")) verified)")
          }
          return lines.joined(separator: "\n")
        }
        if !report.verified { throw ExitCode(ExitStatus.checkFailed) }
      }
    }
  }
}
