import ArgumentParser
import HotSecretsCompliance
import HotSecretsModel
import HotSecretsOperations
import HotSecretsVault

extension HotSecrets {
  /// Who can unlock the vault.
  struct RecipientsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "recipients",
      abstract: "List, add and remove the recipients who can unlock the vault.",
      subcommands: [ListRecipients.self, Add.self, RemoveRecipient.self, Upgrade.self])

    struct Row: Encodable {
      let id: Int64
      let kind, name: String
      @NullEncoded var recipient: String?
      let added_at: String
      @NullEncoded var removed_at: String?
      let isSelf: Bool

      enum CodingKeys: String, CodingKey {
        case id, kind, name, recipient, added_at, removed_at
        case isSelf = "self"
      }
    }

    struct ListRecipients: ParsableCommand {
      static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List recipients (the one you unlocked with is marked *).",
        discussion: ExitStatus.help())
      @OptionGroup var vault: VaultOptions
      @OptionGroup var output: OutputOptions
      @Flag(help: "Include removed recipients.") var all = false

      func run() throws {
        let rows = try vault.unlock().recipients(includeRemoved: all).map {
          Row(
            id: $0.id, kind: $0.kind.rawValue, name: $0.name, recipient: $0.recipient, added_at: $0.addedAt,
            removed_at: $0.removedAt, isSelf: $0.isSelf)
        }
        try output.write(["recipients": rows]) {
          var table = TextTable("ID", "KIND", "NAME", "RECIPIENT", "ADDED", "REMOVED")
          for r in rows {
            table.add(
              (r.isSelf ? "*" : "") + String(r.id), r.kind, r.name, r.recipient ?? "-", r.added_at, r.removed_at ?? "-")
          }
          return table.rendered
        }
      }
    }

    struct Add: ParsableCommand {
      static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Let an X25519 identity (hsr1…) or another passphrase unlock the vault.",
        discussion: """
          With --passphrase, the new passphrase comes from --new-passphrase-file, \
          $HOTSECRETS_NEW_PASSPHRASE, or a terminal prompt (asked twice).

          \(ExitStatus.help())
          """)
      @OptionGroup var vault: VaultOptions
      @Argument(help: "Recipient string from `hotsecrets identity new`.") var recipient: String?
      @Flag(help: "Add a passphrase recipient instead of an identity.") var passphrase = false
      @Option(help: ArgumentHelp("File whose first line is the new passphrase.", valueName: "file"), completion: .file())
      var newPassphraseFile: String?
      @Option(help: "A name for the recipient, e.g. ci or alice.") var name: String?

      func validate() throws {
        guard (recipient != nil) != passphrase else {
          throw ValidationError("give either a recipient string (hsr1…) or --passphrase")
        }
      }

      func run() throws {
        let newRecipient: NewRecipient
        if let recipient {
          newRecipient = .x25519(try RecipientKey(parsing: recipient))
        } else {
          newRecipient = .passphrase(
            try PassphraseSource.readNew(file: newPassphraseFile, variable: ProcessEnvironment.newPassphrase), .standard
          )
        }
        let added = try vault.unlock().addRecipient(newRecipient, name: name)
        StandardStreams.output("added recipient \(added.id) (\(added.name))")
      }
    }

    struct RemoveRecipient: ParsableCommand {
      static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Remove a recipient (by id from `recipients list`) and re-key the vault.",
        discussion: """
          In one transaction: the recipient's wrap is erased, the vault is re-keyed (a fresh data \
          key; every stored ciphertext re-encrypted; every remaining recipient re-wrapped), and \
          every secret version the recipient could have read is recorded as exposed to it. Old \
          copies of the vault file (git history) cannot decrypt anything written afterwards. What \
          the recipient could already read only rotation takes back: `hotsecrets verify ENV` lists \
          the exposed current values, `hotsecrets rotate ENV --exposed` replaces them \
          (docs/security.md, "Offboarding").

          Asks for confirmation on a terminal; elsewhere needs --yes (exit 64 without it, nothing \
          changed). Removing the recipient you unlocked with needs --yes even on a terminal.

          \(ExitStatus.help("declined at the prompt"))
          """)
      @OptionGroup var vault: VaultOptions
      @OptionGroup var output: OutputOptions
      @Argument(help: "Recipient id.") var id: Int64
      @Flag(name: [.short, .long], help: "Remove without asking.") var yes = false

      func run() throws {
        let session = try vault.unlock()
        let active = try session.recipients()
        // An unknown id, or the last recipient: removeRecipient refuses, with nothing to confirm.
        if let recipient = active.first(where: { $0.id == id }), active.count > 1 {
          try Confirmation.require(
            "remove recipient \(id) (\(recipient.name)) and re-key the vault?", yes: yes,
            mustPassYes: id == session.recipientID
              ? "recipient \(id) (\(recipient.name)) is the one you unlocked with; this is you: you will lose access unless another recipient is available to you"
              : nil)
        }
        let (_, report) = try session.removeRecipient(id: id)
        try output.write(RekeyCommand.Summary(report, removed: id)) {
          """
          removed recipient \(id) and re-keyed the vault (\(RekeyCommand.describe(report)))
          \(report.exposedVersions == 1 ? "1 version was" : "\(report.exposedVersions) versions were") readable by the removed recipient: `hotsecrets verify ENV` lists the exposed current values, `hotsecrets rotate ENV --exposed` rotates them
          """
        }
      }
    }

    struct Upgrade: ParsableCommand {
      static let configuration = CommandConfiguration(
        commandName: "upgrade",
        abstract: "Convert your passphrase recipient from an older hotsecrets so others can re-key.",
        discussion: """
          A passphrase recipient created before re-keying existed holds the data key under its \
          passphrase alone, so nobody else can re-wrap it and `rekey` / `recipients remove` refuse \
          while it exists. Unlock with that passphrase and run this once: the recipient gets a key \
          pair sealed under the same passphrase. The data key does not change.

          \(ExitStatus.help())
          """)
      @OptionGroup var vault: VaultOptions

      func run() throws {
        let session = try vault.unlock()
        let upgraded = try session.upgradeOwnRecipient()
        StandardStreams.output(
          upgraded
            ? "upgraded recipient \(session.recipientID): it can now be re-wrapped by any recipient"
            : "recipient \(session.recipientID) needs no upgrade")
      }
    }
  }
}
