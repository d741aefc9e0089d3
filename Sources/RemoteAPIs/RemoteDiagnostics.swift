import Foundation

/// Where the text of an API's error answers goes. Nothing by default: the core never prints, and
/// that text must never be stored. The command line installs a handler that writes it to stderr;
/// the handler receives it already scrubbed by `SentSecrets.shared` and without control characters,
/// once per distinct message.
public enum RemoteDiagnostics {
  private static let lock = NSLock()
  nonisolated(unsafe) private static var handler: (@Sendable (String) -> Void)?
  nonisolated(unsafe) private static var reported = Set<String>()

  /// Installs (or, with nil, removes) the receiver of scrubbed API messages.
  public static func setHandler(_ newHandler: (@Sendable (String) -> Void)?) {
    lock.lock()
    defer { lock.unlock() }
    handler = newHandler
  }

  /// Passes `error`'s API message, scrubbed and prefixed with its reason, to the handler.
  public static func report(_ error: RemoteError) {
    guard let message = error.apiMessage, !message.isEmpty else { return }
    let line = RemoteText.printable(SentSecrets.shared.scrub("\(error.reason); the API said: \(message)"))
    lock.lock()
    let receiver = handler
    let fresh = receiver != nil && reported.insert(line).inserted
    lock.unlock()
    if fresh { receiver?(line) }
  }
}
