/// A path into a JSON document, printed the way users write it: `boot.entries[0].label`,
/// `permissions["/etc/shadow"].mode`. The root is the empty path, printed as `""`.
public struct JSONPath: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// One step: an object key or an array index.
    public enum Component: Sendable, Equatable, Hashable {
        case key(String)
        case index(Int)
    }

    /// The steps from the document root.
    public var components: [Component]

    /// A path made of `components`; the root when empty.
    public init(_ components: [Component] = []) {
        self.components = components
    }

    /// The document root.
    public static let root = JSONPath()

    /// This path extended by an object key.
    public func appending(_ key: String) -> JSONPath {
        JSONPath(components + [.key(key)])
    }

    /// This path extended by an array index.
    public func appending(index: Int) -> JSONPath {
        JSONPath(components + [.index(index)])
    }

    /// The keys only (indices dropped), used to match merge rules such as `base.debian.packages`.
    var keys: [String] {
        components.compactMap { if case .key(let key) = $0 { key } else { nil } }
    }

    /// The path as users write it, like `boot.entries[0].label`.
    public var description: String {
        var text = ""
        for component in components {
            switch component {
            case .index(let index):
                text += "[\(index)]"
            case .key(let key) where JSONPath.isIdentifier(key):
                text += text.isEmpty ? key : "." + key
            case .key(let key):
                text += "[" + JSONValue.string(key).canonicalJSON + "]"
            }
        }
        return text
    }

    private static func isIdentifier(_ key: String) -> Bool {
        guard let first = key.unicodeScalars.first, first == "$" || first == "_" || first.properties.isAlphabetic
        else { return false }
        return key.unicodeScalars.allSatisfy { $0 == "$" || $0 == "_" || ($0.isASCII && $0.properties.isAlphabetic) || ("0"..."9").contains($0) }
    }
}
