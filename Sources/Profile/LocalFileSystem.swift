#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The build host's real file system.
struct LocalFileSystem: ProfileFileSystem {
    var currentDirectory: String {
        FileManager.default.currentDirectoryPath
    }

    func contents(of absolutePath: String) -> [UInt8]? {
        guard kind(of: absolutePath) == .file, let data = FileManager.default.contents(atPath: absolutePath) else {
            return nil
        }
        return [UInt8](data)
    }

    func kind(of absolutePath: String) -> HostFileKind? {
        var status = stat()
        guard stat(absolutePath, &status) == 0 else { return nil }
        return status.st_mode & S_IFMT == S_IFDIR ? .directory : .file
    }
}
