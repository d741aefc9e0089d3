import Foundation
import GRDB

/// A secret's current version, with its value when it was decrypted.
struct StoredSecret: Sendable {
  let version: Int
  let createdAt: String
  let fingerprint: String
  /// Decrypted only for the names asked for; empty otherwise. In ordinary memory: wipe after use.
  var value: [UInt8]
}

extension VaultSession {
  /// Every current version of `environment`, decrypting the values of the names `decrypting`
  /// accepts. Not audited: callers that reveal values must audit the read themselves. Throws
  /// `integrity` when a ciphertext does not authenticate (values decrypted so far are wiped).
  func currentSecrets(
    environment: String, decrypting: (ServiceKey) -> Bool, db: Database
  ) throws -> [ServiceKey: StoredSecret] {
    var result: [ServiceKey: StoredSecret] = [:]
    do {
      let rows = try Row.fetchCursor(
        db,
        sql: """
          SELECT s.service, s.key, v.version, v.created_at, v.fingerprint, v.nonce, v.ciphertext
          FROM secrets s JOIN secret_versions v ON v.secret_id = s.id AND v.state = 'current'
          WHERE s.environment = ?
          """, arguments: [environment])
      while let row = try rows.next() {
        let name = ServiceKey(service: row[0], key: row[1])
        let version: Int = row[2]
        var value: [UInt8] = []
        if decrypting(name) {
          value = try cipher.openPlain(
            nonce: Array(row[5] as Data), ciphertext: Array(row[6] as Data),
            for: SecretAddress(trusted: environment, service: name.service, key: name.key), version: version)
        }
        result[name] = StoredSecret(version: version, createdAt: row[3], fingerprint: row[4], value: value)
      }
    } catch {
      for key in result.keys { wipe(&result[key]!.value) }
      throw error
    }
    return result
  }
}
