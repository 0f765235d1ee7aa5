/// The identity of one built medium: ISO volume label, marker file name, and what the boot
/// loaders search for. Uppercase letters, digits, `-` and `_`; 1 to 32 characters.
public struct MediumID: Sendable, Hashable, CustomStringConvertible {
    public let value: String

    /// Validates `raw`, uppercasing it first ("livebuild-1a2b3c4d" becomes "LIVEBUILD-1A2B3C4D").
    public init(_ raw: String) throws(IsoWriter.Error) {
        let value = raw.uppercased()
        let allowed = value.unicodeScalars.allSatisfy {
            ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_"
        }
        guard !value.isEmpty, value.utf8.count <= 32, allowed else { throw .invalidMediumID(raw) }
        self.value = value
    }

    public var description: String { value }
}
