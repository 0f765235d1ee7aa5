extension Profile {
    /// The merged profile as compact JSON with sorted keys and every default written out: equal
    /// profiles give equal bytes, so the text can be hashed (for the build manifest, volume IDs
    /// and UUIDs).
    ///
    /// The text is itself a valid profile. Host paths (overlays, tarball, OCI image) are written
    /// relative to the directory of ``sourcePath``, so the hash does not change when the checkout
    /// moves; ``sourcePath`` and ``sources`` are not included. Only the profile is hashed here,
    /// not the contents of the files it points at.
    public func canonicalJSON() -> String {
        jsonValue.canonicalJSON
    }

    /// The profile as a JSON value in the profile format, defaults filled in.
    public var jsonValue: JSONValue {
        let directory = HostPath.directory(of: sourcePath)
        let relative = { (path: String) in JSONValue.string(HostPath.relative(path, from: directory)) }
        var root: [String: JSONValue] = [
            "name": .string(name),
            "overlays": .array(overlays.map { relative($0.path) }),
            "permissions": .object(Dictionary(permissions.map { ($0.path, $0.jsonValue) }, uniquingKeysWith: { _, last in last })),
            "files": .array(files.map(\.jsonValue)),
            "kernel": .object(["cmdline": .array(kernel.cmdline.map(JSONValue.string))]),
            "boot": boot.jsonValue,
            "squashfs": squashfs.jsonValue,
            "outputs": .array(outputs.map { .string($0.rawValue) }),
        ]
        if let description { root["description"] = .string(description) }
        // Only with a disk output, so other profiles' digests stay as they were.
        if outputs.contains(.disk) {
            var settings: [String: JSONValue] = ["format": .string(disk.format.rawValue), "margin": .number(String(disk.marginPercent))]
            if let bytes = disk.persistenceBytes { settings["persistence"] = .string("\(bytes >> 20)MiB") }
            root["disk"] = .object(settings)
        }
        // Only when not the default, likewise.
        if outputs.contains(.pxe) || cluster != nil, pxe != Pxe() {
            var settings: [String: JSONValue] = ["root": .string(pxe.root.rawValue)]
            if !pxe.nodes.isEmpty {
                settings["nodes"] = .array(pxe.nodes.map { .object(["mac": .string($0.mac), "root": .string($0.root.rawValue)]) })
            }
            root["pxe"] = .object(settings)
        }
        if let cluster { root["cluster"] = cluster }
        switch base {
        case .debian(let debian):
            root["base"] = .object(["debian": .object([
                "suite": .string(debian.suite),
                "mirror": .string(debian.mirror),
                "components": .array(debian.components.map(JSONValue.string)),
                "variant": .string(debian.variant.rawValue),
                "packages": .array(debian.packages.map(JSONValue.string)),
                "recommends": .bool(debian.recommends),
                "architecture": .string(debian.architecture.rawValue),
            ])])
        case .tarball(let tarball):
            root["base"] = .object(["tarball": .object(["path": relative(tarball.path)])])
        case .oci(let oci):
            var fields: [String: JSONValue] = ["path": relative(oci.path)]
            if let reference = oci.reference { fields["reference"] = .string(reference) }
            root["base"] = .object(["oci": .object(fields)])
        }
        return .object(root)
    }
}

extension Profile.Permission {
    var jsonValue: JSONValue {
        var fields: [String: JSONValue] = [:]
        if let mode { fields["mode"] = .string(mode.description) }
        if let owner { fields["owner"] = owner.jsonValue }
        if let group { fields["group"] = group.jsonValue }
        return .object(fields)
    }
}

extension Profile.InlineFile {
    var jsonValue: JSONValue {
        var fields: [String: JSONValue] = ["path": .string(path), "content": .string(content), "mode": .string(mode.description)]
        if let owner { fields["owner"] = owner.jsonValue }
        if let group { fields["group"] = group.jsonValue }
        return .object(fields)
    }
}

extension Profile.Boot {
    var jsonValue: JSONValue {
        var fields: [String: JSONValue] = [
            "timeout": .integer(timeout),
            "entries": .array(entries.map {
                .object(["label": .string($0.label), "cmdline": .array($0.cmdline.map(JSONValue.string))])
            }),
        ]
        if let serial { fields["serial"] = .object(["port": .integer(serial.port), "speed": .integer(serial.speed)]) }
        return .object(fields)
    }
}

extension Profile.SquashfsSettings {
    var jsonValue: JSONValue {
        var fields: [String: JSONValue] = ["compression": .string(compression.rawValue), "blockSize": .integer(blockSize)]
        if let level { fields["level"] = .integer(level) }
        return .object(fields)
    }
}
