import HotSecretsModel
import HotSecretsOperations
import HotSecretsPolicy

/// What the user can do about an error, in the CLI's words (command and flag names live here, not
/// in the core, whose errors state facts). Appended to the error's own description.
enum ErrorHints {
  static func hint(for error: Error) -> String? {
    switch error {
    case let error as VaultError: vault(error)
    case let error as RotationError: rotation(error)
    case let error as MirrorError: mirror(error)
    case let error as PolicyError where error.problem == PolicyError.noSuchFile: ", or pass --policy FILE"
    default: nil
    }
  }

  private static func vault(_ error: VaultError) -> String? {
    switch error {
    case .noVault: "; run `hotsecrets init` to create one (or pass --vault / set HOTSECRETS_VAULT)"
    case .recipientNotFound: " (see `hotsecrets recipients list`)"
    case .recipientsNeedUpgrade:
      "; run `hotsecrets recipients upgrade` unlocked with each of those passphrases (or remove those recipients), then try again"
    case .incompleteVault: ": if it holds no secrets, delete it and run `hotsecrets init` again"
    case .storage(let reason) where reason.contains("is not a hotsecrets vault; choose another schema"):
      " (--schema NAME or $HOTSECRETS_SCHEMA)"
    default: nil
    }
  }

  private static func rotation(_ error: RotationError) -> String? {
    switch error {
    case .nothingSelected: ": name keys as SERVICE/KEY, or use --due to take those near or past their max age"
    case .needsOperatorValue: ": give the new value with --value-from FILE (or - for stdin)"
    case .unfinished(let environment, _, _, _, _): ": run hotsecrets rotate \(environment) --resume"
    case .keyInUnfinishedRun(_, let environment, _, _): ": run hotsecrets rotate \(environment) --resume first"
    default: nil
    }
  }

  private static func mirror(_ error: MirrorError) -> String? {
    switch error {
    case .noFolder: " (give --from DIR, or create DIR/<service>/<env>.env files)"
    case .notIgnoredByGit: ", or render with --to outside the repository"
    case .noFiles: " (wrong --from or environment?)"
    case .keyCollision: "; choose with --service, or map them apart with target_name in the policy"
    default: nil
    }
  }
}
