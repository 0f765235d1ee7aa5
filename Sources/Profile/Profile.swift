/// A live-system profile: what goes into the image and how it boots, after `extends` has been
/// resolved, defaults filled in and relative paths made absolute.
///
/// Load one with ``ProfileLoader/load(path:)``; every field is already validated. The JSON format
/// is described in `Docs/profile.md` and `profiles/schema.json`.
public struct Profile: Sendable, Equatable {
    /// Short machine name, `[a-z0-9][a-z0-9._-]*`, used for output file names.
    public var name: String
    /// Free text for people.
    public var description: String?
    /// Where the root filesystem comes from.
    public var base: Base
    /// Directories copied over the base, in order (later ones win); absolute paths.
    public var overlays: [Overlay]
    /// Mode and ownership set on image paths after the overlays and files are in place, sorted by path.
    public var permissions: [Permission]
    /// Files written into the image from the profile itself.
    public var files: [InlineFile]
    /// Kernel settings shared by all boot entries.
    public var kernel: Kernel
    /// The boot menu.
    public var boot: Boot
    /// How the root filesystem image is compressed.
    public var squashfs: SquashfsSettings
    /// What to build; never empty, no duplicates.
    public var outputs: [Output]
    /// The disk image's settings (used with `outputs: ["disk"]`).
    public var disk: Disk
    /// The PXE tree's settings (used with `outputs: ["pxe"]`).
    public var pxe: Pxe
    /// Node configuration, carried through untouched; always an object when present.
    public var cluster: JSONValue?
    /// `cluster.key` resolved against the file it was written in (absolute); nil when the
    /// profile names no key (the build then generates one).
    public var clusterKeyPath: String?
    /// The absolute path of the profile file that was loaded.
    public var sourcePath: String
    /// The absolute paths of every file merged into this profile: the loaded file first, then the
    /// profile it extends, and so on.
    public var sources: [String]

    /// A profile built in code (tests, tools); the defaults are the ones a profile file gets for
    /// absent keys. `sources` defaults to `[sourcePath]`.
    public init(
        name: String,
        description: String? = nil,
        base: Base,
        overlays: [Overlay] = [],
        permissions: [Permission] = [],
        files: [InlineFile] = [],
        kernel: Kernel = Kernel(),
        boot: Boot = Boot(),
        squashfs: SquashfsSettings = SquashfsSettings(),
        outputs: [Output] = [.iso],
        disk: Disk = Disk(),
        pxe: Pxe = Pxe(),
        cluster: JSONValue? = nil,
        clusterKeyPath: String? = nil,
        sourcePath: String,
        sources: [String]? = nil
    ) {
        self.name = name
        self.description = description
        self.base = base
        self.overlays = overlays
        self.permissions = permissions
        self.files = files
        self.kernel = kernel
        self.boot = boot
        self.squashfs = squashfs
        self.outputs = outputs
        self.disk = disk
        self.pxe = pxe
        self.cluster = cluster
        self.clusterKeyPath = clusterKeyPath
        self.sourcePath = sourcePath
        self.sources = sources ?? [sourcePath]
    }
}
