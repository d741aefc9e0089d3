import Foundation

/// Everything that can go wrong in the core. Each message is one lowercase sentence that names
/// files, environments, services and keys, but never a secret value.
public enum VaultError: LocalizedError, Equatable, Sendable {
  case noVault(path: String)
  case vaultExists(path: String)
  case cannotUnlock
  case integrity(subject: String, version: Int)
  case corruptVault(String)
  case invalidName(kind: String, name: String, rule: String)
  case secretNotFound(subject: String)
  case busy(seconds: Double)
  case storage(String)
  case io(path: String, reason: String)
  case invalidIdentity(source: String, reason: String)
  case invalidRecipient(reason: String)
  case recipientNotFound(id: Int64)
  case lastRecipient
  case invalidValue(subject: String, reason: String)
  /// A value longer than `SecretValueLimit.maximumBytes`; nothing was stored.
  case valueTooLarge(subject: String, maximumBytes: Int)
  /// A new passphrase shorter than `PassphraseRule.minimumCharacters`.
  case passphraseTooShort(minimumCharacters: Int)
  case weakKeyDerivation(opsLimit: UInt64, memLimitMiB: Int)
  case unsupportedVaultFormat(found: Int, supported: Int)
  /// A secret's current state does not match its authenticated head.
  case headMismatch(subject: String)
  /// An environment's set of secrets does not match its authenticated digest.
  case environmentMismatch(environment: String)
  /// The recipients, or the exposures recorded for removed ones, do not match their MAC.
  case recipientsMismatch
  /// Passphrase recipients from before issue 13 that cannot be re-wrapped without their passphrase.
  case recipientsNeedUpgrade([String])
  /// The vault was re-keyed after this session unlocked it.
  case rekeyedMeanwhile
  /// A file or schema with the store's tables but no vault header: a creation that was interrupted,
  /// or something that never was a vault.
  case incompleteVault(path: String)

  public var errorDescription: String? {
    switch self {
    case .noVault(let path):
      "no vault at \(path)"
    case .vaultExists(let path):
      "a vault already exists at \(path); refusing to touch it"
    case .cannotUnlock:
      "cannot unlock: wrong passphrase or identity"
    case .integrity(let subject, let version):
      "integrity check failed for \(subject) version \(version): the stored ciphertext was altered or moved from another row"
    case .corruptVault(let reason):
      "the vault is damaged: \(reason)"
    case .invalidName(let kind, let name, let rule):
      "invalid \(kind) name \"\(name)\": it must match \(rule)"
    case .secretNotFound(let subject):
      subject.hasSuffix("/*") ? "no secrets match \(subject)" : "no secret \(subject)"
    case .busy(let seconds):
      "vault is busy: another hotsecrets process held it for more than \(Self.format(seconds)) s; try again"
    case .storage(let reason):
      "vault storage error: \(reason)"
    case .io(let path, let reason):
      "\(path): \(reason)"
    case .invalidIdentity(let source, let reason):
      "invalid identity \(source): \(reason)"
    case .invalidRecipient(let reason):
      "invalid recipient: \(reason)"
    case .recipientNotFound(let id):
      "no active recipient with id \(id)"
    case .lastRecipient:
      "cannot remove the last recipient: nobody could unlock the vault any more"
    case .invalidValue(let subject, let reason):
      "invalid value for \(subject): \(reason)"
    case .valueTooLarge(let subject, let maximum):
      "the value of \(subject) is too large: a value may hold at most \(maximum / 1024) KiB (\(maximum) bytes); nothing was stored"
    case .passphraseTooShort(let minimum):
      "a new passphrase must have at least \(minimum) characters"
    case .weakKeyDerivation(let ops, let mem):
      "passphrase key derivation limits too low (opslimit \(ops), memlimit \(mem) MiB); minimum is opslimit 3, memlimit 64 MiB"
    case .headMismatch(let subject):
      "integrity check failed for \(subject): its current version or state is not the one the vault recorded (the vault was edited by someone without its key)"
    case .environmentMismatch(let environment):
      "integrity check failed for environment \(environment): its set of secrets is not the one the vault recorded (a secret was deleted or added without the vault's key)"
    case .recipientsMismatch:
      "integrity check failed for the recipients: the list of recipients, or of the versions a removed recipient could read, is not the one the vault recorded (edited without the vault's key)"
    case .recipientsNeedUpgrade(let names):
      "cannot re-key: \(names.joined(separator: ", ")) \(names.count == 1 ? "is a passphrase recipient" : "are passphrase recipients") from an older hotsecrets, whose wrap only \(names.count == 1 ? "its" : "their") passphrase can rewrite; nothing was changed"
    case .incompleteVault(let path):
      "\(path) is not a hotsecrets vault, or its creation was interrupted"
    case .rekeyedMeanwhile:
      "the vault was re-keyed by another process after this one unlocked it; nothing was written: run the command again"
    case .unsupportedVaultFormat(let found, let supported):
      "the vault was written by a newer hotsecrets (format \(found), this one reads up to \(supported)); upgrade hotsecrets"
    }
  }

  private static func format(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? String(Int(seconds)) : String(format: "%.1f", seconds)
  }
}
