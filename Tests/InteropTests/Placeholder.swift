import Testing
@Suite struct InteropPlaceholder { @Test func toolsPresent() {} }
