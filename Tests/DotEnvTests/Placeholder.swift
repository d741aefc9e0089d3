import Testing
@Test func dotenvPlaceholder() { #expect(Bool(true)) }
