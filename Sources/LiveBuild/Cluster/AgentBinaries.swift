import Foundation

/// The node runtime's executables (`clusterd`, `cluster`) that `livebuild make` installs into
/// images with a `cluster` section. They must be built with the Swift standard library linked
/// statically (`make agent`), since images carry no Swift runtime.
public struct AgentBinaries: Sendable, Equatable {
    public var clusterd: String
    public var cluster: String

    public init(clusterd: String, cluster: String) {
        self.clusterd = clusterd
        self.cluster = cluster
    }

    /// Where the binaries are looked for, in order: `$LIVEBUILD_AGENT_DIR`, beside the running
    /// livebuild, the repository's `.build-agent/release` (what `make agent` writes) seen from
    /// a livebuild in `.build/…`, then `/usr/lib/livebuild`.
    public static func candidateDirectories(environment: [String: String] = ProcessInfo.processInfo.environment,
                                            executable: String = CommandLine.arguments.first ?? "") -> [String] {
        var directories: [String] = []
        if let explicit = environment["LIVEBUILD_AGENT_DIR"], !explicit.isEmpty { directories.append(explicit) }
        let own = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        directories.append(own.path)
        // .build/<triple>/<config>/livebuild → .build-agent/release
        var ancestor = own
        for _ in 0..<4 {
            ancestor = ancestor.deletingLastPathComponent()
            if ancestor.lastPathComponent == ".build" {
                directories.append(ancestor.deletingLastPathComponent().appendingPathComponent(".build-agent/release").path)
                break
            }
        }
        directories.append("/usr/lib/livebuild")
        return directories
    }

    /// Finds both binaries in the first candidate directory that has statically linked ones.
    public static func locate(in directories: [String] = candidateDirectories()) throws -> AgentBinaries {
        var rejected: [String] = []
        for directory in directories {
            let clusterd = directory + "/clusterd", cluster = directory + "/cluster"
            guard FileManager.default.isExecutableFile(atPath: clusterd),
                  FileManager.default.isExecutableFile(atPath: cluster) else { continue }
            if let problem = try linksSwiftRuntimeDynamically(clusterd) ?? linksSwiftRuntimeDynamically(cluster) {
                rejected.append("\(directory) (\(problem))")
                continue
            }
            return AgentBinaries(clusterd: clusterd, cluster: cluster)
        }
        var message = "this profile has a cluster section, so the image needs clusterd and cluster built with a static Swift runtime; run `make agent` (or set LIVEBUILD_AGENT_DIR to a directory holding them)"
        if !rejected.isEmpty { message += "; not usable: " + rejected.joined(separator: ", ") }
        throw LiveBuildError(code: .input, message: message)
    }

    /// A reason when the ELF file depends on a shared Swift runtime library (`libswiftCore.so`
    /// in its dynamic section), nil when it does not.
    static func linksSwiftRuntimeDynamically(_ path: String) throws -> String? {
        let data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        guard data.count > 4, data.prefix(4) == Data([0x7f, 0x45, 0x4c, 0x46]) else { return "\(path) is not an ELF executable" }
        if data.range(of: Data("libswiftCore.so".utf8)) != nil {
            return "\(URL(fileURLWithPath: path).lastPathComponent) needs libswiftCore.so: built without --static-swift-stdlib"
        }
        return nil
    }
}
