extension ProfileDecoder {
    static let permissionKeys = ["mode", "owner", "group"]
    static let fileKeys = ["path", "content", "mode", "owner", "group"]
    /// The largest id `chown` accepts (`(uid_t)-1` means "unchanged").
    static let maximumID = 4_294_967_294

    func decodeOverlays(_ reader: NodeReader) throws(ProfileError) -> [Profile.Overlay] {
        var overlays: [Profile.Overlay] = []
        for item in try reader.mergeableArray() {
            let path = try decodeHostPath(item)
            switch fileSystem.kind(of: path.absolute) {
            case .directory: overlays.append(Profile.Overlay(path: path.absolute))
            case .file: throw item.error("overlay \"\(path.written)\" is not a directory (\(path.absolute))")
            case nil: throw item.error("overlay directory \"\(path.written)\" not found (looked for \(path.absolute))")
            }
        }
        return overlays
    }

    func decodePermissions(_ reader: NodeReader) throws(ProfileError) -> [Profile.Permission] {
        let object = try reader.anyObject()
        var byPath: [String: (permission: Profile.Permission, location: SourceLocation)] = [:]
        for (key, keyLocation, value) in object.entries {
            if let problem = ImagePath.problem(with: key, allowRoot: true) {
                throw ProfileError(at: keyLocation, path: value.path, problem)
            }
            let path = ImagePath.normalize(key)
            if let first = byPath[path] {
                throw ProfileError(
                    at: keyLocation, path: value.path,
                    "duplicate path \"\(path)\"; first given at \(first.location.description(from: keyLocation))")
            }
            let fields = try value.object(allowing: Self.permissionKeys)
            guard !fields.members.isEmpty else {
                throw value.error("expected at least one of \(KeySuggestion.list(Self.permissionKeys)), found an empty object")
            }
            let permission = Profile.Permission(
                path: path,
                mode: try fields.optional("mode").map { mode throws(ProfileError) in try decodeMode(mode) },
                owner: try fields.optional("owner").map { owner throws(ProfileError) in try decodeIdentity(owner, what: "user") },
                group: try fields.optional("group").map { group throws(ProfileError) in try decodeIdentity(group, what: "group") })
            byPath[path] = (permission, keyLocation)
        }
        return byPath.values.map(\.permission).sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
    }

    func decodeFiles(_ reader: NodeReader) throws(ProfileError) -> [Profile.InlineFile] {
        var files: [Profile.InlineFile] = []
        var seen: [String: NodeReader] = [:]
        for item in try reader.mergeableArray() {
            let fields = try item.object(allowing: Self.fileKeys)
            let pathReader = try fields.required("path")
            let written = try pathReader.nonEmptyString("an absolute path in the image")
            if let problem = ImagePath.problem(with: written, allowRoot: false) { throw pathReader.error(problem) }
            let path = ImagePath.normalize(written)
            if let first = seen[path] {
                let location = first.node.location.description(from: pathReader.node.location)
                throw pathReader.error("duplicate path \"\(path)\"; first given at \(first.path) (\(location))")
            }
            seen[path] = pathReader
            let content = try fields.required("content").string()
            var file = Profile.InlineFile(path: path, content: content)
            if let mode = fields.optional("mode") { file.mode = try decodeMode(mode) }
            file.owner = try fields.optional("owner").map { owner throws(ProfileError) in try decodeIdentity(owner, what: "user") }
            file.group = try fields.optional("group").map { group throws(ProfileError) in try decodeIdentity(group, what: "group") }
            files.append(file)
        }
        return files
    }

    /// An octal mode string; numbers are refused because JSON numbers are decimal.
    func decodeMode(_ reader: NodeReader) throws(ProfileError) -> Profile.FileMode {
        guard case .string(let text) = reader.node.value else {
            if case .number = reader.node.value {
                throw reader.typeMismatch("an octal string like \"0644\" (JSON numbers are decimal)")
            }
            throw reader.typeMismatch("an octal string like \"0644\"")
        }
        guard let mode = Profile.FileMode(octal: text) else {
            throw reader.error("invalid mode \"\(text)\"; expected 3 or 4 octal digits like \"0644\" or \"4755\"")
        }
        return mode
    }

    /// A user or group name, or a numeric id.
    func decodeIdentity(_ reader: NodeReader, what: String) throws(ProfileError) -> Profile.Identity {
        switch reader.node.value {
        case .number:
            let id = try reader.integer(in: 0...Self.maximumID, what: "\(what) id")
            return .id(UInt32(id))
        case .string(let name):
            let bytes = Array(name.utf8)
            let isLower = { (byte: UInt8) in (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) }
            let isDigit = { (byte: UInt8) in (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
            var body = bytes[...]
            if body.last == UInt8(ascii: "$") { body = body.dropLast() }
            let valid = !bytes.isEmpty && bytes.count <= 32
                && bytes.first.map { isLower($0) || $0 == UInt8(ascii: "_") } == true
                && body.allSatisfy { isLower($0) || isDigit($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }
            guard valid else {
                throw reader.error("invalid \(what) name \"\(name)\"; expected a name like \"root\" or a numeric id like 0")
            }
            return .name(name)
        default:
            throw reader.typeMismatch("a \(what) name or a numeric id")
        }
    }
}
