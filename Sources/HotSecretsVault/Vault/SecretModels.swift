import Foundation
import HotSecretsModel

/// One row of `hotsecrets list`: a secret's current version, described without its value.
public struct SecretSummary: Sendable, Equatable {
  public let address: SecretAddress
  public let version: Int
  public let createdAt: String
  public let ageDays: Int
  public let fingerprint: String
  /// Removed recipients who could have read this value (it was stored while they were recipients):
  /// only rotation takes that back. Empty for a value written after every removal.
  public var exposedTo: [Exposure] = []
}

/// One version in a secret's history.
public struct SecretVersionInfo: Sendable, Equatable {
  public let version: Int
  public let state: VersionState
  public let createdAt: String
  public let source: VersionSource
  public let fingerprint: String
}

/// What `set` did.
public enum SetOutcome: Sendable, Equatable {
  /// The secret did not exist; version 1 was written.
  case added(version: Int, fingerprint: String)
  /// A new version became current.
  case changed(version: Int, fingerprint: String)
  /// The value equals the current one; nothing was written.
  case unchanged(version: Int, fingerprint: String)
}

/// A recipient as listed: never any key material beyond the public recipient string.
public struct Recipient: Sendable, Equatable {
  public enum Kind: String, Sendable, Codable { case passphrase, x25519 }
  public let id: Int64
  public let kind: Kind
  public let name: String
  /// `hsr1…` for X25519 recipients; nil for passphrases.
  public let recipient: String?
  public let addedAt: String
  public let removedAt: String?
  /// Whether this is the recipient the current session unlocked with.
  public let isSelf: Bool
}

/// The first recipient given to `init`, or one added later.
public enum NewRecipient: Sendable {
  case passphrase(SecretBytes, KeyWrap.KDFLimits)
  case x25519(RecipientKey)
}
