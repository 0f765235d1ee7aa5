import Filesystem

/// Mode and owner forced on one path of the image, whichever layer it comes from
/// (the profile's `permissions`, and `mode`/`owner` of inline files).
public struct PermissionRule: Sendable, Equatable {
    /// Normalised path (no leading `/`).
    public var path: String
    public var permissions: UInt32?
    public var uid: UInt32?
    public var gid: UInt32?

    public init(path: String, permissions: UInt32? = nil, uid: UInt32? = nil, gid: UInt32? = nil) {
        self.path = FilePath.normalize(path)
        self.permissions = permissions
        self.uid = uid
        self.gid = gid
    }

    func apply(to entry: inout FileEntry) {
        if let permissions { entry.permissions = permissions & 0o7777 }
        if let uid { entry.uid = uid }
        if let gid { entry.gid = gid }
    }
}
