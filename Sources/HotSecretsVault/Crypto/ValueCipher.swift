import HotSecretsModel
import Sodium

/// Encrypts and decrypts secret values with XChaCha20-Poly1305, binding each ciphertext to its
/// vault, address and version through the associated data: a ciphertext copied to another row,
/// version or vault does not decrypt.
package struct ValueCipher: Sendable {
  let keys: VaultKeys
  let vaultID: String

  package struct Sealed {
    package let nonce: [UInt8]
    package let ciphertext: [UInt8]
  }

  /// `hotsecrets.value.v1`, vault ID, environment, service, key and version, NUL-separated.
  /// Built byte by byte: `verify` computes it for every value it decrypts.
  func associatedData(_ address: SecretAddress, version: Int) -> [UInt8] {
    var data = Self.associatedDataTag
    data.reserveCapacity(
      data.count + vaultID.utf8.count + address.environment.utf8.count + address.service.utf8.count
        + address.key.utf8.count + 24)
    for part in [vaultID, address.environment, address.service, address.key] {
      data.append(contentsOf: part.utf8)
      data.append(0)
    }
    data.append(contentsOf: String(version).utf8)
    return data
  }

  private static let associatedDataTag = Array("hotsecrets.value.v1\0".utf8)

  package func seal(_ value: [UInt8], for address: SecretAddress, version: Int) throws -> Sealed {
    let (nonce, ciphertext) = try XChaCha20Poly1305.seal(
      value, key: keys.valueKey, associatedData: associatedData(address, version: version))
    return Sealed(nonce: nonce, ciphertext: ciphertext)
  }

  /// Throws `VaultError.integrity` naming the address when authentication fails.
  func open(nonce: [UInt8], ciphertext: [UInt8], for address: SecretAddress, version: Int) throws -> SecureBytes {
    do {
      return try XChaCha20Poly1305.open(
        ciphertext, nonce: nonce, key: keys.valueKey, associatedData: associatedData(address, version: version))
    } catch {
      throw VaultError.integrity(subject: address.description, version: version)
    }
  }

  /// `open` into ordinary memory, for bulk reads; the caller wipes the result when done.
  package func openPlain(nonce: [UInt8], ciphertext: [UInt8], for address: SecretAddress, version: Int) throws
    -> [UInt8]
  {
    do {
      return try XChaCha20Poly1305.openPlain(
        ciphertext, nonce: nonce, key: keys.valueKey, associatedData: associatedData(address, version: version))
    } catch {
      throw VaultError.integrity(subject: address.description, version: version)
    }
  }
}
