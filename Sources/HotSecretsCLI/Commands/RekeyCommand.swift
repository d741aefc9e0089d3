import ArgumentParser
import HotSecretsModel
import HotSecretsOperations
import HotSecretsVault

extension HotSecrets {
  /// Replaces the vault's data key without removing anyone.
  struct RekeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "rekey",
      abstract: "Re-key the vault: a fresh data key, every value re-encrypted, every recipient re-wrapped.",
      discussion: """
        For a suspected leak of the vault file together with a key, or on a schedule. In one \
        transaction: a fresh data key; every stored ciphertext (all versions, pending rotation \
        values, the checkpoint signing key) re-encrypted; every active recipient re-wrapped from \
        its public key; every secret's current version re-authenticated. Audit entries written \
        before the re-key keep verifying, and signed checkpoints stay valid. A vault written by an \
        older hotsecrets is upgraded by its first re-key (its current versions become authenticated).

        Passphrase recipients created by an older hotsecrets can only be re-wrapped with their \
        passphrase: run `hotsecrets recipients upgrade` unlocked with each of them first (the \
        passphrase you unlock this command with is converted automatically).

        \(ExitStatus.help())
        """)
    @OptionGroup var vault: VaultOptions
    @OptionGroup var output: OutputOptions

    /// The JSON of a re-key (also printed by `recipients remove --format json`).
    struct Summary: Encodable {
      let epoch, versions, recipients, upgraded, exposed_versions: Int
      let authenticated_heads: Bool
      @NullEncoded var removed_recipient: Int64?

      init(_ report: RekeyReport, removed: Int64? = nil) {
        epoch = report.epoch
        versions = report.versions
        recipients = report.recipients
        upgraded = report.upgraded
        exposed_versions = report.exposedVersions
        authenticated_heads = report.authenticatedHeads
        removed_recipient = removed
      }
    }

    /// `epoch 2, 120 versions re-encrypted, 3 recipients re-wrapped`, plus upgrades when any.
    static func describe(_ report: RekeyReport) -> String {
      var parts = [
        "epoch \(report.epoch)", Plural.count(report.versions, "version") + " re-encrypted",
        Plural.count(report.recipients, "recipient") + " re-wrapped",
      ]
      if report.upgraded > 0 { parts.append(Plural.count(report.upgraded, "passphrase recipient") + " upgraded") }
      if report.authenticatedHeads { parts.append("current versions now authenticated") }
      return parts.joined(separator: ", ")
    }

    func run() throws {
      let (_, report) = try vault.unlock().rekey()
      try output.write(Summary(report)) { "re-keyed the vault (\(Self.describe(report)))" }
    }
  }
}
