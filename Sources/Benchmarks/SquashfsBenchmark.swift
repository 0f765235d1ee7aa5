import Archive
import Foundation
import LiveBuild
import Squashfs
import Subprocess

/// Our squashfs stage beside `tar2sqfs` (squashfs-tools-ng) on the same tar, compressor, level,
/// block size and thread count, in one run. Reported as ratios (ours / theirs).
public struct SquashfsBenchmark: Sendable {
    public var tar: String
    public var compression: Squashfs.Compression
    public var level: UInt32?
    public var blockSize: Int
    public var threads: Int
    public var scratch: String

    public init(tar: String, compression: Squashfs.Compression = .zstd, level: UInt32? = 15, blockSize: Int = 131_072,
                threads: Int = Squashfs.Options.defaultThreads, scratch: String) {
        self.tar = tar
        self.compression = compression
        self.level = level
        self.blockSize = blockSize
        self.threads = threads
        self.scratch = scratch
    }

    public struct Figures: Sendable, Codable {
        public var seconds: Double
        public var bytes: UInt64
        public var peakRSSKiB: Int
    }

    public struct Report: Sendable, Codable {
        public var ours: Figures
        public var tar2sqfs: Figures

        public init(ours: Figures, tar2sqfs: Figures) {
            self.ours = ours
            self.tar2sqfs = tar2sqfs
        }

        public var timeRatio: Double { ours.seconds / tar2sqfs.seconds }
        public var sizeRatio: Double { Double(ours.bytes) / Double(tar2sqfs.bytes) }
    }

    public func run() async throws -> Report {
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        let oursPath = scratch + "/ours.sqfs", theirsPath = scratch + "/tar2sqfs.sqfs"
        defer {
            try? FileManager.default.removeItem(atPath: oursPath)
            try? FileManager.default.removeItem(atPath: theirsPath)
        }
        // Warm the page cache so neither side pays for the first read of the tar.
        _ = try Archive.Reader(path: tar).next()

        // Theirs first, in a child process: its peak RSS is the children's maximum.
        var arguments = ["-c", compression.rawValue, "-b", String(blockSize), "-j", String(threads), "-f", "-q"]
        if let level { arguments += ["-X", "level=\(level)"] }
        arguments.append(theirsPath)
        let start = ContinuousClock.now
        let result = try await Subprocess.run(.name("tar2sqfs"), arguments: Arguments(arguments),
                                              input: .fileDescriptor(.init(rawValue: open(tar, O_RDONLY)), closeAfterSpawningProcess: true),
                                              output: .discarded, error: .string(limit: 1 << 16))
        let theirsSeconds = (ContinuousClock.now - start).seconds
        guard result.terminationStatus.isSuccess else {
            throw LiveBuildError(code: .tool, message: "tar2sqfs failed: \(result.standardError)")
        }
        var children = rusage()
        getrusage(RUSAGE_CHILDREN.rawValue, &children)

        let oursStart = ContinuousClock.now
        let writer = try Squashfs.Writer(path: oursPath, options: Squashfs.Options(
            compression: compression, level: level, blockSize: blockSize, threads: threads, modificationTime: 0))
        try Archive.FileSource(path: tar).write(to: writer)
        _ = try writer.finish()
        let oursSeconds = (ContinuousClock.now - oursStart).seconds
        var own = rusage()
        getrusage(RUSAGE_SELF.rawValue, &own)

        return Report(
            ours: Figures(seconds: oursSeconds, bytes: try FileSize.of(oursPath), peakRSSKiB: own.ru_maxrss),
            tar2sqfs: Figures(seconds: theirsSeconds, bytes: try FileSize.of(theirsPath), peakRSSKiB: children.ru_maxrss))
    }

}
