/// Answers whether a `format` pattern matches somewhere in a value, in time linear in the value's
/// length: O(value length × pattern size), whatever the pattern and the value.
///
/// A Thompson NFA, simulated on the set of states every input scalar can reach (each state is
/// visited at most once per scalar), so no pattern can make `verify` stall: there is no
/// backtracking to explode. Built once per policy load, immutable and `Sendable`; `matches` may run
/// on several threads at once.
///
/// Matching is over the value's Unicode scalars. Swift's `Regex` matches grapheme clusters by
/// default; the two agree on every value whose characters are single scalars, and differ only for
/// combining sequences: `.` or `[^a]` matches one scalar of `e` + U+0301 here, where `Regex`
/// matches the whole cluster, and the pattern `e` finds the `e` in it, where `Regex` does not.
struct FormatMatcher: Sendable {
  /// The most steps a compiled pattern may have, its repetitions written out (`[0-9a-f]{32}` is 32;
  /// `(ab|cd){0,10}` is about 60). Bounds the work per scalar of the value.
  static let maximumSteps = 2_000

  fileprivate enum Kind: UInt8, Sendable {
    /// Consumes one scalar in the class, then goes to `next`.
    case scalar
    /// Goes to both `next` and `alternative`.
    case split
    /// Goes to `next` at the start of the value only.
    case startOfValue
    /// Goes to `next` at the end of the value only.
    case endOfValue
    case match
  }

  fileprivate struct Step: Sendable {
    var kind: Kind
    var next: Int32 = -1
    var alternative: Int32 = -1
    /// Index in `classes`, for `.scalar`.
    var classIndex: Int32 = -1
    /// The class's membership of ASCII scalars, copied here for the common case.
    var asciiLow: UInt64 = 0
    var asciiHigh: UInt64 = 0
  }

  private let steps: [Step]
  private let classes: [ScalarClass]
  private let start: Int32
  /// Every match must start at the value's start: nothing is re-seeded after it, and the search
  /// stops as soon as no state survives.
  private let anchoredAtStart: Bool

  /// Compiles `pattern`; throws `FormatPatternError` when it is invalid, uses a construct that is
  /// not supported, or is larger than `maximumSteps`.
  init(pattern: String) throws(FormatPatternError) {
    try self.init(FormatPattern.parse(pattern))
  }

  /// Compiles a parsed pattern; throws `FormatPatternError` (`.tooLarge`) past `maximumSteps`.
  init(_ tree: FormatPattern) throws(FormatPatternError) {
    let size = Self.size(of: tree).addingSaturated(1)
    guard size <= Self.maximumSteps else {
      throw FormatPatternError(
        kind: .tooLarge,
        problem: "it is too large once its repetitions are written out (over \(Self.maximumSteps) steps)", offset: 1)
    }
    var builder = Builder()
    builder.steps.reserveCapacity(size)
    let match = builder.emit(Step(kind: .match))
    let start = builder.compile(tree, next: match)
    self.start = start
    steps = builder.steps
    classes = builder.classes
    // Anchored when, away from the start, the start state reaches neither a scalar nor the match.
    var anchored = true
    builder.steps.withUnsafeBufferPointer { steps in
      withUnsafeTemporaryAllocation(of: Int32.self, capacity: 3 * steps.count) { buffer in
        let run = Run(steps: steps, buffer: buffer)
        run.marks.initialize(repeating: 0, count: steps.count)
        for atEnd in [false, true] {
          var count = 0
          let matched = run.addClosure(
            of: start, generation: atEnd ? 1 : 2, atStart: false, atEnd: atEnd, into: run.current, count: &count)
          if matched || count > 0 { anchored = false }
        }
      }
    }
    anchoredAtStart = anchored
  }

  /// Steps `tree` compiles to (saturating), not counting the final match.
  static func size(of tree: FormatPattern) -> Int {
    switch tree {
    case .empty: return 0
    case .scalar, .startOfValue, .endOfValue: return 1
    case .sequence(let items): return items.reduce(0) { $0.addingSaturated(size(of: $1)) }
    case .alternation(let branches):
      return branches.reduce(branches.count - 1) { $0.addingSaturated(size(of: $1)) }
    case .repetition(let body, let min, let max):
      let one = size(of: body)
      let required = one.multipliedSaturated(min)
      guard let max else { return required.addingSaturated(one.addingSaturated(1)) }
      return required.addingSaturated((one.addingSaturated(1)).multipliedSaturated(max - min))
    }
  }

  /// Whether the pattern matches somewhere in `value` (a search: `^` and `$` anchor it).
  func matches(_ value: String) -> Bool {
    let start = self.start
    let anchored = anchoredAtStart
    let classes = self.classes
    return steps.withUnsafeBufferPointer { steps in
      withUnsafeTemporaryAllocation(of: Int32.self, capacity: 4 * steps.count) { buffer in
        let run = Run(steps: steps, buffer: buffer)
        run.marks.initialize(repeating: 0, count: steps.count)
        var current = run.current
        var next = run.next
        var currentCount = 0
        var generation: Int32 = 1
        let scalars = value.unicodeScalars
        var position = scalars.startIndex
        let end = scalars.endIndex
        if run.addClosure(
          of: start, generation: generation, atStart: true, atEnd: position == end, into: current,
          count: &currentCount)
        {
          return true
        }
        while position != end {
          if currentCount == 0 && anchored { return false }
          let scalar = scalars[position]
          scalars.formIndex(after: &position)
          let atEnd = position == end
          generation &+= 1
          var nextCount = 0
          let value = scalar.value
          for i in 0..<currentCount {
            let step = steps[Int(current[i])]
            let inside: Bool
            if value < 64 {
              inside = step.asciiLow & (1 << UInt64(value)) != 0
            } else if value < 128 {
              inside = step.asciiHigh & (1 << UInt64(value - 64)) != 0
            } else {
              inside = classes[Int(step.classIndex)].contains(scalar)
            }
            if inside,
              run.addClosure(
                of: step.next, generation: generation, atStart: false, atEnd: atEnd, into: next, count: &nextCount)
            {
              return true
            }
          }
          if !anchored,
            run.addClosure(
              of: start, generation: generation, atStart: false, atEnd: atEnd, into: next, count: &nextCount)
          {
            return true
          }
          swap(&current, &next)
          currentCount = nextCount
        }
        return false
      }
    }
  }

  /// Scratch space of one search: the visited mark of every step, the stack of the epsilon
  /// closure, and two lists of scalar-consuming steps (the current set and the next).
  private struct Run {
    let steps: UnsafeBufferPointer<Step>
    let marks: UnsafeMutablePointer<Int32>
    let stack: UnsafeMutablePointer<Int32>
    let current: UnsafeMutablePointer<Int32>
    let next: UnsafeMutablePointer<Int32>

    /// `buffer` holds at least 3 × steps (4 × for `next`).
    init(steps: UnsafeBufferPointer<Step>, buffer: UnsafeMutableBufferPointer<Int32>) {
      self.steps = steps
      let base = buffer.baseAddress!
      let n = steps.count
      marks = base
      stack = base + n
      current = base + 2 * n
      next = buffer.count >= 4 * n ? base + 3 * n : current
    }

    /// Adds to `list` the scalar steps reachable from `origin` without consuming anything, each
    /// once per `generation`; true when the match is reachable.
    @inline(__always)
    func addClosure(
      of origin: Int32, generation: Int32, atStart: Bool, atEnd: Bool, into list: UnsafeMutablePointer<Int32>,
      count: inout Int
    ) -> Bool {
      guard marks[Int(origin)] != generation else { return false }
      marks[Int(origin)] = generation
      stack[0] = origin
      var top = 1
      while top > 0 {
        top -= 1
        let index = stack[top]
        let step = steps[Int(index)]
        var follow: Int32 = -1
        switch step.kind {
        case .scalar:
          list[count] = index
          count += 1
        case .match: return true
        case .split:
          let other = step.alternative
          if marks[Int(other)] != generation {
            marks[Int(other)] = generation
            stack[top] = other
            top += 1
          }
          follow = step.next
        case .startOfValue: if atStart { follow = step.next }
        case .endOfValue: if atEnd { follow = step.next }
        }
        if follow >= 0, marks[Int(follow)] != generation {
          marks[Int(follow)] = generation
          stack[top] = follow
          top += 1
        }
      }
      return false
    }
  }

  /// Emits steps backwards: each node is compiled knowing the step that follows it.
  private struct Builder {
    var steps: [Step] = []
    var classes: [ScalarClass] = []

    mutating func emit(_ step: Step) -> Int32 {
      steps.append(step)
      return Int32(steps.count - 1)
    }

    mutating func compile(_ node: FormatPattern, next: Int32) -> Int32 {
      switch node {
      case .empty: return next
      case .scalar(let set):
        classes.append(set)
        return emit(
          Step(
            kind: .scalar, next: next, classIndex: Int32(classes.count - 1), asciiLow: set.asciiLow,
            asciiHigh: set.asciiHigh))
      case .startOfValue: return emit(Step(kind: .startOfValue, next: next))
      case .endOfValue: return emit(Step(kind: .endOfValue, next: next))
      case .sequence(let items):
        var follow = next
        for item in items.reversed() { follow = compile(item, next: follow) }
        return follow
      case .alternation(let branches):
        let starts = branches.map { compile($0, next: next) }
        var entry = starts[starts.count - 1]
        for branch in starts.dropLast().reversed() {
          entry = emit(Step(kind: .split, next: branch, alternative: entry))
        }
        return entry
      case .repetition(let body, let min, let max):
        var follow = next
        if let max {
          // Optional copies nested: x{0,2} is (x(x)?)?.
          for _ in 0..<(max - min) {
            let copy = compile(body, next: follow)
            follow = emit(Step(kind: .split, next: copy, alternative: next))
          }
        } else {
          let loop = emit(Step(kind: .split))
          let copy = compile(body, next: loop)
          steps[Int(loop)].next = copy
          steps[Int(loop)].alternative = next
          follow = loop
        }
        for _ in 0..<min { follow = compile(body, next: follow) }
        return follow
      }
    }
  }
}

extension Int {
  fileprivate func addingSaturated(_ other: Int) -> Int {
    let (sum, overflow) = addingReportingOverflow(other)
    return overflow ? .max : sum
  }

  fileprivate func multipliedSaturated(_ other: Int) -> Int {
    let (product, overflow) = multipliedReportingOverflow(by: other)
    return overflow ? .max : product
  }
}
