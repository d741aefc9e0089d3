import Foundation
import HotSecretsModel

/// What a new passphrase must be. Only new passphrases (a vault's first recipient, an added
/// passphrase recipient) are checked: a vault made with a shorter one still unlocks with it.
public enum PassphraseRule {
  /// Characters are Unicode code points of the passphrase's UTF-8 text (bytes, when it is not UTF-8).
  public static let minimumCharacters = 12

  /// Throws `passphraseTooShort` when `passphrase` has fewer than `minimumCharacters` characters.
  /// Counts in place: the passphrase is never copied out of its secure memory.
  public static func check(_ passphrase: SecretBytes) throws {
    let characters = passphrase.withUnsafeBytes { bytes in
      // A UTF-8 continuation byte (10xxxxxx) never starts a code point.
      bytes.reduce(0) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) }
    }
    if characters < minimumCharacters { throw VaultError.passphraseTooShort(minimumCharacters: minimumCharacters) }
  }
}
