import GRDB

/// The vault's key epoch as stored (bound by the key check): what tells a session whose keys a
/// concurrent re-key replaced apart from a store edited without the keys.
enum KeyEpoch {
  /// The stored epoch (0 for a vault never re-keyed).
  static func stored(db: Database) throws -> Int {
    try Int.fetchOne(db.cachedStatement(sql: "SELECT epoch FROM vault_meta WHERE id = 1")) ?? 0
  }

  /// Throws `rekeyedMeanwhile` when the vault was re-keyed after `keys` were unlocked.
  static func requireCurrent(_ keys: VaultKeys, db: Database) throws {
    guard try stored(db: db) == keys.epoch else { throw VaultError.rekeyedMeanwhile }
  }

  /// `error` (an integrity error found under `keys`), unless the vault was re-keyed after `keys`
  /// were unlocked: then every MAC differs, and the truth is `rekeyedMeanwhile`.
  static func explain(_ error: VaultError, keys: VaultKeys, db: Database) throws -> VaultError {
    try stored(db: db) == keys.epoch ? error : .rekeyedMeanwhile
  }
}
