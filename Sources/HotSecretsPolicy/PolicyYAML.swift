import CYAML

/// A YAML node as the policy reader needs it: scalars as their text (no implicit typing: the reader
/// interprets them), mappings in document order, and the 1-based position of every node.
final class YAMLNode {
  enum Content {
    case scalar(String)
    case mapping([(key: YAMLNode, value: YAMLNode)])
    case sequence([YAMLNode])
  }

  let content: Content
  let position: SourcePosition

  init(_ content: Content, _ position: SourcePosition) {
    self.content = content
    self.position = position
  }

  var scalar: String? {
    if case .scalar(let text) = content { text } else { nil }
  }
  var mapping: [(key: YAMLNode, value: YAMLNode)]? {
    if case .mapping(let pairs) = content { pairs } else { nil }
  }
  var sequence: [YAMLNode]? {
    if case .sequence(let items) = content { items } else { nil }
  }

  /// The value of the scalar key `key` in a mapping.
  subscript(key: String) -> YAMLNode? { mapping?.first { $0.key.scalar == key }?.value }
}

/// Builds `YAMLNode` trees from libyaml's events (the system library, through the `CYAML` module),
/// skipping what the policy does not need: tag resolution, hashable nodes, typed scalars (see
/// docs/performance.md). Tags are ignored, so `a: 1` and `!!str a: 2` in one mapping are duplicate
/// keys — the policy reader takes a field's first occurrence and relies on there being only one.
enum YAMLComposer {
  struct Failure: Error {
    let position: SourcePosition?
    let problem: String
  }

  /// The single document of `text`, or nil when it has none. Throws `Failure` for invalid YAML,
  /// more than one document, an undefined alias, or a duplicate key in a mapping.
  static func compose(_ text: String) throws -> YAMLNode? {
    // libyaml asserts a non-NULL input; an empty Array may have no storage.
    var bytes = Array(text.utf8)
    if bytes.isEmpty { bytes = [10] }
    return try bytes.withUnsafeBufferPointer { buffer in
      // libyaml keeps pointers to the buffer and to the parser itself (read_handler_data): both
      // must stay put until the parser is deleted, which `reader`'s deinit does inside this closure.
      var reader = try EventReader()
      yaml_parser_set_input_string(reader.parser, buffer.baseAddress, buffer.count)
      yaml_parser_set_encoding(reader.parser, YAML_UTF8_ENCODING)
      return try reader.document()
    }
  }

  /// Deeper than any policy (its deepest node is about 6 levels down); bounds the recursion of
  /// `node` well below what a 512 KiB thread stack holds.
  static let maxDepth = 64

  private struct EventReader: ~Copyable {
    /// On the heap: libyaml stores the parser's own address (`read_handler_data`).
    let parser: UnsafeMutablePointer<yaml_parser_t>
    var anchors: [String: YAMLNode] = [:]
    var depth = 0

    init() throws {
      parser = .allocate(capacity: 1)
      guard yaml_parser_initialize(parser) == 1 else {
        parser.deallocate()
        throw Failure(position: nil, problem: "invalid YAML: out of memory")
      }
    }

    deinit {
      yaml_parser_delete(parser)
      parser.deallocate()
    }

    /// The next event; the caller must `yaml_event_delete` it.
    mutating func next() throws -> yaml_event_t {
      var event = yaml_event_t()
      guard yaml_parser_parse(parser, &event) == 1 else { throw failure() }
      return event
    }

    private func failure() -> Failure {
      let parser = parser.pointee
      let problem = parser.problem.map { String(cString: $0) } ?? "cannot parse"
      let context = parser.context.map { String(cString: $0) + " " } ?? ""
      let mark = parser.problem_mark
      return Failure(
        position: parser.error == YAML_SCANNER_ERROR || parser.error == YAML_PARSER_ERROR
          ? SourcePosition(line: Int(mark.line) + 1, column: Int(mark.column) + 1) : nil,
        problem: "invalid YAML: \(context)\(problem)")
    }

    mutating func document() throws -> YAMLNode? {
      var start = try next()
      yaml_event_delete(&start)  // stream start
      var event = try next()
      if event.type == YAML_STREAM_END_EVENT {
        yaml_event_delete(&event)
        return nil
      }
      yaml_event_delete(&event)  // document start
      let root = try node(try next())
      var end = try next()
      yaml_event_delete(&end)  // document end
      var after = try next()
      defer { yaml_event_delete(&after) }
      guard after.type == YAML_STREAM_END_EVENT else {
        throw Failure(
          position: Self.position(after.start_mark),
          problem: "invalid YAML: expected a single document in the stream but found another document")
      }
      return root
    }

    /// The node that starts with `first` (consumed and deleted here).
    mutating func node(_ first: yaml_event_t) throws -> YAMLNode {
      var event = first
      defer { yaml_event_delete(&event) }
      let position = Self.position(event.start_mark)
      if event.type == YAML_SEQUENCE_START_EVENT || event.type == YAML_MAPPING_START_EVENT {
        guard depth < YAMLComposer.maxDepth else {
          throw Failure(
            position: position, problem: "invalid YAML: nested more than \(YAMLComposer.maxDepth) levels deep")
        }
        depth += 1
      }
      defer { if event.type == YAML_SEQUENCE_START_EVENT || event.type == YAML_MAPPING_START_EVENT { depth -= 1 } }
      switch event.type {
      case YAML_ALIAS_EVENT:
        let name = Self.string(event.data.alias.anchor)
        guard let target = anchors[name] else {
          throw Failure(position: position, problem: "invalid YAML: found undefined alias")
        }
        return target
      case YAML_SCALAR_EVENT:
        let scalar = event.data.scalar
        let text = String(
          decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
        return register(YAMLNode(.scalar(text), position), anchor: scalar.anchor)
      case YAML_SEQUENCE_START_EVENT:
        var items: [YAMLNode] = []
        while true {
          var item = try next()
          if item.type == YAML_SEQUENCE_END_EVENT {
            yaml_event_delete(&item)
            break
          }
          items.append(try node(item))
        }
        return register(YAMLNode(.sequence(items), position), anchor: event.data.sequence_start.anchor)
      case YAML_MAPPING_START_EVENT:
        var pairs: [(key: YAMLNode, value: YAMLNode)] = []
        while true {
          var keyEvent = try next()
          if keyEvent.type == YAML_MAPPING_END_EVENT {
            yaml_event_delete(&keyEvent)
            break
          }
          let key = try node(keyEvent)
          pairs.append((key, try node(try next())))
        }
        try Self.checkDuplicates(pairs)
        return register(YAMLNode(.mapping(pairs), position), anchor: event.data.mapping_start.anchor)
      default:
        throw Failure(position: position, problem: "invalid YAML: unexpected event")
      }
    }

    private mutating func register(_ node: YAMLNode, anchor: UnsafeMutablePointer<yaml_char_t>?) -> YAMLNode {
      if let anchor { anchors[Self.string(anchor)] = node }
      return node
    }

    /// Duplicate scalar keys, named sorted, at the first occurrence of the first (as Yams reports them).
    private static func checkDuplicates(_ pairs: [(key: YAMLNode, value: YAMLNode)]) throws {
      guard pairs.count > 1 else { return }
      var first: [String: YAMLNode] = [:]
      var duplicated: Set<String> = []
      if pairs.count <= 16 {
        // Small mappings (nearly all of a policy): compare pairwise rather than hash.
        for (i, pair) in pairs.enumerated() {
          guard let name = pair.key.scalar else { continue }
          if pairs[..<i].contains(where: { $0.key.scalar == name }) {
            duplicated.insert(name)
          } else if first[name] == nil, pairs[(i + 1)...].contains(where: { $0.key.scalar == name }) {
            first[name] = pair.key
          }
        }
      } else {
        for (key, _) in pairs {
          guard let name = key.scalar else { continue }
          if first[name] == nil { first[name] = key } else { duplicated.insert(name) }
        }
      }
      guard let lowest = duplicated.min() else { return }
      throw Failure(
        position: first[lowest]?.position, problem: "duplicate key \(duplicated.sorted().joined(separator: ", "))")
    }

    private static func position(_ mark: yaml_mark_t) -> SourcePosition {
      SourcePosition(line: Int(mark.line) + 1, column: Int(mark.column) + 1)
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String {
      pointer.map { String(cString: UnsafePointer($0)) } ?? ""
    }
  }
}
