import Foundation
import Testing
import Filesystem
import Squashfs

/// Runs the reference tools the squashfs interop tests read our images back with.
/// A missing tool is a test failure, never a skip.
enum SquashfsTool {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Finds `name` on `PATH` or fails.
    static func locate(_ name: String) throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw Failure(description: "reference tool \(name) is not installed (apt-get install squashfs-tools squashfs-tools-ng python3)")
    }

    /// Runs a tool and returns its standard output; throws on a non-zero exit.
    @discardableResult
    static func run(_ name: String, _ arguments: [String], stdoutTo file: String? = nil) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try locate(name))
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["TZ"] = "UTC"
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        let output = Pipe()
        var handle: FileHandle?
        if let file {
            FileManager.default.createFile(atPath: file, contents: nil)
            handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
            process.standardOutput = handle
        } else {
            process.standardOutput = output
        }
        try process.run()
        let data = file == nil ? output.fileHandleForReading.readDataToEndOfFile() : Data()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try handle?.close()
        guard process.terminationStatus == 0 else {
            let message = String(decoding: errorData, as: UTF8.self)
            throw Failure(description: "\(name) \(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(message)")
        }
        return data
    }

    /// One member of a tar as Python's tarfile reads it.
    struct TarMember: Decodable, Equatable {
        var path: String
        var type: String
        var mode: UInt32
        var uid: UInt32
        var gid: UInt32
        var mtime: Int64
        var size: UInt64
        var linkname: String
        var devmajor: UInt32
        var devminor: UInt32
        var sha256: String?
        var xattrs: [String: String]  // name -> hex value
    }

    /// Reads every member of a tar file with Python's tarfile module (an independent reader).
    static func tarMembers(_ tarPath: String) throws -> [TarMember] {
        let script = #"""
import sys, tarfile, json, hashlib, base64
out = []
with tarfile.open(sys.argv[1]) as t:
    for m in t:
        x = {}
        for k, v in m.pax_headers.items():
            raw = v.encode('utf-8', 'surrogateescape')
            if k.startswith('SCHILY.xattr.'):
                x[k[len('SCHILY.xattr.'):]] = raw.hex()
            elif k.startswith('LIBARCHIVE.xattr.'):
                x[k[len('LIBARCHIVE.xattr.'):]] = base64.b64decode(raw + b'=' * (-len(raw) % 4)).hex()
        digest = None
        if m.isreg():
            digest = hashlib.sha256(t.extractfile(m).read()).hexdigest()
        name = m.name[2:] if m.name.startswith('./') else ('' if m.name == '.' else m.name)
        link = m.linkname[2:] if m.islnk() and m.linkname.startswith('./') else m.linkname
        kinds = {tarfile.REGTYPE: 'regular', tarfile.AREGTYPE: 'regular', tarfile.LNKTYPE: 'hardlink',
                 tarfile.SYMTYPE: 'symlink', tarfile.CHRTYPE: 'characterDevice', tarfile.BLKTYPE: 'blockDevice',
                 tarfile.DIRTYPE: 'directory', tarfile.FIFOTYPE: 'fifo'}
        out.append(dict(path=name, type=kinds.get(m.type, 'other'), mode=m.mode, uid=m.uid, gid=m.gid,
                        mtime=int(m.mtime), size=m.size, linkname=link, devmajor=m.devmajor,
                        devminor=m.devminor, sha256=digest, xattrs=x))
json.dump(out, sys.stdout)
"""#
        let data = try run("python3", ["-c", script, tarPath])
        return try JSONDecoder().decode([TarMember].self, from: data)
    }
}

/// A scratch directory removed when the test ends.
final class SquashfsScratch {
    let path: String
    init() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("livebuild-squashfs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        path = base.path
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    func file(_ name: String) -> String { "\(path)/\(name)" }
}

/// Deterministic pseudo-random bytes (so blocks do not compress to nothing).
func squashfsNoise(count: Int, seed: UInt64) -> [UInt8] {
    var state = seed &* 6364136223846793005 &+ 1442695040888963407
    return (0..<count).map { _ in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return UInt8(truncatingIfNeeded: state >> 33)
    }
}

/// A squashfs image mounted read-only through the kernel's own driver (needs root and loop
/// devices); unmounted when released.
final class SquashfsMount {
    /// Whether this machine can mount squashfs images at all.
    static let available: Bool = {
        let filesystems = (try? String(contentsOfFile: "/proc/filesystems", encoding: .utf8)) ?? ""
        return geteuid() == 0 && filesystems.contains("squashfs")
    }()

    let path: String

    init(image: String, at path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try SquashfsTool.run("mount", ["-t", "squashfs", "-o", "loop,ro", image, path])
        self.path = path
    }

    deinit { _ = try? SquashfsTool.run("umount", [path]) }
}
