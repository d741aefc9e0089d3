import ArgumentParser

extension HotSecrets {
  /// Prints a shell completion script.
  struct CompletionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "completions",
      abstract: "Print the completion script for bash, zsh or fish.",
      discussion: """
        Completes commands and flags, file paths for file options, and environments, services \\
        and keys from the vault's metadata (no unlock: names only, never a value). Install:

          bash:  hotsecrets completions bash > ~/.local/share/bash-completion/completions/hotsecrets
          zsh:   hotsecrets completions zsh > "${fpath[1]}/_hotsecrets"
          fish:  hotsecrets completions fish > ~/.config/fish/completions/hotsecrets.fish

        \\(ExitStatus.help())
        """)

    @Argument(help: "The shell: bash, zsh or fish.") var shell: CompletionShellName

    func run() throws {
      StandardStreams.output(HotSecrets.completionScript(for: shell.shell))
    }
  }

  /// The shells `completions` writes scripts for.
  enum CompletionShellName: String, ExpressibleByArgument, CaseIterable {
    case bash, zsh, fish
    var shell: CompletionShell {
      switch self {
      case .bash: .bash
      case .zsh: .zsh
      case .fish: .fish
      }
    }
  }
}
