/// Turns a positioned JSON tree into a ``Profile``, checking every key, type and value, and
/// resolving host paths relative to the file each path was written in.
///
/// It runs twice per load: once on each file alone (`fragment`: keys that another file in the
/// `extends` chain may supply are optional, checks that span sections are skipped) so mistakes
/// are reported in the file that has them, and once on the merged tree (`complete`).
struct ProfileDecoder {
    /// How much of a profile the tree must hold.
    enum Mode: Equatable {
        /// One file of an `extends` chain: required keys may be missing.
        case fragment
        /// The merged profile: everything required must be there.
        case complete
    }

    /// Every key allowed at the top level of a profile, in documentation order.
    static let topLevelKeys = [
        "$schema", "name", "description", "extends", "base", "overlays", "permissions", "files",
        "kernel", "boot", "squashfs", "outputs", "disk", "pxe", "cluster",
    ]

    /// Names are used in output file names.
    static let maximumNameLength = 64

    let mode: Mode
    let fileSystem: any ProfileFileSystem
    /// Whether the tree was merged from several files (only changes wording of hints).
    var merged = false

    func decode(_ root: JSONNode) throws(ProfileError) -> Profile {
        let reader = NodeReader(node: root, path: .root)
        guard case .object = root.value else { throw reader.typeMismatch("a JSON object at the top level") }
        let object = try reader.object(allowing: Self.topLevelKeys)
        let hint = merged ? " (set neither here nor in the profiles this one extends)" : ""

        if let schema = object.optional("$schema") { _ = try schema.string() }
        if let extends = object.optional("extends") { _ = try extends.nonEmptyString("a path to a profile") }

        var name = ""
        if let value = object.optional("name") {
            name = try decodeName(value)
        } else if mode == .complete {
            _ = try object.required("name")
        }
        let description = try object.optional("description")?.string()

        var base = Profile.Base.tarball(Profile.Tarball(path: ""))
        if let value = object.optional("base") {
            if let decoded = try decodeBase(value) { base = decoded }
        } else if mode == .complete {
            _ = try object.required("base", hint: hint)
        }

        let overlays = try object.optional("overlays").map { value throws(ProfileError) in try decodeOverlays(value) } ?? []
        let permissions = try object.optional("permissions").map { value throws(ProfileError) in try decodePermissions(value) } ?? []
        let files = try object.optional("files").map { value throws(ProfileError) in try decodeFiles(value) } ?? []
        let kernel = try object.optional("kernel").map { value throws(ProfileError) in try decodeKernel(value) } ?? Profile.Kernel()
        let boot = try object.optional("boot").map { value throws(ProfileError) in try decodeBoot(value) } ?? Profile.Boot()
        let squashfs = try object.optional("squashfs").map { value throws(ProfileError) in try decodeSquashfs(value) }
            ?? Profile.SquashfsSettings()
        let outputs = try object.optional("outputs").map { value throws(ProfileError) in try decodeOutputs(value) } ?? [.iso]
        let disk = try object.optional("disk").map { value throws(ProfileError) in try decodeDisk(value) } ?? Profile.Disk()
        if mode == .complete, let value = object.optional("disk"), !outputs.contains(.disk) {
            throw value.error("\"disk\" settings are given, but outputs has no \"disk\"; add \"disk\" to outputs or remove \"disk\"")
        }
        let pxe = try object.optional("pxe").map { value throws(ProfileError) in try decodePxe(value) } ?? Profile.Pxe()
        // A cluster node's ISO carries the PXE tree too (a head serves it), so it takes them as well.
        if mode == .complete, let value = object.optional("pxe"), !outputs.contains(.pxe),
           !(outputs.contains(.iso) && object.optional("cluster") != nil) {
            throw value.error("\"pxe\" settings are given, but nothing boots over the network: outputs has no \"pxe\", and only a cluster node's ISO (with a \"cluster\" section) carries a PXE tree; add \"pxe\" to outputs or remove \"pxe\"")
        }

        var cluster: JSONValue?
        var clusterKeyPath: String?
        if let value = object.optional("cluster") {
            (cluster, clusterKeyPath) = try decodeCluster(value)
        }

        return Profile(
            name: name, description: description, base: base, overlays: overlays, permissions: permissions,
            files: files, kernel: kernel, boot: boot, squashfs: squashfs, outputs: outputs, disk: disk, pxe: pxe, cluster: cluster,
            clusterKeyPath: clusterKeyPath, sourcePath: root.location.file)
    }

    func decodeName(_ reader: NodeReader) throws(ProfileError) -> String {
        let name = try reader.nonEmptyString("a name")
        let bytes = Array(name.utf8)
        let isLowerAlnum = { (byte: UInt8) in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
        let valid = bytes.first.map(isLowerAlnum) == true
            && bytes.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
        guard valid else {
            throw reader.error(
                "invalid name \"\(name)\"; expected lowercase letters, digits, '.', '_' and '-', starting with a letter or digit (the name is used for output file names)")
        }
        guard bytes.count <= Self.maximumNameLength else {
            throw reader.error("name is \(bytes.count) characters long; at most \(Self.maximumNameLength) are allowed")
        }
        return name
    }

    func decodeOutputs(_ reader: NodeReader) throws(ProfileError) -> [Profile.Output] {
        let items = try reader.array()
        guard !items.isEmpty else { throw reader.error("expected at least one output, like [\"iso\"]") }
        var outputs: [Profile.Output] = []
        for item in items {
            let output = try item.choice(Profile.Output.self, what: "output")
            guard !outputs.contains(output) else { throw item.error("duplicate output \"\(output.rawValue)\"") }
            outputs.append(output)
        }
        return outputs
    }

    static let diskKeys = ["format", "persistence", "margin"]

    static let pxeKeys = ["root", "nodes"]
    static let pxeNodeKeys = ["mac", "root"]

    func decodePxe(_ reader: NodeReader) throws(ProfileError) -> Profile.Pxe {
        let object = try reader.object(allowing: Self.pxeKeys)
        var pxe = Profile.Pxe()
        if let value = object.optional("root") {
            pxe.root = try value.choice(Profile.Pxe.Root.self, what: "PXE root")
        }
        if let nodes = object.optional("nodes") {
            for node in try nodes.array() {
                let fields = try node.object(allowing: Self.pxeNodeKeys)
                let macField = try fields.required("mac", hint: " (the MAC address the node boots with, like 52:54:00:12:34:56)")
                let mac = try decodeMAC(macField)
                if pxe.nodes.contains(where: { $0.mac == mac }) {
                    throw macField.error("MAC \(mac) is given twice in pxe.nodes; keep one entry per node")
                }
                let root = try fields.required("root", hint: " (\"http\" or \"nfs\")").choice(Profile.Pxe.Root.self, what: "PXE root")
                pxe.nodes.append(Profile.Pxe.Node(mac: mac, root: root))
            }
        }
        return pxe
    }

    func decodeDisk(_ reader: NodeReader) throws(ProfileError) -> Profile.Disk {
        let object = try reader.object(allowing: Self.diskKeys)
        var disk = Profile.Disk()
        if let value = object.optional("format") {
            disk.format = try value.choice(Profile.Disk.Format.self, what: "disk format")
        }
        if let value = object.optional("persistence") {
            let text = try value.nonEmptyString("a size like \"512MiB\"")
            guard let bytes = Profile.Disk.bytes(text) else {
                throw value.error("invalid size \"\(text)\"; expected a whole number with a unit, like \"512MiB\" or \"2GiB\"")
            }
            guard bytes >= 16 << 20 else {
                throw value.error("persistence size \(text) is too small; ext4 needs at least 16MiB, and home directories far more (try \"1GiB\")")
            }
            disk.persistenceBytes = bytes
        }
        if let value = object.optional("margin") {
            disk.marginPercent = try value.integer(in: Profile.Disk.margins, what: "margin (percent)")
        }
        return disk
    }

    /// A host path written in a profile, made absolute relative to the directory of the file it
    /// was written in. `display` is the same path as the user would name it (for messages).
    func decodeHostPath(_ reader: NodeReader) throws(ProfileError) -> (written: String, display: String, absolute: String) {
        let written = try reader.nonEmptyString("a path")
        let display = HostPath.resolve(written, relativeTo: HostPath.directory(of: reader.node.location.file))
        let absolute = HostPath.absolute(display, currentDirectory: fileSystem.currentDirectory)
        return (written, display, absolute)
    }
}
