import ArgumentParser
import HotSecretsModel
import HotSecretsOperations

extension HotSecrets {
  /// Writes the working copies from the vault.
  struct Render: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "render",
      abstract: "Write DIR/<service>/ENV.env from the vault (atomic, 0600; unchanged files untouched).",
      discussion: """
        Refuses to write into a git work tree unless git ignores the files. The read of the \
        values is recorded in the audit trail.

        The folder's base (.hotsecrets-base-ENV.env, written by import and render) says which \
        side changed each key since the files last matched the vault. A file whose keys changed \
        since then (edited, added or removed in the file) is not overwritten: render refuses \
        (exit 1, nothing written) and names the keys, unless --take vault (or --force).

        \(ExitStatus.help("refused: a change in the files would be overwritten"))
        """
    ).parsedDirectly()

    @OptionGroup var vault: VaultOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "Environment, e.g. prod.", completion: Completions.environment) var environment: String
    @Option(help: ArgumentHelp("Folder of service folders (default: ROOT/vault/occ).", valueName: "dir"), completion: .directory)
    var to: String?
    @Option(
      help: ArgumentHelp("'vault': overwrite the files' changes since the base with the vault's values.", valueName: "side"))
    var take: TakeSide?
    @Flag(help: "Same as --take vault.") var force = false

    func validate() throws {
      if take == .file {
        throw ValidationError(
          "render writes the vault's values; to keep the files' values run `hotsecrets import \(environment)`")
      }
    }

    struct Report: Encodable {
      let environment: String
      let written, unchanged, tightened: [String]
      let keys: Int
    }

    func run() throws {
      try SecretAddress.validateEnvironment(environment)
      let folder = MirrorFolder.resolve(to, root: vault.root)
      let session = try vault.unlock()
      try KnownEnvironment.require(environment, session: session, root: vault.root)
      let result: RenderReport
      do {
        result = try session.renderMirror(
          environment: environment, directory: folder, header: Self.fileHeader(environment: environment),
          take: force || take == .vault ? .vault : .refuse)
      } catch MirrorError.conflict(_, let keys) {
        try MirrorWords.reportConflicts(keys, direction: .toFiles, environment: environment, output: output)
        throw ExitCode(ExitStatus.checkFailed)
      }
      if let warning = result.baseWarning { StandardStreams.warning("\(warning)") }
      try output.write(
        Report(
          environment: environment, written: result.written, unchanged: result.unchanged, tightened: result.tightened,
          keys: result.keys)
      ) {
        var lines = result.written.map { "  wrote \($0)" }
        lines += result.tightened.map { "  chmod \($0) (was readable by other users)" }
        lines.append(
          "render \(environment): \(Plural.count(result.keys, "key")), \(Plural.count(result.written.count, "file")) written, \(result.unchanged.count) unchanged"
        )
        return lines.joined(separator: "\n")
      }
    }

    /// The comment heading every rendered file.
    static func fileHeader(environment: String) -> String {
      "Rendered by hotsecrets from the vault (\(environment)). Plaintext secrets: keep this file out of git.\nEdit, then run `hotsecrets import \(environment)` to store the change."
    }
  }
}
