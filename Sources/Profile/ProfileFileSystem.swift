/// The few file operations loading a profile needs, so tests can run against files in memory.
protocol ProfileFileSystem: Sendable {
    /// Absolute path that relative profile paths are taken from.
    var currentDirectory: String { get }
    /// The bytes of a regular file, or `nil` when it cannot be read.
    func contents(of absolutePath: String) -> [UInt8]?
    /// Whether the path exists and what it is; symbolic links are followed.
    func kind(of absolutePath: String) -> HostFileKind?
}
