/// Runs `body` for every item with at most `limit` running at once, calling `each` (on the calling
/// task, in completion order) as each finishes. Returns the results in item order.
package func boundedMap<Item: Sendable, Result: Sendable>(
  _ items: [Item], limit: Int, each: (Int, Result) -> Void = { _, _ in },
  _ body: @escaping @Sendable (Item) async -> Result
) async -> [Result] {
  await withTaskGroup(of: (Int, Result).self) { group in
    var results = [Result?](repeating: nil, count: items.count)
    var next = 0
    func submit() {
      let index = next
      let item = items[index]
      next += 1
      group.addTask { (index, await body(item)) }
    }
    while next < min(items.count, max(1, limit)) { submit() }
    while let (index, result) = await group.next() {
      results[index] = result
      each(index, result)
      if next < items.count { submit() }
    }
    return results.map { $0! }
  }
}
