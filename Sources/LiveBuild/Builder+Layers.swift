import Archive
import Filesystem
import Foundation
import Profile

extension Builder {
    /// The base as layers (topmost first) and a one-line description for the manifest.
    struct Base {
        var layers: [Layer]
        var description: String
    }

    func baseLayers(scratch: String) async throws -> Base {
        switch profile.base {
        case .debian(let debian):
            let stage = BaseStage(cacheDirectory: cacheDirectory, logger: logger)
            let request = Self.baseRequest(for: debian)
            let result = try await stage.debian(request, sourceDateEpoch: sourceDateEpoch, refresh: refreshBase)
            onEvent(.note(result.fromCache ? "base: cached \(result.tarPath)" : "base: mmdebstrap wrote \(result.tarPath)"))
            return Base(layers: [Layer(name: "base", source: Archive.FileSource(path: result.tarPath), directories: .strong)],
                        description: "debian \(debian.suite) (\(result.fromCache ? "cached" : "fresh") \(request.cacheKey.prefix(12)))")
        case .tarball(let tarball):
            guard FileManager.default.isReadableFile(atPath: tarball.path) else {
                throw LiveBuildError(code: .input, message: "base.tarball.path: \(tarball.path) does not exist or is not readable")
            }
            return Base(layers: [Layer(name: "base.tarball", source: Archive.FileSource(path: tarball.path), directories: .strong)],
                        description: "tarball \(tarball.path)")
        case .oci(let oci):
            let image = try OCIImage(path: oci.path, reference: oci.reference, scratch: scratch + "/oci")
            return Base(layers: image.layers, description: "oci \(oci.path) (\(image.layerPaths.count) layers)")
        }
    }

    /// What mmdebstrap is asked for a profile's `base.debian`.
    public static func baseRequest(for debian: Profile.Debian) -> BaseStage.Debian {
        BaseStage.Debian(
            suite: debian.suite, mirror: debian.mirror, components: debian.components,
            variant: debian.variant.rawValue, packages: debian.packages, required: requiredPackages,
            recommends: debian.recommends, architecture: debian.architecture.rawValue)
    }

    /// Inline files on top, then the overlays (the last listed uppermost).
    func upperLayers(users: UserDatabase) throws -> [Layer] {
        var inline: [InlineFilesSource.File] = []
        for (index, file) in profile.files.enumerated() {
            inline.append(InlineFilesSource.File(
                path: file.path, content: Array(file.content.utf8), permissions: UInt32(file.mode.rawValue),
                uid: try resolve(file.owner, users: users, isGroup: false, at: "files[\(index)].owner"),
                gid: try resolve(file.group, users: users, isGroup: true, at: "files[\(index)].group")))
        }
        // The merged profile travels in the image, for the node runtime and `livebuild inspect`.
        inline.append(InlineFilesSource.File(path: "etc/livebuild/profile.json", content: Array((profile.canonicalJSON() + "\n").utf8), permissions: 0o644))
        let listed = Set(profile.files.map { FilePath.normalize($0.path) })
        for path in Self.updateStamps where !listed.contains(path) {
            inline.append(InlineFilesSource.File(path: path, content: Array("TIMESTAMP_NSEC=\(sourceDateEpoch)000000000\n".utf8), permissions: 0o644))
        }
        var layers = [Layer(name: "files", source: InlineFilesSource(files: inline, mtime: sourceDateEpoch), directories: .weak)]
        for (index, overlay) in profile.overlays.enumerated().reversed() {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: overlay.path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw LiveBuildError(code: .input, message: "overlays[\(index)]: \(overlay.path) is not a directory; create it or remove it from the profile")
            }
            layers.append(Layer(name: "overlays[\(index)]", source: DirectorySource(root: overlay.path, mtime: sourceDateEpoch), directories: .weak))
        }
        return layers
    }

    /// systemd's `ConditionNeedsUpdate=/var` stamp. A live system keeps no /var from one boot
    /// to the next, so without it every boot rebuilt the journal's message catalog (1.6 s of
    /// CPU under TCG), though the image's is fresh. Stamped with the build's time: every file
    /// of a Debian base is clamped to it, so /usr is no newer and the unit is skipped; a base
    /// with newer files, or packages added later under persistence, make /usr newer and it runs.
    /// Not /etc/.updated: systemd-sysusers runs on the same condition, and a cluster image's
    /// `cluster` group is made by it at boot (a VM test caught the group missing).
    static let updateStamps = ["var/.updated"]

    func permissionRules(users: UserDatabase) throws -> [PermissionRule] {
        try profile.permissions.enumerated().map { index, rule in
            PermissionRule(
                path: rule.path, permissions: rule.mode.map { UInt32($0.rawValue) },
                uid: try resolve(rule.owner, users: users, isGroup: false, at: "permissions[\(index)].owner"),
                gid: try resolve(rule.group, users: users, isGroup: true, at: "permissions[\(index)].group"))
        }
    }

    func resolve(_ identity: Profile.Identity?, users: UserDatabase, isGroup: Bool, at path: String) throws -> UInt32 {
        switch identity {
        case nil: return 0
        case .id(let id): return id
        case .name(let name):
            if let id = isGroup ? users.gid(name) : users.uid(name) { return id }
            throw LiveBuildError(code: .profile, message: "\(path): the image has no \(isGroup ? "group" : "user") '\(name)' in /etc/\(isGroup ? "group" : "passwd"); use a number or add the \(isGroup ? "group" : "user") in the base")
        }
    }

    /// Users and groups of the image, read only when the profile names an owner: from an
    /// overlay or inline file if one provides /etc/passwd, else from the base's top layer down.
    func userDatabase(base: [Layer]) throws -> UserDatabase {
        let identities = profile.files.flatMap { [$0.owner, $0.group] } + profile.permissions.flatMap { [$0.owner, $0.group] }
        let named = identities.contains { if case .name(let name) = $0, name != "root" { return true } else { return false } }
        guard named else { return UserDatabase() }
        var found: [String: String] = [:]
        for file in profile.files where ["etc/passwd", "etc/group"].contains(FilePath.normalize(file.path)) {
            found[FilePath.normalize(file.path)] = file.content
        }
        for overlay in profile.overlays.reversed() {
            for name in ["etc/passwd", "etc/group"] where found[name] == nil {
                if let data = FileManager.default.contents(atPath: overlay.path + "/" + name) {
                    found[name] = String(decoding: data, as: UTF8.self)
                }
            }
        }
        for layer in base where found.count < 2 {
            guard let source = layer.source as? Archive.FileSource else { continue }
            let reader = try Archive.Reader(path: source.path)
            while found.count < 2, let entry = try reader.next() {
                if (entry.path == "etc/passwd" || entry.path == "etc/group"), found[entry.path] == nil, entry.kind == .regular {
                    found[entry.path] = String(decoding: try reader.readAll(), as: UTF8.self)
                }
            }
        }
        return UserDatabase(passwd: found["etc/passwd"] ?? "", group: found["etc/group"] ?? "")
    }
}
