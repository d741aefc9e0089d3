import HotSecretsModel

/// The vault's key epoch as stored (bound by the key check): what tells a session whose keys a
/// concurrent re-key replaced apart from a store edited without the keys.
package enum KeyEpoch {
  /// Throws `rekeyedMeanwhile` when the vault was re-keyed after `keys` were unlocked.
  static func requireCurrent(_ keys: VaultKeys, tx: any StoreTransaction) throws {
    guard try tx.header.epoch() == keys.epoch else { throw VaultError.rekeyedMeanwhile }
  }

  /// `error` (an integrity error found under `keys`), unless the vault was re-keyed after `keys`
  /// were unlocked: then every MAC differs, and the truth is `rekeyedMeanwhile`.
  static func explain(_ error: VaultError, keys: VaultKeys, tx: any StoreTransaction) throws -> VaultError {
    try tx.header.epoch() == keys.epoch ? error : .rekeyedMeanwhile
  }
}
