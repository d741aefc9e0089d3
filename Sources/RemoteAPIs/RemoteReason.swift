import Foundation

/// Describes any error from a remote API in one storable line.
package enum RemoteReason {
  /// The error's reason: hotsecrets' words, never the API's (its message goes to
  /// `RemoteDiagnostics`, scrubbed, when a handler is installed).
  package static func of(_ error: Error) -> String {
    if let remote = error as? RemoteError {
      RemoteDiagnostics.report(remote)
      return remote.reason
    }
    if let localized = error as? LocalizedError, let description = localized.errorDescription { return description }
    return "request failed"
  }

  /// The error's fixed category (`http-422`, `timeout`, …; `error` for anything local).
  package static func category(of error: Error) -> String {
    (error as? RemoteError)?.category ?? "error"
  }
}
