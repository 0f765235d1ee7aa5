import Foundation
import Testing
import Filesystem
import Archive
import Squashfs

/// A real Debian rootfs tar through the writer, read back and compared with the input.
/// Runs when the tar is present (`LIVEBUILD_TRIXIE_TAR`, default /work/wt/trixie-base.tar); if
/// that variable is set explicitly, a missing tar is a failure.
@Suite struct SquashfsTrixieTests {
    static let tarPath = ProcessInfo.processInfo.environment["LIVEBUILD_TRIXIE_TAR"] ?? "/work/wt/trixie-base.tar"
    static let tarWanted = ProcessInfo.processInfo.environment["LIVEBUILD_TRIXIE_TAR"] != nil
        || FileManager.default.fileExists(atPath: tarPath)

    static func options(threads: Int = 2) -> Squashfs.Options {
        Squashfs.Options(compression: .zstd, level: 15, blockSize: 131_072, threads: threads,
                         modificationTime: 1_700_000_000)
    }

    @Test(.enabled(if: tarWanted))
    func trixieRootfsRoundTrips() throws {
        let scratch = try SquashfsScratch()
        let ours = scratch.file("ours.sqfs")
        let writer = try Squashfs.Writer(path: ours, options: Self.options())
        try Archive.FileSource(path: Self.tarPath).write(to: writer)
        let summary = try writer.finish()
        #expect(summary.ignoredEntries == 0)
        #expect(summary.skippedXattrs == 2)  // the POSIX ACLs of /var/log/journal

        // Entry for entry: the input tar against sqfs2tar's rendering of our image.
        let back = scratch.file("back.tar")
        try SquashfsTool.run("sqfs2tar", ["-r", ".", ours], stdoutTo: back)
        let input = try SquashfsTool.tarMembers(Self.tarPath)
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
        try SquashfsTool.run("sh", ["-c", "tar2sqfs -q -f -c zstd -X level=15 -b 131072 -j 2 '\(reference)' < '\(Self.tarPath)'"])
        let diff = String(decoding: try SquashfsTool.run("sqfsdiff", ["-T", "-a", reference, "-b", ours]), as: UTF8.self)
        #expect(diff.isEmpty, "\(diff.prefix(2000))")
    }

    /// `LIVEBUILD_BENCH=1 swift test --filter SquashfsTrixieTests`: our writer against tar2sqfs on
    /// the same tar with the same settings (zstd 15, 128 KiB, 2 threads). Prints wall and CPU
    /// time (all threads) and sizes; CPU time is the fairer figure on a shared machine.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["LIVEBUILD_BENCH"] == "1"))
    func benchmark() throws {
        func cpuSeconds(_ who: Int32) -> Double {
            var usage = rusage()
            getrusage(who, &usage)
            return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
                + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        }
        let scratch = try SquashfsScratch()
        let ours = scratch.file("ours.sqfs")
        let clock = ContinuousClock()
        var summary: Squashfs.Summary?
        let ourStart = cpuSeconds(Int32(RUSAGE_SELF.rawValue))
        let ourTime = try clock.measure {
            let writer = try Squashfs.Writer(path: ours, options: Self.options())
            try Archive.FileSource(path: Self.tarPath).write(to: writer)
            summary = try writer.finish()
        }
        let ourCPU = cpuSeconds(Int32(RUSAGE_SELF.rawValue)) - ourStart
        let reference = scratch.file("reference.sqfs")
        let theirStart = cpuSeconds(Int32(RUSAGE_CHILDREN.rawValue))
        let theirTime = try clock.measure {
            try SquashfsTool.run("sh", ["-c", "tar2sqfs -q -f -c zstd -X level=15 -b 131072 -j 2 '\(reference)' < '\(Self.tarPath)'"])
        }
        let theirCPU = cpuSeconds(Int32(RUSAGE_CHILDREN.rawValue)) - theirStart
        let theirSize = (try FileManager.default.attributesOfItem(atPath: reference)[.size] as? NSNumber)?.uint64Value ?? 0
        print("BENCH livebuild: wall \(ourTime), cpu \(ourCPU) s, \(summary?.fileSize ?? 0) bytes, \(summary?.inodeCount ?? 0) inodes")
        print("BENCH tar2sqfs:  wall \(theirTime), cpu \(theirCPU) s, \(theirSize) bytes")
        #expect((summary?.fileSize ?? .max) <= theirSize)
    }
}
