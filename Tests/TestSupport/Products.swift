import Foundation

/// Executables of this package, as `swift build` left them beside the test bundle.
public enum Products {
    /// The path of executable `name` (`clusterd`, `cluster`, `livebuild`): `LIVEBUILD_BIN_DIR`,
    /// else the directory of the running test bundle, else `.build/debug`.
    public static func path(_ name: String) throws -> String {
        var candidates: [String] = []
        if let directory = ProcessInfo.processInfo.environment["LIVEBUILD_BIN_DIR"], !directory.isEmpty {
            candidates.append(directory + "/" + name)
        }
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        candidates.append(bundle.appendingPathComponent(name).path)
        candidates.append(bundle.deletingLastPathComponent().appendingPathComponent(name).path)
        candidates.append(Repository.root + "/.build/debug/" + name)
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
            return found
        }
        throw Tool.Failure(description: "executable \(name) not found (looked at \(candidates.joined(separator: ", "))); run `swift build` first")
    }
}
