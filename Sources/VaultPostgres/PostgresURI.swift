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

  /// The URI's query parameters, keys and values percent-decoded.
  var parameters: [(key: String, value: String)] {
    guard let query = connectionString.split(separator: "?", maxSplits: 1).dropFirst().first else { return [] }
    return query.split(separator: "&").map { pair in
      let parts = pair.split(separator: "=", maxSplits: 1)
      let key = String(parts[0]).removingPercentEncoding ?? String(parts[0])
      let value = parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? String(parts[1])) : ""
      return (key, value)
    }
  }

  /// The hosts the authority names (several, comma-separated, are tried in turn), percent-decoded.
  var authorityHosts: [String] {
    guard let scheme = connectionString.range(of: "://") else { return [] }
    let rest = connectionString[scheme.upperBound...]
    // As libpq reads it: the user info ends at the last '@' before the path.
    let authority = rest.prefix { $0 != "/" }
    let afterUser = authority.lastIndex(of: "@").map { authority[authority.index(after: $0)...] } ?? authority
    let hosts = afterUser.prefix { $0 != "?" }
    return hosts.split(separator: ",", omittingEmptySubsequences: false).map { entry in
      if entry.hasPrefix("[") { return String(entry.dropFirst().prefix { $0 != "]" }) }
      let name = entry.prefix { $0 != ":" }
      return String(name).removingPercentEncoding ?? String(name)
    }
  }

  /// True only when every host libpq could reach is this machine: a socket path, `localhost`, an
  /// IPv4 loopback literal or `::1`, with nothing else naming a host (a `host`, `hostaddr` or
  /// `service` parameter, `PGHOSTADDR`, `PGSERVICE`, a remote `PGHOST`). Anything unsure is remote.
  var hostIsLocal: Bool {
    let environment = ProcessInfo.processInfo.environment
    if parameters.contains(where: { ["host", "hostaddr", "service"].contains($0.key) }) { return false }
    if environment["PGHOSTADDR"] != nil || environment["PGSERVICE"] != nil { return false }
    var hosts = authorityHosts.filter { !$0.isEmpty }
    if hosts.isEmpty { hosts = (environment["PGHOST"] ?? "").split(separator: ",").map(String.init) }
    return hosts.allSatisfy(Self.isLocal)
  }

  /// A socket path, `localhost`, `::1`, or a dotted IPv4 literal in 127.0.0.0/8.
  static func isLocal(_ host: String) -> Bool {
    if host.isEmpty || host.hasPrefix("/") || host == "localhost" || host == "::1" { return true }
    let octets = host.split(separator: ".", omittingEmptySubsequences: false)
    return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
  }

  /// The `sslmode` the URI or `PGSSLMODE` asks for, if any.
  var sslmode: String? {
    parameters.last(where: { $0.key == "sslmode" })?.value ?? ProcessInfo.processInfo.environment["PGSSLMODE"]
  }

  /// What libpq connects with: the URI, with `sslmode=require` added when it may reach another
  /// machine and says nothing of TLS (libpq's own default, `prefer`, falls back to plain text and
  /// would send the role's authentication and the vault's rows in clear). Throws
  /// `PostgresURIError.plainText` for a URI that may reach another machine and asks for
  /// `disable`, `allow` or `prefer`: refused before anything is sent. `verify-full` is best
  /// (docs/team.md).
  func connectionInfo() throws -> String {
    if hostIsLocal { return connectionString }
    guard let mode = sslmode else {
      return connectionString + (connectionString.contains("?") ? "&" : "?") + "sslmode=require"
    }
    if ["disable", "allow", "prefer"].contains(mode) { throw PostgresURIError.plainText(mode: mode) }
    return connectionString
  }

  /// True for `postgresql://…` and `postgres://…`.
  public static func isPostgres(_ address: String) -> Bool {
    let scheme = address.prefix(13).lowercased()
    return scheme.hasPrefix("postgresql://") || scheme.hasPrefix("postgres://")
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

  /// `user:secret@` → `user:***@` (the user info ends at the last '@' before the path, as libpq
  /// reads it), and every `password` parameter (its key percent-decoded) → `password=***`.
  public static func redact(_ uri: String) -> String {
    var text = uri
    if let scheme = text.range(of: "://") {
      let rest = text[scheme.upperBound...]
      let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
      if let at = rest[..<authorityEnd].lastIndex(of: "@"), let colon = rest[..<at].firstIndex(of: ":") {
        text.replaceSubrange(text.index(after: colon)..<at, with: "***")
      }
    }
    // Query parameters (`&` separated) and keyword/value pairs (space separated).
    var out = ""
    var token = ""
    func flush() {
      let parts = token.split(separator: "=", maxSplits: 1)
      let key = parts.first.map { String($0).removingPercentEncoding ?? String($0) } ?? ""
      let bare = key.split(separator: "?").last.map(String.init) ?? key
      out += (parts.count == 2 && bare.lowercased() == "password") ? parts[0] + "=***" : token
      token = ""
    }
    for character in text {
      if character == "&" || character == " " {
        flush()
        out.append(character)
      } else {
        token.append(character)
      }
    }
    flush()
    return out
  }

  /// The password the URI carries (user info or `password` parameter), to scrub from libpq's messages.
  var password: String? {
    if let value = parameters.last(where: { $0.key == "password" })?.value, !value.isEmpty { return value }
    guard let scheme = connectionString.range(of: "://") else { return nil }
    let rest = connectionString[scheme.upperBound...]
    let authority = rest.prefix { $0 != "/" }
    guard let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") else { return nil }
    let raw = String(authority[authority.index(after: colon)..<at])
    return raw.isEmpty ? nil : raw
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
  /// A URI that may reach another machine asks for a mode that allows plain text.
  case plainText(mode: String)

  public var errorDescription: String? {
    switch self {
    case .plainText(let mode):
      "sslmode=\(mode) allows plain text; hotsecrets talks to a database on another machine over TLS only (sslmode=require, better verify-full)"
    case .invalidSchema(let name):
      "invalid schema name \"\(name)\": it must match \(PostgresURI.schemaRule) (at most 63 characters)"
    }
  }
}
