import Foundation
import HotSecretsModel
import Sodium

/// Authenticates who can unlock the vault: every recipient row (id, kind, name, public key, added
/// and removed dates) and, for each removed recipient, the secret versions recorded as exposed to
/// it, MACed together under the head subkey (`vault_meta.recipients_mac`).
///
/// A keyless writer who revives a removed recipient, inserts one, swaps a public key (a re-key
/// would then wrap the new data key to it), or deletes exposure rows (offboarding evidence) makes
/// the MAC fail: re-key, `recipients add`, `recipients upgrade`, `recipients list` and every reader
/// of exposures refuse with `recipientsMismatch`. Wraps themselves are not covered: a replaced
/// wrap cannot unlock (the key check), it can only lock its recipient out.
package struct RecipientSet: Sendable {
  let keys: VaultKeys
  let vaultID: String

  /// Every recipient, checked against the stored MAC. Throws `recipientsMismatch`.
  func verified(tx: any StoreTransaction) throws -> [RecipientRecord] {
    let (records, mac) = try compute(tx: tx)
    let stored = try tx.header.recipientsMAC()
    guard let stored, stored.elementsEqual(mac) else {
      throw try KeyEpoch.explain(.recipientsMismatch, keys: keys, tx: tx)
    }
    return records
  }

  /// Recomputes and stores the MAC from the rows as they are. Must run inside the write transaction
  /// that changed a recipient or recorded exposures.
  func seal(tx: any StoreTransaction) throws {
    let (_, mac) = try compute(tx: tx)
    try tx.header.setRecipientsMAC(mac)
  }

  private func compute(tx: any StoreTransaction) throws -> ([RecipientRecord], [UInt8]) {
    let records = try tx.recipients.all()
    var exposures: [Int64: [UInt8]] = [:]
    for row in try tx.recipients.exposures() {
      exposures[row.recipientID, default: []].append(contentsOf: "\(row.secretID):\(row.version),".utf8)
    }
    var message = Array("hotsecrets.recipients.v1\0\(vaultID)\0".utf8)
    for r in records {
      for field in [
        String(r.id ?? 0), r.kind, r.name, r.publicKey ?? "", r.addedAt, r.removedAt ?? "",
      ] {
        message.append(contentsOf: field.utf8)
        message.append(0)
      }
      message.append(contentsOf: exposures[r.id ?? 0] ?? [])
      message.append(0x0A)
    }
    // Exposures of ids that have no recipient row (a deleted row) count too.
    let known = Set(records.compactMap(\.id))
    for (id, list) in exposures.sorted(by: { $0.key < $1.key }) where !known.contains(id) {
      message.append(contentsOf: "orphan \(id)\0".utf8)
      message.append(contentsOf: list)
    }
    return (records, try GenericHash.hash(message, key: keys.headKey, length: 32))
  }
}

extension VaultSession {
  /// The recipient authenticator under this session's keys.
  var recipientSet: RecipientSet { RecipientSet(keys: keys, vaultID: vaultID) }

  /// Every recipient row, checked when this vault authenticates its state (not yet for a vault
  /// from before issue 13). Throws `recipientsMismatch`.
  func allRecipients(tx: any StoreTransaction) throws -> [RecipientRecord] {
    authenticatesHeads
      ? try recipientSet.verified(tx: tx)
      : try tx.recipients.all()
  }
}
