import Testing
@testable import Filesystem

@Suite struct FilePathTests {
    @Test(arguments: [
        ("/etc/passwd", "etc/passwd"),
        ("./etc/", "etc"),
        ("./", ""),
        ("a//b/./c/../d", "a/b/d"),
        ("../../x", "x"),
    ])
    func normalize(raw: String, expected: String) {
        #expect(FilePath.normalize(raw) == expected)
    }

    @Test func parentAndWithin() {
        #expect(FilePath.parent(of: "etc/passwd") == "etc")
        #expect(FilePath.parent(of: "etc") == "")
        #expect(FilePath.parent(of: "") == nil)
        #expect(FilePath.isWithin("etc/ssh/x", "etc/ssh"))
        #expect(!FilePath.isWithin("etc/sshd", "etc/ssh"))
    }
}
