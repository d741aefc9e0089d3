import Foundation

/// A counting semaphore for tests that suspends instead of blocking: `capacity` units, each holder takes `weight`
/// of them, first come first served (a heavy waiter at the head is not overtaken by lighter ones behind it, so a
/// holder that needs everything — an exclusive one — is never starved).
///
/// For bounding how many tests of a kind run at once (weight 1 each), or for a process-wide resource that most
/// tests share (weight 1) and a few need alone (weight `capacity`).
public final class AsyncGate: Sendable {
  public let capacity: Int
  private let state: Locked<State>

  private struct Waiter: Sendable {
    let weight: Int
    let continuation: CheckedContinuation<Void, Never>
  }

  private struct State: Sendable {
    var free: Int
    var waiting: [Waiter] = []

    /// Admits waiters from the head while they fit; returns them to resume.
    mutating func admit() -> [Waiter] {
      var admitted: [Waiter] = []
      while let head = waiting.first, head.weight <= free {
        free -= head.weight
        admitted.append(waiting.removeFirst())
      }
      return admitted
    }
  }

  public init(capacity: Int) {
    precondition(capacity > 0)
    self.capacity = capacity
    state = Locked(State(free: capacity))
  }

  /// Waits (suspended) until `weight` units (at most `capacity`) are free, and takes them.
  public func acquire(_ weight: Int = 1) async {
    let weight = min(max(weight, 1), capacity)
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
      let admitted = state.withLock { state in
        state.waiting.append(Waiter(weight: weight, continuation: continuation))
        return state.admit()
      }
      for waiter in admitted { waiter.continuation.resume() }
    }
  }

  /// Gives back `weight` units taken by `acquire`.
  public func release(_ weight: Int = 1) {
    let weight = min(max(weight, 1), capacity)
    let admitted = state.withLock { state in
      state.free += weight
      return state.admit()
    }
    for waiter in admitted { waiter.continuation.resume() }
  }
}
