#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A system shared library opened with `dlopen` when first needed, so that commands which never
/// use it do not pay for loading it (and its dependencies) at start-up.
public struct DynamicLibrary: @unchecked Sendable {
  /// The `dlopen` handle; never closed (the library stays loaded for the life of the process).
  private let handle: UnsafeMutableRawPointer
  /// The file name that loaded, e.g. `libcurl.so.4`.
  public let name: String

  /// Opens the first of `names` that loads. The error names the first file and the Debian
  /// package that provides it (`package`).
  public static func open(_ names: [String], package: String) throws(DynamicLibraryError) -> DynamicLibrary {
    var reason: String?
    for name in names {
      if let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) { return DynamicLibrary(handle: handle, name: name) }
      if reason == nil, let text = dlerror() { reason = String(cString: text) }
    }
    throw DynamicLibraryError(library: names.first ?? "?", symbol: nil, package: package, reason: reason)
  }

  /// The address of `symbol`; throws when the library does not export it (too old a version).
  public func address(of symbol: String) throws(DynamicLibraryError) -> UnsafeMutableRawPointer {
    guard let pointer = dlsym(handle, symbol) else {
      throw DynamicLibraryError(library: name, symbol: symbol, package: nil, reason: nil)
    }
    return pointer
  }

  /// The C function `symbol`, typed as `type` (a `@convention(c)` function type that must match the
  /// C declaration exactly; variadic C functions need a C trampoline instead).
  public func function<Function>(_ symbol: String, as type: Function.Type) throws(DynamicLibraryError) -> Function {
    unsafeBitCast(try address(of: symbol), to: type)
  }
}

/// A system library could not be loaded, or lacks a function hotsecrets needs.
public struct DynamicLibraryError: Error, Sendable, CustomStringConvertible {
  public let library: String
  public let symbol: String?
  public let package: String?
  /// What the dynamic loader said (`dlerror`), e.g. a missing dependency.
  public let reason: String?

  public var description: String {
    if let symbol { return "\(library) has no \(symbol): the installed version is too old" }
    return "cannot load \(library)" + (reason.map { ": \($0)" } ?? "")
      + (package.map { " (is it installed? apt-get install \($0))" } ?? "")
  }
}
