import Foundation
import HotSecretsModel
import HotSecretsPolicy

/// Hosts on the loopback interface: the only ones plain http may reach.
public enum LoopbackHost {
  /// Exactly `localhost` (libcurl resolves it to loopback itself), an IPv4 address in
  /// `127.0.0.0/8` in dotted-quad form, or `::1` (with or without brackets). No other name: a
  /// name such as `x.localhost` may be looked up in DNS, or resolved by a proxy.
  public static func contains(_ host: String) -> Bool {
    var name = host.lowercased()
    if name.hasPrefix("["), name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
    if name == "localhost" { return true }
    var v4 = in_addr()
    if inet_pton(AF_INET, name, &v4) == 1 { return UInt32(bigEndian: v4.s_addr) >> 24 == 127 }
    var v6 = in6_addr()
    guard inet_pton(AF_INET6, name, &v6) == 1 else { return false }
    return withUnsafeBytes(of: &v6) { $0.elementsEqual([UInt8](repeating: 0, count: 15) + [1]) }
  }
}

/// The one rule for every URL a credential is sent to: https, or plain http to a loopback host
/// (tests and local fakes). Checked before any request is made, naming the setting the URL came
/// from; the HTTP client enforces the same rule again on every request.
public enum CredentialURL {
  /// Throws `InsecureURLError` naming `setting` unless `text` is an https URL (or http to a
  /// loopback host). Text without a scheme (a Shopify shop domain) is taken as https.
  public static func check(_ text: String, setting: String) throws {
    let full = text.contains("://") ? text : "https://" + text
    guard let components = URLComponents(string: full), let host = components.host, !host.isEmpty else {
      throw InsecureURLError(setting: setting, scheme: nil, host: nil)
    }
    let scheme = components.scheme?.lowercased() ?? ""
    guard scheme == "https" || (scheme == "http" && LoopbackHost.contains(host)) else {
      throw InsecureURLError(setting: setting, scheme: scheme, host: host)
    }
  }

  /// Checks every URL a policy gives credentials to — each provider's `base_url` and `shop`, each
  /// Fly target's `health_url` — and, for Supabase services, the project URL held in the vault
  /// (`valueOf` reads it; nil when absent).
  public static func check(_ policy: Policy, valueOf: (ServiceKey) throws -> String?) throws {
    for service in policy.services {
      guard let provider = service.provider else { continue }
      for field in ["base_url", "shop", "url"] {
        if let value = provider[field], !value.isEmpty {
          try check(value, setting: "\(policy.file): services.\(service.name).provider.\(field)")
        }
      }
      if provider.kind == .supabase {
        let key = provider["url_key"] ?? "SUPABASE_URL"
        let name = service.keys.first { $0.name == key || $0.targetName == key }?.name ?? key
        if let value = try valueOf(ServiceKey(service: service.name, key: name)), !value.isEmpty {
          try check(value, setting: "the vault's \(policy.environment)/\(service.name)/\(name)")
        }
      }
    }
    for target in policy.flyTargets {
      if let url = target.healthURL {
        try check(url, setting: "\(policy.file): targets.fly[\(target.app)].health_url")
      }
    }
  }
}

/// A credential would travel in clear text (or to no host at all). Names the setting, the scheme
/// and the host, never the whole URL (it may carry a password).
public struct InsecureURLError: Error, Sendable, LocalizedError {
  public let setting: String
  public let scheme: String?
  public let host: String?

  public var errorDescription: String? {
    guard let host, let scheme else { return "\(setting) is not a valid URL" }
    return "\(setting) must be an https URL (plain http only to a loopback host such as 127.0.0.1), "
      + "not \(scheme)://\(host): refusing to send credentials there"
  }
}
