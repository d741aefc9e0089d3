import Foundation

/// A PostgreSQL vault address as a user gives it: a libpq connection URI
/// (`postgresql://user:pass@host:5432/db?sslmode=verify-full`), used as libpq reads it (the `PG*`
/// variables and service files apply), and the schema the vault lives in.
public struct PostgresURI: Sendable, Equatable {
  /// What libpq connects with, exactly as given.
  public let connectionString: String
  /// The vault's schema: `--schema`, else `search_path` in the URI's `options`, else `hotsecrets`.
  public let schema: String

  public static let defaultSchema = "hotsecrets"
  /// Schema names hotsecrets accepts: no quoting needed, nothing to escape.
  public static let schemaRule = "[a-z_][a-z0-9_]*"

  /// The host the URI names ("" for none, i.e. libpq's default: a local socket or `PGHOST`).
  var host: String {
    guard let scheme = connectionString.range(of: "://") else { return "" }
    let rest = connectionString[scheme.upperBound...]
    let authority = rest.prefix { $0 != "/" && $0 != "?" }
    let hostPart = authority.split(separator: "@", omittingEmptySubsequences: false).last ?? ""
    if hostPart.hasPrefix("[") { return String(hostPart.dropFirst().prefix { $0 != "]" }) }
    return String(hostPart.prefix { $0 != ":" && $0 != "," })
  }

  /// Whether the host is this machine: a socket path, `localhost` or a loopback address.
  var hostIsLocal: Bool {
    let host = host.removingPercentEncoding ?? host
    let environmentHost = ProcessInfo.processInfo.environment["PGHOST"] ?? ""
    let effective = host.isEmpty ? environmentHost : host
    return effective.isEmpty || effective.hasPrefix("/") || effective == "localhost" || effective.hasPrefix("127.")
      || effective == "::1"
  }

  /// What libpq connects with: the URI, with `sslmode=require` added when it names another machine
  /// and says nothing of TLS (libpq's own default, `prefer`, falls back to plain text, and would send
  /// the role's authentication and the vault's rows in clear). `sslmode=verify-full` is better still:
  /// docs/team.md.
  var connectionInfo: String {
    let saysTLS = connectionString.contains("sslmode=") || ProcessInfo.processInfo.environment["PGSSLMODE"] != nil
    guard !hostIsLocal, !saysTLS else { return connectionString }
    return connectionString + (connectionString.contains("?") ? "&" : "?") + "sslmode=require"
  }

  /// True for `postgresql://…` and `postgres://…`.
  public static func isPostgres(_ address: String) -> Bool {
    address.hasPrefix("postgresql://") || address.hasPrefix("postgres://")
  }

  /// Throws `PostgresURIError.invalidSchema` for a schema name outside `schemaRule`.
  public init(_ connectionString: String, schema: String? = nil) throws {
    self.connectionString = connectionString
    let chosen = schema ?? Self.searchPath(in: connectionString) ?? Self.defaultSchema
    guard Self.isSchemaName(chosen) else { throw PostgresURIError.invalidSchema(chosen) }
    self.schema = chosen
  }

  /// The address with any password replaced by `***`, for messages and the audit trail.
  public var redacted: String { Self.redact(connectionString) + (schema == Self.defaultSchema ? "" : " (schema \(schema))") }

  static func isSchemaName(_ name: String) -> Bool {
    guard let first = name.utf8.first, first == UInt8(ascii: "_") || (97...122).contains(first), name.utf8.count <= 63
    else { return false }
    return name.utf8.allSatisfy { $0 == UInt8(ascii: "_") || (97...122).contains($0) || (48...57).contains($0) }
  }

  /// `user:secret@` → `user:***@`, and a `password=` query parameter → `password=***`.
  static func redact(_ uri: String) -> String {
    var text = uri
    if let scheme = text.range(of: "://") {
      let rest = text[scheme.upperBound...]
      let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
      if let at = rest[..<authorityEnd].lastIndex(of: "@"),
        let colon = rest[..<at].firstIndex(of: ":")
      {
        text.replaceSubrange(text.index(after: colon)..<at, with: "***")
      }
    }
    if let range = text.range(of: "password=") {
      let end = text[range.upperBound...].firstIndex(where: { $0 == "&" || $0 == " " }) ?? text.endIndex
      text.replaceSubrange(range.upperBound..<end, with: "***")
    }
    return text
  }

  /// The schema named by `options=-c search_path=NAME` (percent-encoded) in the URI's query.
  static func searchPath(in uri: String) -> String? {
    guard let query = uri.split(separator: "?", maxSplits: 1).dropFirst().first else { return nil }
    for parameter in query.split(separator: "&") {
      let parts = parameter.split(separator: "=", maxSplits: 1)
      guard parts.count == 2, parts[0] == "options" else { continue }
      let value = String(parts[1]).removingPercentEncoding ?? String(parts[1])
      guard let range = value.range(of: "search_path=") else { continue }
      let name = value[range.upperBound...].prefix { $0 != " " && $0 != "," }
      return name.isEmpty ? nil : String(name)
    }
    return nil
  }
}

/// A PostgreSQL vault address that cannot be used.
public enum PostgresURIError: LocalizedError, Equatable {
  case invalidSchema(String)

  public var errorDescription: String? {
    switch self {
    case .invalidSchema(let name):
      "invalid schema name \"\(name)\": it must match \(PostgresURI.schemaRule) (at most 63 characters)"
    }
  }
}
