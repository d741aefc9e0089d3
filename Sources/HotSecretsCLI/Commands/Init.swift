import ArgumentParser
import Foundation
import HotSecretsModel
import HotSecretsVault

extension HotSecrets {
  /// Creates a new vault with its first recipient.
  struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "init",
      abstract: "Create a new vault with its first recipient.",
      discussion: """
        The first recipient is an X25519 recipient (--recipient hsr1…, from `hotsecrets identity new`) \
        or a passphrase from $HOTSECRETS_PASSPHRASE, --passphrase-file, or a terminal prompt. \
        Refuses to touch an existing vault.

        \(ExitStatus.help())
        """)

    @OptionGroup var vault: VaultOptions
    @Option(
      help: ArgumentHelp(
        "Make this X25519 recipient (hsr1…) the first recipient instead of a passphrase.", valueName: "recipient"))
    var recipient: String?
    @Option(help: "A name for the first recipient.")
    var name: String?

    func run() throws {
      let path = vault.vaultDescription
      let first: NewRecipient
      if let recipient {
        first = .x25519(try RecipientKey(parsing: recipient))
      } else {
        first = .passphrase(try newPassphrase(), .standard)
      }
      let session = try VaultAccess.create(
        in: try vault.createDatabase(), firstRecipient: first, name: name, user: ProcessEnvironment.userName)
      StandardStreams.output("created vault \(path) (id \(session.vaultID))")
    }

    private func newPassphrase() throws -> SecretBytes {
      try PassphraseSource.readNew(file: vault.passphraseFile, variable: ProcessEnvironment.passphrase)
    }
  }
}
