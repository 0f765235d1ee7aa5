import Filesystem

/// The files of the image the later stages need, captured from the stream as it goes by:
/// the kernel, its modules and their index, busybox for the live init, the package database.
public struct ImageFiles: Sendable {
    /// Captured regular files by normalised path.
    public var files: [String: [UInt8]] = [:]
    /// Symlinks seen by normalised path (to resolve `/usr/bin/busybox` style links).
    public var symlinks: [String: String] = [:]

    public init() {}

    /// Whether the stream's entry at `path` is one to keep.
    public static func wanted(_ path: String) -> Bool {
        if path.hasPrefix("boot/vmlinuz-") { return true }
        if path.hasPrefix("usr/lib/modules/") || path.hasPrefix("lib/modules/") {
            return path.hasSuffix(".ko") || path.hasSuffix(".ko.xz") || path.hasSuffix(".ko.zst")
                || path.hasSuffix(".ko.gz") || path.hasSuffix("/modules.dep") || path.hasSuffix("/modules.builtin")
        }
        switch path {
        case "usr/bin/busybox", "bin/busybox", "var/lib/dpkg/status", "etc/os-release", "usr/lib/os-release",
             "etc/passwd", "etc/group":
            return true
        default:
            return false
        }
    }

    /// Kernel versions present, as found under `boot/vmlinuz-VERSION`, newest last.
    public var kernelVersions: [String] {
        files.keys.filter { $0.hasPrefix("boot/vmlinuz-") }
            .map { String($0.dropFirst("boot/vmlinuz-".count)) }
            .sorted(by: ImageFiles.versionLess)
    }

    /// The modules directory of a kernel version (`usr/lib/modules/V` on merged-/usr systems).
    public func modulesDirectory(for version: String) -> String? {
        for candidate in ["usr/lib/modules/\(version)", "lib/modules/\(version)"]
        where files[candidate + "/modules.dep"] != nil {
            return candidate
        }
        return nil
    }

    /// Orders kernel versions by their numeric parts (`6.12.9` before `6.12.10`).
    static func versionLess(_ a: String, _ b: String) -> Bool {
        func parts(_ s: String) -> [Int] { s.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) } }
        let (pa, pb) = (parts(a), parts(b))
        return pa == pb ? a < b : pa.lexicographicallyPrecedes(pb)
    }

    public var busybox: [UInt8]? { files["usr/bin/busybox"] ?? files["bin/busybox"] }

    public var osRelease: String? {
        (files["etc/os-release"] ?? files["usr/lib/os-release"]).map { String(decoding: $0, as: UTF8.self) }
    }
}

/// Passes entries on to another sink and keeps a copy of the contents of those `ImageFiles`
/// wants. Only what the downstream sink actually reads is kept, so a file shadowed by an upper
/// layer is never captured.
public final class CapturingSink: EntrySink {
    private let downstream: EntrySink
    public private(set) var captured = ImageFiles()
    public private(set) var entries = 0
    public private(set) var bytes: UInt64 = 0
    private let progress: ((Int, UInt64) -> Void)?

    public init(downstream: EntrySink, progress: ((Int, UInt64) -> Void)? = nil) {
        self.downstream = downstream
        self.progress = progress
    }

    public func add(_ entry: FileEntry, contents: ContentsProducer) throws {
        entries += 1
        bytes += entry.size
        if entries % 256 == 0 { progress?(entries, bytes) }
        if entry.kind == .symlink, let target = entry.linkTarget {
            captured.symlinks[entry.path] = target
        }
        guard entry.kind == .regular, ImageFiles.wanted(entry.path) else {
            try downstream.add(entry, contents: contents)
            return
        }
        var copy: [UInt8] = []
        copy.reserveCapacity(Int(entry.size))
        try downstream.add(entry) { yield in
            try withoutActuallyEscaping(yield) { yield in
                try contents { chunk in
                    copy.append(contentsOf: chunk)
                    try yield(chunk)
                }
            }
        }
        if copy.count == Int(entry.size) { captured.files[entry.path] = copy }
    }
}
