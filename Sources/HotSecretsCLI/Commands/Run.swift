import ArgumentParser
import Foundation
import HotSecretsModel
import HotSecretsPolicy

extension HotSecrets {
  /// Runs a command with an environment's secrets as environment variables.
  struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "run",
      abstract: "Run COMMAND with ENV's secrets as environment variables (no file written).",
      discussion: """
        hotsecrets replaces itself with COMMAND (exec), so COMMAND's exit code is the exit code. \
        Each variable is named as the deploy targets name it: the policy's target_name when the \
        key has one (e.g. OPENAI_API_KEY), else its KEY, so the app sees locally what it sees in \
        production; --names vault uses the vault's KEY names. Two secrets setting one name is an \
        error before COMMAND starts (--service picks one). Secrets override variables already set. If COMMAND cannot be \
        started: exit 127 (not found) or 126 (not executable). The read is audited (the \
        command's name and the number of keys, never its arguments).

        Example: hotsecrets run prod --service openai -- ./bin/server --port 8080

        Exit codes: COMMAND's own once it started; 127 COMMAND not found; 126 not executable; 2 an \
        error before it started (cannot unlock, no vault, bad input, a name collision); 64 usage error.
        """
    ).parsedDirectly()

    @OptionGroup var vault: VaultOptions
    @Argument(help: "Environment, e.g. prod.", completion: Completions.environment) var environment: String
    @Option(name: .customLong("service"), help: ArgumentHelp("Only this service (repeatable).", valueName: "service"))
    var services: [String] = []
    @Option(help: ArgumentHelp("Variable names: 'policy' (target_name where the policy gives one) or 'vault' (KEY).", valueName: "names"))
    var names: VariableNames = .policy
    @OptionGroup var policy: PolicyOptions
    @Argument(parsing: .postTerminator, help: "The command and its arguments, after --.") var command: [String] = []

    func validate() throws {
      guard !command.isEmpty else {
        throw ValidationError("give the command after --, e.g. hotsecrets run prod -- env")
      }
    }

    func run() throws {
      try SecretAddress.validateEnvironment(environment)
      for service in services { try SecretAddress.validateService(service) }
      let session = try vault.unlock()
      try KnownEnvironment.require(environment, session: session, root: vault.root)
      let program = (command[0] as NSString).lastPathComponent
      var values = try session.environmentVariables(
        environment: environment, services: services.isEmpty ? nil : Set(services), command: program,
        names: try targetNames())
      defer { for i in values.indices { wipe(&values[i].value) } }
      for (name, value) in values {
        var bytes = value + [0]
        defer { wipe(&bytes) }
        let ok = bytes.withUnsafeBufferPointer {
          setenv(name, UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), 1) == 0
        }
        guard ok else { throw CLIError.invalidInput("cannot set \(name) in the environment") }
      }
      ProcessHardening.restoreForChild()
      var argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
      execvp(command[0], &argv)
      let reason = String(cString: strerror(errno))
      let notFound = errno == ENOENT
      StandardStreams.error("hotsecrets: error: cannot run \(command[0]): \(reason)")
      throw ExitCode(notFound ? 127 : 126)
    }

    /// service/KEY → target_name for every key the policy renames; empty with `--names vault` or
    /// when the environment has no policy file (and no --policy).
    private func targetNames() throws -> [ServiceKey: String] {
      guard names == .policy else { return [:] }
      if policy.policy == nil,
        !FileManager.default.fileExists(atPath: KnownEnvironment.policyPath(environment, root: vault.root))
      {
        return [:]
      }
      let loaded = try policy.load(environment: environment, root: vault.root)
      var result: [ServiceKey: String] = [:]
      for service in loaded.services {
        for key in service.keys {
          if let target = key.targetName { result[ServiceKey(service: service.name, key: key.name)] = target }
        }
      }
      return result
    }
  }

  /// How `run` names the variables.
  enum VariableNames: String, ExpressibleByArgument, CaseIterable {
    case policy, vault
  }
}
