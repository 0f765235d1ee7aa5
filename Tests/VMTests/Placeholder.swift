import Testing
@Suite struct VMPlaceholder { @Test func nothingYet() {} }
