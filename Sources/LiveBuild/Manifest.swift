import Foundation

/// `manifest.json`: what was built from what. Written beside the artefacts.
public struct Manifest: Codable, Sendable, Equatable {
    public struct ProfileInfo: Codable, Sendable, Equatable {
        public var name: String
        /// SHA-256 of the merged profile's canonical JSON.
        public var sha256: String
        /// The files merged into the profile (the loaded one first).
        public var sources: [String]
    }

    public struct Artefact: Codable, Sendable, Equatable {
        public var path: String
        public var size: UInt64
        public var sha256: String
    }

    public struct Stage: Codable, Sendable, Equatable {
        public var name: String
        public var seconds: Double
        public var detail: String
    }

    public var livebuildVersion: String
    public var profile: ProfileInfo
    public var sourceDateEpoch: Int64
    public var mediumID: String
    public var base: String
    public var kernel: String
    public var initramfsModules: [String]
    public var packages: [DpkgStatus.Package]
    public var artefacts: [Artefact]
    public var stages: [Stage]

    /// Pretty, sorted JSON with a trailing newline.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(0x0a)
        return data
    }
}
