import ArgumentParser
import HotSecretsCore

extension HotSecrets {
  /// Who can unlock the vault.
  struct RecipientsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "recipients",
      abstract: "List, add and remove the recipients who can unlock the vault.",
      subcommands: [ListRecipients.self, Add.self, RemoveRecipient.self])

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
        discussion: ExitStatus.helpText)
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

          \(ExitStatus.helpText)
          """)
      @OptionGroup var vault: VaultOptions
      @Argument(help: "Recipient string from `hotsecrets identity new`.") var recipient: String?
      @Flag(help: "Add a passphrase recipient instead of an identity.") var passphrase = false
      @Option(help: ArgumentHelp("File whose first line is the new passphrase.", valueName: "file"))
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
        abstract: "Remove a recipient (by id from `recipients list`).",
        discussion: """
          The recipient's wrap of the data key is erased and the key is sealed afresh for the \
          remaining X25519 recipients. The data key itself is not changed yet: values written \
          before removal stay readable to anyone who kept an old copy of the vault file.

          \(ExitStatus.helpText)
          """)
      @OptionGroup var vault: VaultOptions
      @Argument(help: "Recipient id.") var id: Int64

      func run() throws {
        try vault.unlock().removeRecipient(id: id)
        StandardStreams.output("removed recipient \(id)")
      }
    }
  }
}
