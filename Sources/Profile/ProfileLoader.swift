/// Loads profiles from disk: reads the file, follows `extends`, merges, validates, and makes
/// relative paths absolute.
public enum ProfileLoader {
    /// Longest `extends` chain followed (a guard against runaway chains that are not cycles).
    static let maximumChainLength = 32

    /// Loads the profile at `path` (relative to the current directory, or absolute).
    ///
    /// Every problem is reported as one ``ProfileError`` naming the file, JSON path and position.
    public static func load(path: String) throws(ProfileError) -> Profile {
        try load(path: path, fileSystem: LocalFileSystem())
    }

    /// Loads through `fileSystem`, which tests replace with files in memory.
    static func load(path: String, fileSystem: any ProfileFileSystem) throws(ProfileError) -> Profile {
        let absolute = HostPath.absolute(path, currentDirectory: fileSystem.currentDirectory)
        var chain: [ChainLink] = []
        let tree = try loadTree(display: path, absolute: absolute, referencedBy: nil, chain: &chain, fileSystem: fileSystem)
        var decoder = ProfileDecoder(mode: .complete, fileSystem: fileSystem)
        decoder.merged = chain.count > 1
        var profile = try decoder.decode(tree)
        profile.sourcePath = absolute
        profile.sources = chain.map(\.absolute)
        return profile
    }

    /// One file in an `extends` chain.
    struct ChainLink {
        var display: String
        var absolute: String
    }

    /// The merged tree of `absolute` and everything it extends; appends each file to `chain`.
    private static func loadTree(
        display: String, absolute: String, referencedBy reference: NodeReader?, chain: inout [ChainLink],
        fileSystem: any ProfileFileSystem
    ) throws(ProfileError) -> JSONNode {
        if chain.contains(where: { $0.absolute == absolute }), let reference {
            let names = (chain.map(\.display) + [display]).joined(separator: " -> ")
            throw reference.error("extends cycle: \(names)")
        }
        if chain.count >= maximumChainLength, let reference {
            throw reference.error("extends chain is longer than \(maximumChainLength) profiles")
        }
        chain.append(ChainLink(display: display, absolute: absolute))

        guard let bytes = fileSystem.contents(of: absolute) else {
            let reason = switch fileSystem.kind(of: absolute) {
            case .directory: "it is a directory"
            case .file: "it is not readable"
            case nil: "no such file"
            }
            if let reference {
                let written = (try? reference.string()) ?? display
                throw reference.error("cannot read extended profile \"\(written)\" (\(absolute)): \(reason)")
            }
            throw ProfileError(file: display, message: "cannot read profile (\(absolute)): \(reason)")
        }
        let tree: JSONNode
        do { tree = try JSONParser.parse(bytes, file: display) } catch { throw ProfileError(error) }
        let extends = tree.member("extends")
        if extends == nil, let removal = ProfileMerger.firstRemoval(in: tree) {
            throw removal.error("null removes a setting inherited through \"extends\", but this profile extends none; remove the key")
        }
        if extends != nil || reference != nil {
            // One file of a chain: report its own mistakes in it before merging hides them.
            // (A lone profile is checked once, completely, by the caller.) Its removals are
            // checked by the merge: they only say which inherited keys to drop.
            _ = try ProfileDecoder(mode: .fragment, fileSystem: fileSystem).decode(ProfileMerger.withoutRemovals(tree))
        }
        guard let extends else { return tree }
        let reader = NodeReader(node: extends.value, path: JSONPath.root.appending("extends"))
        let written = try reader.nonEmptyString("a path to a profile")
        let parentDisplay = HostPath.resolve(written, relativeTo: HostPath.directory(of: display))
        let parentAbsolute = HostPath.resolve(written, relativeTo: HostPath.directory(of: absolute))
        let parent = try loadTree(
            display: parentDisplay, absolute: parentAbsolute, referencedBy: reader, chain: &chain, fileSystem: fileSystem)
        return ProfileMerger.merge(parent: parent, child: tree)
    }
}
