extension ProfileDecoder {
    /// The base kinds, in documentation order.
    static let baseKinds = ["debian", "tarball", "oci"]
    static let debianKeys = ["suite", "mirror", "components", "variant", "packages", "recommends", "architecture"]
    static let tarballKeys = ["path"]
    static let ociKeys = ["path", "reference"]

    /// The base, or `nil` for a fragment that names no kind (another file may).
    func decodeBase(_ reader: NodeReader) throws(ProfileError) -> Profile.Base? {
        let object = try reader.object(allowing: Self.baseKinds)
        let present = object.members.map(\.key)
        if present.count > 1 {
            let second = object.members[1]
            throw ProfileError(
                at: second.keyLocation, path: reader.path,
                "expected exactly one of \(KeySuggestion.list(Self.baseKinds)), found both \"\(present[0])\" and \"\(present[1])\"")
        }
        guard let kind = object.members.first else {
            if mode == .fragment { return nil }
            throw reader.error("expected exactly one of \(KeySuggestion.list(Self.baseKinds)), found none")
        }
        let value = NodeReader(node: kind.value, path: reader.path.appending(kind.key))
        switch kind.key {
        case "debian": return .debian(try decodeDebian(value))
        case "tarball": return .tarball(try decodeTarball(value))
        default: return .oci(try decodeOCI(value))
        }
    }

    func decodeDebian(_ reader: NodeReader) throws(ProfileError) -> Profile.Debian {
        let object = try reader.object(allowing: Self.debianKeys)
        var debian = Profile.Debian()
        if let value = object.optional("suite") {
            let suite = try value.nonEmptyString("a suite")
            guard suite.utf8.allSatisfy(Self.isWordByte) else {
                throw value.error("invalid suite \"\(suite)\"; expected a codename or suite like \"trixie\" or \"stable\"")
            }
            debian.suite = suite
        }
        if let value = object.optional("mirror") {
            let mirror = try value.nonEmptyString("a URL")
            let schemes = ["http://", "https://", "file://"]
            guard schemes.contains(where: { mirror.hasPrefix($0) && mirror.count > $0.count }),
                !mirror.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 })
            else {
                throw value.error("invalid mirror \"\(mirror)\"; expected an http://, https:// or file:// URL")
            }
            debian.mirror = mirror
        }
        if let value = object.optional("components") {
            let items = try value.array()
            guard !items.isEmpty else { throw value.error("expected at least one component, like [\"main\"]") }
            var components: [String] = []
            for item in items {
                let component = try item.nonEmptyString("a component")
                guard component.utf8.allSatisfy({ Self.isWordByte($0) || $0 == UInt8(ascii: "/") }) else {
                    throw item.error("invalid component \"\(component)\"; expected a name like \"main\" or \"non-free-firmware\"")
                }
                if !components.contains(component) { components.append(component) }
            }
            debian.components = components
        }
        if let value = object.optional("variant") {
            debian.variant = try value.choice(Profile.DebianVariant.self, what: "variant")
        }
        if let value = object.optional("packages") {
            var packages: [String] = []
            for item in try value.mergeableArray() {
                let package = try item.nonEmptyString("a package name")
                let bytes = Array(package.utf8)
                let startsWell = bytes.first.map {
                    (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                } == true
                guard startsWell, !package.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0 == "," || $0.value < 0x20 })
                else {
                    throw item.error(
                        "invalid package \"\(package)\"; expected one Debian package name per element, like \"openssh-server\"")
                }
                if !packages.contains(package) { packages.append(package) }
            }
            debian.packages = packages
        }
        if let value = object.optional("recommends") {
            debian.recommends = try value.bool()
        }
        if let value = object.optional("architecture") {
            debian.architecture = try value.choice(Profile.Architecture.self, what: "architecture")
        }
        return debian
    }

    func decodeTarball(_ reader: NodeReader) throws(ProfileError) -> Profile.Tarball {
        let pathReader: NodeReader
        switch reader.node.value {
        case .string: pathReader = reader
        case .object: pathReader = try reader.object(allowing: Self.tarballKeys).required("path")
        default: throw reader.typeMismatch("an object like {\"path\": \"rootfs.tar.zst\"} or a path string")
        }
        let path = try decodeHostPath(pathReader)
        switch fileSystem.kind(of: path.absolute) {
        case .file: break
        case .directory: throw pathReader.error("tarball \"\(path.written)\" is a directory (\(path.absolute)); expected a tar archive")
        case nil: throw pathReader.error("tarball \"\(path.written)\" not found (looked for \(path.absolute))")
        }
        return Profile.Tarball(path: path.absolute)
    }

    func decodeOCI(_ reader: NodeReader) throws(ProfileError) -> Profile.OCI {
        let object = try reader.object(allowing: Self.ociKeys)
        let pathReader = try object.required("path")
        let path = try decodeHostPath(pathReader)
        guard fileSystem.kind(of: path.absolute) != nil else {
            throw pathReader.error("OCI image \"\(path.written)\" not found (looked for \(path.absolute))")
        }
        var reference: String?
        if let value = object.optional("reference") {
            let text = try value.nonEmptyString("an image reference")
            guard !text.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 }) else {
                throw value.error("invalid reference \"\(text)\"; expected a tag or name:tag without spaces")
            }
            reference = text
        }
        return Profile.OCI(path: path.absolute, reference: reference)
    }

    /// `[A-Za-z0-9._-]`.
    static func isWordByte(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
            || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }
}
