/// MD5 from the system's OpenSSL `libcrypto` (libcurl's own dependency), loaded on first use.
/// Used only to compare digests Fly.io reports for app secrets (the hex MD5 of each value); MD5
/// protects nothing here.
public enum LibCrypto {
  private typealias MD5Function = @convention(c) (
    UnsafePointer<UInt8>?, Int, UnsafeMutablePointer<UInt8>?
  ) -> UnsafeMutablePointer<UInt8>?

  private static let md5Function: Result<MD5Function, DynamicLibraryError> = Result {
    () throws(DynamicLibraryError) -> MD5Function in
    let library = try DynamicLibrary.open(["libcrypto.so.3", "libcrypto.so.1.1", "libcrypto.so"], package: "libssl3")
    return try library.function("MD5", as: MD5Function.self)
  }

  /// The 16-byte MD5 digest of `bytes`.
  public static func md5(_ bytes: some Collection<UInt8>) throws(DynamicLibraryError) -> [UInt8] {
    let function = try md5Function.get()
    let input = Array(bytes)
    var digest = [UInt8](repeating: 0, count: 16)
    input.withUnsafeBufferPointer { source in
      digest.withUnsafeMutableBufferPointer { output in
        _ = function(source.baseAddress ?? UnsafePointer(output.baseAddress), source.count, output.baseAddress)
      }
    }
    return digest
  }

  /// `md5` as 32 lowercase hex characters.
  public static func md5Hex(_ bytes: some Collection<UInt8>) throws(DynamicLibraryError) -> String {
    try md5(bytes).map { byte in
      let hex = String(byte, radix: 16)
      return byte < 16 ? "0" + hex : hex
    }.joined()
  }
}
