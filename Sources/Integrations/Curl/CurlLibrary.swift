import CCurl
import Foundation
import SystemLibraries

/// libcurl's functions, from `libcurl.so.4` opened with `dlopen` on the first request (see
/// Sources/CCurl). `curl_global_init` runs once, here, before any handle exists.
struct CurlLibrary: @unchecked Sendable {
  typealias EasyInit = @convention(c) () -> UnsafeMutableRawPointer?
  typealias EasyHandleFunction = @convention(c) (UnsafeMutableRawPointer?) -> Void
  typealias EasyPerform = @convention(c) (UnsafeMutableRawPointer?) -> CURLcode
  typealias GlobalInit = @convention(c) (Int) -> CURLcode
  typealias ListAppend = @convention(c) (UnsafeMutablePointer<curl_slist>?, UnsafePointer<CChar>?) ->
    UnsafeMutablePointer<curl_slist>?
  typealias ListFree = @convention(c) (UnsafeMutablePointer<curl_slist>?) -> Void

  let easyInit: EasyInit
  let easyCleanup: EasyHandleFunction
  let easyReset: EasyHandleFunction
  let easyPerform: EasyPerform
  /// `curl_easy_setopt` and `curl_easy_getinfo`, called through the typed trampolines of shim.h.
  let setopt: UnsafeMutableRawPointer
  let getinfo: UnsafeMutableRawPointer
  let listAppend: ListAppend
  let listFree: ListFree

  /// The loaded library, or why it could not be loaded.
  static let shared: Result<CurlLibrary, DynamicLibraryError> = Result { () throws(DynamicLibraryError) in
    try load()
  }

  private static func load() throws(DynamicLibraryError) -> CurlLibrary {
    let library = try DynamicLibrary.open(["libcurl.so.4", "libcurl.so"], package: "libcurl4")
    let globalInit = try library.function("curl_global_init", as: GlobalInit.self)
    let curl = CurlLibrary(
      easyInit: try library.function("curl_easy_init", as: EasyInit.self),
      easyCleanup: try library.function("curl_easy_cleanup", as: EasyHandleFunction.self),
      easyReset: try library.function("curl_easy_reset", as: EasyHandleFunction.self),
      easyPerform: try library.function("curl_easy_perform", as: EasyPerform.self),
      setopt: try library.address(of: "curl_easy_setopt"),
      getinfo: try library.address(of: "curl_easy_getinfo"),
      listAppend: try library.function("curl_slist_append", as: ListAppend.self),
      listFree: try library.function("curl_slist_free_all", as: ListFree.self))
    _ = globalInit(Int(CURL_GLOBAL_DEFAULT))
    return curl
  }
}

/// Easy handles kept between requests: a handle keeps its connections (and TLS sessions) open,
/// so the next request to the same host reuses them. A handle is used by one request at a time.
final class CurlHandlePool: @unchecked Sendable {
  static let shared = CurlHandlePool()
  /// Idle handles kept at most (GitHub requests run 4 at a time, plus targets in parallel).
  private let capacity = 8
  private let lock = NSLock()
  private var idle: [UnsafeMutableRawPointer] = []

  /// An idle handle, or a new one; nil when libcurl cannot make one.
  func take(_ curl: CurlLibrary) -> UnsafeMutableRawPointer? {
    lock.lock()
    let handle = idle.popLast()
    lock.unlock()
    return handle ?? curl.easyInit()
  }

  /// Returns `handle` with its options reset (connections stay open), or frees it when the pool
  /// is full or the transfer failed in a way that may leave it unusable.
  func give(back handle: UnsafeMutableRawPointer, _ curl: CurlLibrary, reusable: Bool) {
    curl.easyReset(handle)
    lock.lock()
    let kept = reusable && idle.count < capacity
    if kept { idle.append(handle) }
    lock.unlock()
    if !kept { curl.easyCleanup(handle) }
  }
}
