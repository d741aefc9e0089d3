/// Where a version stands in its secret's life. `current` is what is served; `previous` is the
/// one before it (kept for rollback); older versions are `retired`; `removed` versions belong to a
/// secret deleted with `rm` (ciphertext erased, number kept). Rotation adds `pending` (minted, not
/// yet promoted) and `failed` (a rotation that rolled back).
public enum VersionState: String, Sendable, Codable, CaseIterable {
  case current, previous, pending, failed, retired, removed
}

/// How a version entered the store.
public enum VersionSource: String, Sendable, Codable, CaseIterable {
  case set, `import`, rotate
}
