import Foundation
import Testing
import Filesystem
import Archive
import Squashfs
import TestSupport

/// A real Debian rootfs tar through the writer, read back and compared with the input.
/// The tar is the default profile's cached Debian base (built once per run by the shared
/// fixture), or `LIVEBUILD_TRIXIE_TAR`.
@Suite struct SquashfsTrixieTests {
    static func tarPath() async throws -> String {
        if let explicit = ProcessInfo.processInfo.environment["LIVEBUILD_TRIXIE_TAR"] { return explicit }
        return try await Fixtures.shared.baseTar("cluster")
    }

    static func options(threads: Int = 2) -> Squashfs.Options {
        Squashfs.Options(compression: .zstd, level: 15, blockSize: 131_072, threads: threads,
                         modificationTime: 1_700_000_000)
    }

    @Test func trixieRootfsRoundTrips() async throws {
        let tarPath = try await Self.tarPath()
        let scratch = try SquashfsScratch()
        let ours = scratch.file("ours.sqfs")
        let writer = try Squashfs.Writer(path: ours, options: Self.options())
        try Archive.FileSource(path: tarPath).write(to: writer)
        let summary = try writer.finish()
        #expect(summary.ignoredEntries == 0)
        #expect(summary.skippedXattrs == 2)  // the POSIX ACLs of /var/log/journal

        // Entry for entry: the input tar against sqfs2tar's rendering of our image.
        let back = scratch.file("back.tar")
        try SquashfsTool.run("sqfs2tar", ["-r", ".", ours], stdoutTo: back)
        let input = try SquashfsTool.tarMembers(tarPath)
        let output = try SquashfsTool.tarMembers(back)
        #expect(input.count == output.count)
        var outputByPath: [String: SquashfsTool.TarMember] = [:]
        for member in output { outputByPath[member.path] = member }
        var inputByPath: [String: SquashfsTool.TarMember] = [:]
        for member in input { inputByPath[member.path] = member }
        #expect(Set(inputByPath.keys) == Set(outputByPath.keys))

        var mismatches: [String] = []
        for original in input {
            guard let copy = outputByPath[original.path] else { continue }
            // Either side may pick a different name of a hard-linked inode as the full member.
            if original.type == "hardlink" || copy.type == "hardlink" { continue }
            var expected = original
            // squashfs stores only user., trusted. and security. xattrs (no POSIX ACLs).
            expected.xattrs = original.xattrs.filter { !$0.key.hasPrefix("system.") }
            if copy != expected { mismatches.append("\(original) != \(copy)") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
        let inputLinks = Set(input.filter { $0.type == "hardlink" }.map { Set([$0.path, $0.linkname]) })
        let outputLinks = Set(output.filter { $0.type == "hardlink" }.map { Set([$0.path, $0.linkname]) })
        #expect(inputLinks.count == outputLinks.count)

        // And the same filesystem as tar2sqfs builds from the tar (contents, owners, modes, times).
        let reference = scratch.file("reference.sqfs")
        try SquashfsTool.run("sh", ["-c", "tar2sqfs -q -f -c zstd -X level=15 -b 131072 -j 2 '\(reference)' < '\(tarPath)'"])
        let diff = String(decoding: try SquashfsTool.run("sqfsdiff", ["-T", "-a", reference, "-b", ours]), as: UTF8.self)
        #expect(diff.isEmpty, "\(diff.prefix(2000))")
    }
}
