import Foundation
import HotSecretsModel
import HotSecretsVault
import Sodium

/// How a stored value appeared where it was found.
public enum LeakEncoding: String, Sendable, CaseIterable {
  /// The value's exact bytes.
  case exact
  /// Base64 of the value (RFC 4648 §4), with or without padding.
  case base64
  /// URL-safe base64 of the value (RFC 4648 §5), with or without padding.
  case base64url
  /// The value percent-encoded (every byte but A-Z a-z 0-9 - . _ ~ as %XX).
  case url
}

/// One place a stored value was found. Never holds the value.
public struct LeakFinding: Sendable, Equatable {
  /// The file's path (relative to the scanned root when under it), or the path in a commit.
  public let path: String
  /// 1-based line and byte column of the first byte.
  public let line: Int
  public let column: Int
  public let address: SecretAddress
  public let version: Int
  public let isCurrent: Bool
  public let encoding: LeakEncoding
  /// The commit where this content first appeared (`--git-history`), else nil.
  public let commit: String?
}

/// What a scan read and found.
public struct LeakScanReport: Sendable {
  public var findings: [LeakFinding] = []
  /// Files (working tree), staged files, or blobs (history) read.
  public var files = 0
  public var bytes = 0
  /// Commits walked (`--git-history`).
  public var commits = 0
  /// Paths skipped as the plaintext mirror (git-ignored files under the mirror folder).
  public var skippedMirrorFiles = 0
  /// Files and folders that could not be read, with why: the scan went on without them, so a
  /// clean result does not cover them.
  public var unreadable: [String] = []

  public var clean: Bool { findings.isEmpty }
}

/// Why a scan could not run.
public enum LeakScanError: Error, LocalizedError, Equatable {
  case gitFailed(command: String)
  case unreadable(path: String, reason: String)
  /// A pre-commit hook that is not hotsecrets' own is in the way.
  case foreignHook(path: String)

  public var errorDescription: String? {
    switch self {
    case .gitFailed(let command): "git \(command) failed (is git installed, and is this a repository with commits?)"
    case .unreadable(let path, let reason): "\(path): \(reason)"
    case .foreignHook(let path): "\(path) exists and is not hotsecrets' hook"
    }
  }
}

/// Finds stored values in files, in what is staged for commit, and in every blob of a repository's
/// history: exact bytes, and the same value base64- and URL-encoded. Matching is exact, so every
/// finding is a real copy of a value. The values and every table derived from them stay in secure
/// memory (`ValueMatcher`) and are zeroed when the scanner goes away.
public final class LeakScanner: @unchecked Sendable {
  private let matcher: ValueMatcher
  /// For each pattern: the stored value it comes from, and the encoding.
  private let owners: [(value: Int, encoding: LeakEncoding)]
  private let values: [(address: SecretAddress, version: Int, isCurrent: Bool)]
  /// Current values not looked for: a string under `ValueMatcher.window` bytes occurs by chance.
  public let tooShort: [SecretAddress]

  /// A scanner for `values`: each one's exact bytes, base64 and URL-safe base64 (unpadded, so
  /// padded copies match too), and percent-encoding when it differs from the value.
  public init(values: [StoredValue]) throws {
    var patterns: [SecretBytes] = []
    var owners: [(Int, LeakEncoding)] = []
    var short: [SecretAddress] = []
    for (index, stored) in values.enumerated() {
      guard stored.value.count >= ValueMatcher.window else {
        if stored.isCurrent { short.append(stored.address) }
        continue
      }
      patterns.append(stored.value)
      owners.append((index, .exact))
      patterns.append(try Base64.encode(stored.value, variant: .standardNoPadding))
      owners.append((index, .base64))
      let urlSafe = try Base64.encode(stored.value, variant: .urlSafeNoPadding)
      if !urlSafe.constantTimeEquals(patterns[patterns.count - 1]) {
        patterns.append(urlSafe)
        owners.append((index, .base64url))
      }
      if let encoded = try Self.percentEncoded(stored.value) {
        patterns.append(encoded)
        owners.append((index, .url))
        if let lower = try Self.percentEncoded(stored.value, lowercase: true), !lower.constantTimeEquals(encoded) {
          patterns.append(lower)
          owners.append((index, .url))
        }
      }
    }
    matcher = try ValueMatcher(patterns: patterns)
    self.owners = owners
    self.values = values.map { ($0.address, $0.version, $0.isCurrent) }
    tooShort = short
  }

  /// `value` percent-encoded into secure memory (upper- or lower-case hex), or nil when encoding
  /// changes nothing.
  static func percentEncoded(_ value: SecretBytes, lowercase: Bool = false) throws -> SecretBytes? {
    let unreserved = { (b: UInt8) in
      (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x2D || b == 0x2E
        || b == 0x5F || b == 0x7E
    }
    let escaped = value.withUnsafeBytes { bytes in
      var count = 0
      for b in bytes where !unreserved(b) { count += 1 }
      return count
    }
    guard escaped > 0 else { return nil }
    let out = try SecretBytes(count: value.count + 2 * escaped)
    let hex = Array((lowercase ? "0123456789abcdef" : "0123456789ABCDEF").utf8)
    value.withUnsafeBytes { input in
      out.withUnsafeMutableBytes { output in
        var j = 0
        for b in input {
          if unreserved(b) {
            output[j] = b
            j += 1
          } else {
            output[j] = 0x25
            output[j + 1] = hex[Int(b >> 4)]
            output[j + 2] = hex[Int(b & 15)]
            j += 3
          }
        }
      }
    }
    return out
  }

  /// Where line counting stands in one file read in pieces: the line number and absolute offset of
  /// the line's start at absolute offset `position`.
  struct LineCursor {
    var line = 1
    var lineStart = 0
    var position = 0

    /// Moves to absolute offset `target`, counting the newlines of `bytes` (which start at
    /// absolute offset `base`) on the way.
    mutating func advance(to target: Int, in bytes: UnsafeRawBufferPointer, base: Int) {
      while position < target {
        if bytes[position - base] == 0x0A {
          line += 1
          lineStart = position + 1
        }
        position += 1
      }
    }
  }

  /// The findings in `bytes`, reported under `path` (and `commit`). For a file read in pieces,
  /// `bytes` starts at absolute offset `base`, its first `carried` bytes were the end of the
  /// previous piece (a match lying wholly in them was reported then), and `cursor` carries the
  /// line count from piece to piece.
  func findings(
    in bytes: UnsafeRawBufferPointer, path: String, commit: String? = nil, base: Int = 0, carried: Int = 0,
    cursor: inout LineCursor
  ) -> [LeakFinding] {
    var hits: [(pattern: Int, offset: Int)] = []
    matcher.matches(in: bytes) { pattern, offset in
      if offset + self.matcher.length(of: pattern) > carried { hits.append((pattern, offset)) }
    }
    var result: [LeakFinding] = []
    // Lines and columns, counted once up to each hit (hits come in offset order).
    for hit in hits {
      cursor.advance(to: base + hit.offset, in: bytes, base: base)
      let owner = owners[hit.pattern]
      let value = values[owner.value]
      result.append(
        LeakFinding(
          path: path, line: cursor.line, column: base + hit.offset - cursor.lineStart + 1, address: value.address,
          version: value.version, isCurrent: value.isCurrent, encoding: owner.encoding, commit: commit))
    }
    return result
  }

  /// The findings in `bytes`, one whole file or blob, reported under `path` (and `commit`).
  func findings(in bytes: UnsafeRawBufferPointer, path: String, commit: String? = nil) -> [LeakFinding] {
    var cursor = LineCursor()
    return findings(in: bytes, path: path, commit: commit, cursor: &cursor)
  }

  // MARK: - The working tree

  /// The git work tree `path` is in (the nearest folder at or above it holding `.git`), or nil.
  public static func gitWorkTree(containing path: String) -> String? {
    GitIgnoreGuard.enclosingWorkTree(of: path)
  }

  /// The files under ROOT/vault/occ that git ignores — the plaintext mirror, which holds the values
  /// by design — as absolute paths; all of them when ROOT is not in a git work tree. A mirror file
  /// git does not ignore is not in this set: it would be committed, and is scanned.
  public static func ignoredMirrorFiles(root: String) throws -> Set<String> {
    let folder = VaultLocation.join(root, "vault/occ")
    guard let enumerator = FileManager.default.enumerator(atPath: folder) else { return [] }
    var files: [String] = []
    while let name = enumerator.nextObject() as? String {
      let path = VaultLocation.join(folder, name)
      var info = stat()
      if lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG { files.append(path) }
    }
    let unignored = Set(try GitIgnoreGuard.unignored(files, near: folder))
    return Set(files.filter { !unignored.contains($0) }.map(GitIgnoreGuard.absolutePath))
  }

  /// Every regular file under `paths` (files or folders; symbolic links are not followed), but
  /// `.git` folders and the files in `skipping` (absolute paths). Paths under `root` are reported
  /// relative to it.
  public func scanFiles(_ paths: [String], root: String, skipping: Set<String>) throws -> LeakScanReport {
    let skip = { (path: String) in !skipping.isEmpty && skipping.contains(GitIgnoreGuard.absolutePath(path)) }
    var report = LeakScanReport()
    var buffer = [UInt8](repeating: 0, count: max(1 << 20, matcher.longestPattern * 4))
    let prefix = root == "." ? "" : root.hasSuffix("/") ? root : root + "/"
    func shown(_ path: String) -> String {
      var path = path
      if path.hasPrefix("./") { path.removeFirst(2) }
      return !prefix.isEmpty && path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }
    func scanFile(_ path: String) {
      if skip(path) {
        report.skippedMirrorFiles += 1
        return
      }
      // O_NONBLOCK: a file swapped for a FIFO meanwhile cannot block the scan; only a regular
      // file is read.
      let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
      guard fd >= 0 else {
        report.unreadable.append("\(shown(path)): \(String(cString: strerror(errno)))")
        return
      }
      defer { close(fd) }
      var info = stat()
      guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
        report.unreadable.append("\(shown(path)): not a regular file")
        return
      }
      let size = Int(info.st_size)
      report.files += 1
      report.bytes += size
      guard size >= ValueMatcher.window else { return }
      // Streamed through one buffer, each piece overlapping the last by the longest pattern less
      // one byte (a file that grows or shrinks meanwhile is read as it is; nothing is mapped, so a
      // truncation cannot fault). What was read may hold a value: it is zeroed after each file.
      let overlap = max(0, matcher.longestPattern - 1)
      var cursor = LineCursor()
      var base = 0
      var carried = 0
      let name = shown(path)
      var used = 0
      defer { buffer.withUnsafeMutableBytes { _ = memset($0.baseAddress!, 0, used) } }
      while true {
        let count = buffer.withUnsafeMutableBytes {
          FileDescriptorIO.readFully(fd, into: UnsafeMutableRawBufferPointer(rebasing: $0[carried...]), count: $0.count - carried)
        }
        let filled = carried + count
        used = max(used, filled)
        buffer.withUnsafeBytes {
          report.findings += findings(
            in: UnsafeRawBufferPointer(rebasing: $0[..<filled]), path: name, base: base, carried: carried, cursor: &cursor)
        }
        if filled < buffer.count || count == 0 { break }
        let keep = min(overlap, filled)
        buffer.withUnsafeMutableBytes { raw in
          cursor.advance(to: base + filled - keep, in: UnsafeRawBufferPointer(rebasing: raw[..<filled]), base: base)
          raw.baseAddress!.copyMemory(from: raw.baseAddress! + filled - keep, byteCount: keep)
        }
        base += filled - keep
        carried = keep
      }
    }
    func walk(_ folder: String) {
      guard let directory = opendir(folder) else {
        report.unreadable.append("\(shown(folder)): \(String(cString: strerror(errno)))")
        return
      }
      defer { closedir(directory) }
      var entries: [(name: String, type: UInt8)] = []
      while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
          String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        if name == "." || name == ".." || name == ".git" { continue }
        entries.append((name, entry.pointee.d_type))
      }
      for (name, type) in entries.sorted(by: { $0.name < $1.name }) {
        let path = folder == "/" ? "/" + name : folder + "/" + name
        var kind = Int32(type)
        if kind == Int32(DT_UNKNOWN) {
          var info = stat()
          guard lstat(path, &info) == 0 else { continue }
          kind = info.st_mode & S_IFMT == S_IFDIR ? Int32(DT_DIR) : info.st_mode & S_IFMT == S_IFREG ? Int32(DT_REG) : 0
        }
        if kind == Int32(DT_DIR) {
          walk(path)
        } else if kind == Int32(DT_REG) {
          scanFile(path)
        }
      }
    }
    for path in paths {
      var info = stat()
      guard lstat(path, &info) == 0 else {
        throw LeakScanError.unreadable(path: path, reason: String(cString: strerror(errno)))
      }
      if info.st_mode & S_IFMT == S_IFDIR {
        walk(path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path)
      } else if info.st_mode & S_IFMT == S_IFREG {
        scanFile(path)
      }
    }
    return report
  }

  // MARK: - git

  /// What is staged for commit in the work tree at `workTree`: each added, copied, modified,
  /// renamed or type-changed file's staged content (the index, not the file on disk).
  public func scanStaged(workTree: String) throws -> LeakScanReport {
    var report = LeakScanReport()
    // The index a commit records: git gives a pre-commit hook its own (`commit -a`, `commit PATH`)
    // in GIT_INDEX_FILE.
    let index = ProcessInfo.processInfo.environment["GIT_INDEX_FILE"].map { ["GIT_INDEX_FILE": $0] } ?? [:]
    let (status, output) = try git(
      ["-C", workTree, "diff", "--cached", "--raw", "-z", "--no-renames", "--no-abbrev", "--diff-filter=ACMRT"],
      environment: index)
    guard status == 0 else { throw LeakScanError.gitFailed(command: "diff") }
    // ":MODE MODE OLD NEW STATUS" then the path, each NUL-terminated; read by blob id, so no path
    // (a newline in it, bytes that are not UTF-8) can confuse the request.
    var staged: [(blob: String, path: String)] = []
    let tokens = output.split(separator: 0, omittingEmptySubsequences: false)
    var i = 0
    while i + 1 < tokens.count {
      let fields = tokens[i].dropFirst().split(separator: 0x20)
      if tokens[i].first == UInt8(ascii: ":"), fields.count >= 5, String(decoding: fields[1], as: UTF8.self).hasPrefix("100") {
        staged.append((String(decoding: fields[3], as: UTF8.self), String(decoding: tokens[i + 1], as: UTF8.self)))
      }
      i += 2
    }
    try readBlobs(workTree: workTree, names: staged.map(\.blob)) { index, content in
      report.files += 1
      report.bytes += content.count
      report.findings += findings(in: content, path: staged[index].path)
    }
    return report
  }

  /// Every blob reachable from any ref, each scanned once and reported with the commit and path
  /// where it first appears (commits oldest first).
  public func scanHistory(workTree: String) throws -> LeakScanReport {
    var report = LeakScanReport()
    let (listed, commitList) = try git(["-C", workTree, "rev-list", "--all", "--reverse"])
    guard listed == 0 else { throw LeakScanError.gitFailed(command: "rev-list") }
    report.commits = commitList.split(separator: 0x0A).count
    guard report.commits > 0 else { return report }
    let (status, raw) = try git(
      // -m: a merge's changes against each parent, so a blob only a merge introduced is seen too.
      ["-C", workTree, "diff-tree", "--stdin", "--root", "-m", "-r", "--no-renames", "--raw", "--no-abbrev", "-z"],
      input: commitList)
    guard status == 0 else { throw LeakScanError.gitFailed(command: "diff-tree") }
    // Tokens: a commit id, then per changed path ":MODE MODE OLD NEW STATUS" and the path.
    var firstSeen: [(blob: String, commit: String, path: String)] = []
    var seen = Set<String>()
    var commit = ""
    let tokens = raw.split(separator: 0, omittingEmptySubsequences: true)
    var i = 0
    while i < tokens.count {
      let token = tokens[i]
      if token.first == UInt8(ascii: ":") {
        let fields = token.dropFirst().split(separator: 0x20)
        let path = i + 1 < tokens.count ? String(decoding: tokens[i + 1], as: UTF8.self) : ""
        i += 2
        guard fields.count >= 5 else { continue }
        let mode = String(decoding: fields[1], as: UTF8.self)
        let blob = String(decoding: fields[3], as: UTF8.self)
        // Regular files only (not symbolic links or submodules); a deletion has no new blob.
        guard mode.hasPrefix("100"), !blob.allSatisfy({ $0 == "0" }), seen.insert(blob).inserted else { continue }
        firstSeen.append((blob, commit, path))
      } else {
        commit = String(decoding: token, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        i += 1
      }
    }
    try readBlobs(workTree: workTree, names: firstSeen.map(\.blob)) { index, content in
      report.files += 1
      report.bytes += content.count
      report.findings += findings(in: content, path: firstSeen[index].path, commit: firstSeen[index].commit)
    }
    return report
  }

  private func git(_ arguments: [String], input: [UInt8] = [], environment: [String: String] = [:]) throws
    -> (Int32, [UInt8])
  {
    do {
      return try GitCommand.run(arguments, input: input, environment: environment)
    } catch {
      throw LeakScanError.gitFailed(command: arguments.dropFirst(2).first ?? "")
    }
  }

  /// The contents of the blobs `names` (ids), through one `git cat-file --batch`, handed to `body`
  /// one at a time with their index in `names`. A blob git cannot read is an error.
  private func readBlobs(
    workTree: String, names: [String], _ body: (Int, UnsafeRawBufferPointer) throws -> Void
  ) throws {
    guard !names.isEmpty else { return }
    var failure: Error?
    let status = try GitCommand.stream(
      ["-C", workTree, "cat-file", "--batch"], input: Array(names.joined(separator: "\n").utf8) + [0x0A]
    ) { fd in
      var reader = BufferedReader(fd: fd)
      do {
        for index in names.indices {
          guard let header = try reader.line() else { throw LeakScanError.gitFailed(command: "cat-file") }
          // "<id> <type> <size>", or "<name> missing": an object that cannot be read is an error,
          // never a clean result.
          let fields = header.split(separator: 0x20)
          guard fields.count == 3, let size = Int(String(decoding: fields[2], as: UTF8.self)) else {
            throw LeakScanError.gitFailed(command: "cat-file")
          }
          try reader.bytes(size + 1) { content in try body(index, UnsafeRawBufferPointer(rebasing: content[..<size])) }
        }
      } catch {
        failure = error
      }
    }
    if let failure { throw failure }
    guard status == 0 else { throw LeakScanError.gitFailed(command: "cat-file") }
  }
}

/// Reads lines and counted byte runs from a descriptor, through one growing buffer that is
/// zeroed when it grows and when the reader is done with it.
struct BufferedReader {
  let fd: Int32
  private var buffer = [UInt8](repeating: 0, count: 1 << 16)
  private var start = 0
  private var end = 0

  init(fd: Int32) { self.fd = fd }

  /// Reads until `count` bytes are buffered; false at end of input.
  private mutating func fill(_ count: Int) throws -> Bool {
    if start > 0, end - start < count {
      buffer.withUnsafeMutableBytes { raw in
        raw.baseAddress!.copyMemory(from: raw.baseAddress! + start, byteCount: end - start)
        _ = memset(raw.baseAddress! + (end - start), 0, start)
      }
      end -= start
      start = 0
    }
    if count > buffer.count {
      var bigger = [UInt8](repeating: 0, count: max(count, buffer.count * 2))
      bigger.withUnsafeMutableBytes { $0.copyBytes(from: buffer[..<end]) }
      buffer.withUnsafeMutableBytes { _ = memset($0.baseAddress!, 0, $0.count) }
      buffer = bigger
    }
    while end - start < count {
      let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + end, $0.count - end) }
      if n < 0, errno == EINTR { continue }
      if n < 0 { throw LeakScanError.gitFailed(command: "cat-file") }
      if n == 0 { return false }
      end += n
    }
    return true
  }

  /// The next line without its newline; nil at end of input.
  mutating func line() throws -> [UInt8]? {
    var scanned = start
    while true {
      if let newline = buffer[scanned..<end].firstIndex(of: 0x0A) {
        let line = Array(buffer[start..<newline])
        start = newline + 1
        return line
      }
      scanned = end
      let had = end - start
      guard try fill(had + 1) else { return nil }
      scanned = start + had
    }
  }

  /// The next `count` bytes, handed to `body` in place.
  mutating func bytes(_ count: Int, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
    guard try fill(count) else { throw LeakScanError.gitFailed(command: "cat-file") }
    try buffer.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[start..<(start + count)])) }
    buffer.withUnsafeMutableBytes { _ = memset($0.baseAddress! + start, 0, count) }
    start += count
  }
}
