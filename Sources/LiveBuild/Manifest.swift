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

        public init(name: String, seconds: Double, detail: String) {
            self.name = name
            self.seconds = seconds
            self.detail = detail
        }
    }

    /// The node runtime in images with a `cluster` section.
    public struct Cluster: Codable, Sendable, Equatable {
        public var name: String
        /// Identifies the cluster key without revealing it.
        public var keyFingerprint: String
        /// The key file on the build host (to build more images of the same cluster).
        public var keyFile: String
        public var clusterdBytes: UInt64
        public var clusterBytes: UInt64
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
    public var cluster: Cluster?

    /// Pretty, sorted JSON with a trailing newline.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(0x0a)
        return data
    }
}
