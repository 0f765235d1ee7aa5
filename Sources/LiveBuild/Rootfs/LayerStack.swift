import Archive
import Filesystem

/// Streams layers, topmost first, into one sink so that the sink sees what an overlay mount of
/// them would show, without unpacking anything to disk: an entry is dropped when an upper layer
/// already holds a non-directory at its path or above it, deleted it with a whiteout, or made an
/// ancestor opaque. The sink keeps the first entry it gets for a path, so upper layers win.
public struct LayerStack {
    /// Layers, topmost first.
    public var layers: [Layer]
    public var permissions: [PermissionRule]

    public init(layers: [Layer], permissions: [PermissionRule] = []) {
        self.layers = layers
        self.permissions = permissions
    }

    /// Streams every layer into `sink`; returns what was dropped and why, for the manifest.
    @discardableResult
    public func write(to sink: EntrySink) throws -> LayerStack.Statistics {
        let filter = LayerFilter(downstream: sink, permissions: permissions)
        for (index, layer) in layers.enumerated() {
            filter.begin(layer: index, name: layer.name, directories: layer.directories, whiteouts: layer.whiteouts)
            do {
                try layer.source.write(to: filter)
            } catch let error as LiveBuildError {
                throw error
            } catch let error as Archive.Error {
                throw LiveBuildError(code: .input, message: "\(layer.name): \(error)", underlying: error)
            }
        }
        try filter.finish()
        return filter.statistics
    }

    public struct Statistics: Sendable, Equatable {
        public var entries = 0
        public var shadowed = 0
        public var whiteouts = 0
    }
}

/// The filter behind `LayerStack`.
final class LayerFilter: EntrySink {
    private let downstream: EntrySink
    private let rules: [String: PermissionRule]
    private var unusedRules: Set<String>
    /// Non-directory paths of layers above the current one (they hide the path and below).
    private var hidden: Set<String> = []
    /// Paths deleted by whiteouts of layers above (the path and below).
    private var deleted: Set<String> = []
    /// Directories made opaque by layers above (what lies below them is hidden).
    private var opaque: Set<String> = []
    /// What the current layer adds; merged into the sets above when the next layer begins.
    private var pendingHidden: [String] = []
    private var pendingDeleted: [String] = []
    private var pendingOpaque: [String] = []
    /// Weak directories, sent after every layer so that lower layers' metadata wins.
    private var weakDirectories: [FileEntry] = []
    private var weakDirectoryPaths: Set<String> = []
    private var currentWeight: Layer.DirectoryWeight = .strong
    private var currentWhiteouts = false
    private var currentName = ""
    private(set) var statistics = LayerStack.Statistics()

    init(downstream: EntrySink, permissions: [PermissionRule]) {
        self.downstream = downstream
        var rules: [String: PermissionRule] = [:]
        for rule in permissions { rules[rule.path] = rule }
        self.rules = rules
        self.unusedRules = Set(rules.keys)
    }

    func begin(layer index: Int, name: String, directories: Layer.DirectoryWeight, whiteouts: Bool) {
        hidden.formUnion(pendingHidden)
        deleted.formUnion(pendingDeleted)
        opaque.formUnion(pendingOpaque)
        pendingHidden.removeAll()
        pendingDeleted.removeAll()
        pendingOpaque.removeAll()
        currentWeight = directories
        currentWhiteouts = whiteouts
        currentName = name
    }

    func add(_ entry: FileEntry, contents: ContentsProducer) throws {
        var entry = entry
        if currentWhiteouts, entry.name.hasPrefix(".wh.") {
            statistics.whiteouts += 1
            let parent = entry.parentPath ?? ""
            if entry.name == ".wh..wh..opq" {
                pendingOpaque.append(parent)
            } else {
                pendingDeleted.append(FilePath.join(parent, String(entry.name.dropFirst(4))))
            }
            return
        }
        if isCovered(entry.path) {
            statistics.shadowed += 1
            return
        }
        if entry.kind == .hardlink, let target = entry.linkTarget, isCovered(target) {
            // The file it links to was replaced or deleted above: the link goes with it.
            statistics.shadowed += 1
            return
        }
        if let rule = rules[entry.path] {
            rule.apply(to: &entry)
            unusedRules.remove(entry.path)
        }
        if entry.kind == .directory {
            if currentWeight == .weak {
                if weakDirectoryPaths.insert(entry.path).inserted { weakDirectories.append(entry) }
                return
            }
        } else {
            pendingHidden.append(entry.path)
        }
        statistics.entries += 1
        try downstream.add(entry, contents: contents)
    }

    /// Sends the weak directories and checks that every permission rule met its path.
    func finish() throws {
        for entry in weakDirectories {
            statistics.entries += 1
            try downstream.add(entry)
        }
        if let missing = unusedRules.sorted().first {
            throw LiveBuildError(
                code: .profile,
                message: "permissions: /\(missing) does not exist in the image; remove the rule or add the path with an overlay or `files`"
            )
        }
    }

    /// Whether an upper layer hides `path`: a non-directory at it or above, a whiteout at it or
    /// above, or an opaque directory strictly above.
    private func isCovered(_ path: String) -> Bool {
        if hidden.isEmpty && deleted.isEmpty && opaque.isEmpty { return false }
        if hidden.contains(path) || deleted.contains(path) { return true }
        var current = path
        while let parent = FilePath.parent(of: current) {
            if hidden.contains(parent) || deleted.contains(parent) || opaque.contains(parent) { return true }
            current = parent
        }
        return false
    }
}
