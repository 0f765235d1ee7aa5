import Foundation
@testable import Profile

/// Files held in memory, so profile tests name exact paths and need no disk.
struct InMemoryFileSystem: ProfileFileSystem {
    var currentDirectory: String = "/work"
    var files: [String: String] = [:]
    var directories: Set<String> = []

    init(currentDirectory: String = "/work", files: [String: String] = [:], directories: Set<String> = []) {
        self.currentDirectory = currentDirectory
        self.files = files
        self.directories = directories
    }

    func contents(of absolutePath: String) -> [UInt8]? {
        files[absolutePath].map { Array($0.utf8) }
    }

    func kind(of absolutePath: String) -> HostFileKind? {
        if files[absolutePath] != nil { return .file }
        if directories.contains(absolutePath) || files.keys.contains(where: { $0.hasPrefix(absolutePath + "/") }) {
            return .directory
        }
        return nil
    }
}

/// Helpers shared by the profile test suites.
enum ProfileFixtures {
    /// The marker tests put where they expect an error to point; it is removed before parsing.
    static let marker: Character = "‸"

    /// The text without the marker, and the 1-based line and column where the marker was.
    static func locate(_ marked: String) -> (text: String, line: Int, column: Int)? {
        var line = 1
        var column = 1
        for character in marked {
            if character == marker {
                var text = marked
                text.removeAll { $0 == marker }
                return (text, line, column)
            }
            if character == "\n" {
                line += 1
                column = 1
            } else {
                column += character.unicodeScalars.count
            }
        }
        return nil
    }

    /// The standard in-memory tree: `/work/profiles` with an overlay directory and a tarball.
    static func fileSystem(_ profiles: [String: String]) -> InMemoryFileSystem {
        var files = ["/work/profiles/rootfs.tar": "", "/work/profiles/overlay/etc/motd": "hi",
                     "/work/profiles/lab.key": String(repeating: "ab", count: 32) + "\n"]
        for (name, text) in profiles { files["/work/profiles/" + name] = text }
        return InMemoryFileSystem(files: files, directories: ["/work/profiles/oci-layout", "/work/profiles/empty-overlay"])
    }

    /// Loads `profiles/x.json` holding `text`, from `/work`.
    static func load(_ text: String, extra: [String: String] = [:]) throws(ProfileError) -> Profile {
        var profiles = extra
        profiles["x.json"] = text
        return try ProfileLoader.load(path: "profiles/x.json", fileSystem: fileSystem(profiles))
    }

    /// The repository root, found from this file's path.
    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
}
