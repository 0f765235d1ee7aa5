/// One entry of a filesystem tree as it travels through the build: the header of a tar member,
/// an overlay file, an inline file, a squashfs inode. A plain value; contents travel beside it.
public struct FileEntry: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case regular, directory, symlink, hardlink, characterDevice, blockDevice, fifo, socket
    }

    /// Path relative to the root, normalised by `FilePath.normalize`: no leading `/` or `./`,
    /// no `.`/`..` components, no trailing `/`. The root directory itself is `""`.
    public var path: String
    public var kind: Kind
    /// Permission bits including setuid, setgid and sticky (`0o7777`); no file-type bits.
    public var permissions: UInt32
    public var uid: UInt32
    public var gid: UInt32
    /// Modification time, seconds since the epoch.
    public var mtime: Int64
    /// Size of the contents in bytes (regular files only; 0 otherwise).
    public var size: UInt64
    /// The symlink's target, or for `.hardlink` the normalised path of the entry it links to.
    public var linkTarget: String?
    public var deviceMajor: UInt32
    public var deviceMinor: UInt32
    /// Extended attributes, sorted by name.
    public var xattrs: [Xattr]

    public init(
        path: String, kind: Kind, permissions: UInt32, uid: UInt32 = 0, gid: UInt32 = 0,
        mtime: Int64 = 0, size: UInt64 = 0, linkTarget: String? = nil,
        deviceMajor: UInt32 = 0, deviceMinor: UInt32 = 0, xattrs: [Xattr] = []
    ) {
        self.path = path
        self.kind = kind
        self.permissions = permissions & 0o7777
        self.uid = uid
        self.gid = gid
        self.mtime = mtime
        self.size = size
        self.linkTarget = linkTarget
        self.deviceMajor = deviceMajor
        self.deviceMinor = deviceMinor
        self.xattrs = xattrs.sorted { $0.name < $1.name }
    }

    /// The file-type bits of `st_mode` for this kind (`S_IFREG` etc.); hard links report `S_IFREG`.
    public var typeBits: UInt32 {
        switch kind {
        case .regular, .hardlink: return 0o100000
        case .directory: return 0o040000
        case .symlink: return 0o120000
        case .characterDevice: return 0o020000
        case .blockDevice: return 0o060000
        case .fifo: return 0o010000
        case .socket: return 0o140000
        }
    }

    /// Full `st_mode`: type bits and permissions.
    public var mode: UInt32 { typeBits | permissions }

    /// Last path component (`""` for the root).
    public var name: Substring {
        guard let slash = path.lastIndex(of: "/") else { return Substring(path) }
        return path[path.index(after: slash)...]
    }

    /// Parent directory path (`nil` for the root).
    public var parentPath: String? { FilePath.parent(of: path) }
}

/// One extended attribute (`security.capability`, `user.foo`, ...).
public struct Xattr: Sendable, Hashable {
    public var name: String
    public var value: [UInt8]
    public init(name: String, value: [UInt8]) {
        self.name = name
        self.value = value
    }
}
