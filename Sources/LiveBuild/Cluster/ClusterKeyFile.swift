import ClusterWire
import Foundation

/// The cluster key as the build sees it: read from the profile's `cluster.key`, or generated
/// once beside the outputs and reused by every later build of the same cluster, so images
/// built separately (a head and its nodes, a rebuild) still recognise each other.
///
/// The file holds 64 hex digits and a newline (what `openssl rand -hex 32` writes). Only the
/// fingerprint is ever printed or written to a manifest.
public struct ClusterKeyFile: Sendable, Equatable {
    public var path: String
    /// The file's contents, normalised to 64 lowercase hex digits and a newline.
    public var text: String
    public var fingerprint: String
    /// Whether this build created the file.
    public var generated: Bool

    /// Where a generated key for cluster `name` lives: beside the output directory.
    public static func defaultPath(output: String, clusterName: String) -> String {
        URL(fileURLWithPath: output).standardizedFileURL.deletingLastPathComponent()
            .appendingPathComponent("\(clusterName).cluster.key").path
    }

    /// Reads `path`; `origin` names where the path came from for error messages.
    public static func read(_ path: String, origin: String) throws -> ClusterKeyFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LiveBuildError(code: .input, message: "\(origin): cannot read the cluster key \(path)")
        }
        guard let bytes = Wire.Keys.KeyFile.parse(String(decoding: data, as: UTF8.self)) else {
            throw LiveBuildError(code: .input, message: "\(origin): the cluster key \(path) must hold 64 hex digits (32 bytes); make one with `openssl rand -hex 32 > \(path)`")
        }
        let keys = try Wire.Keys(clusterKey: bytes)
        return ClusterKeyFile(path: path, text: Wire.Keys.KeyFile.text(bytes), fingerprint: keys.fingerprint, generated: false)
    }

    /// Reads the key at `path`, creating it (mode 0600) first if it does not exist. Creation is
    /// atomic (write a temporary file, then hard-link it into place), so two builds starting at
    /// once agree on one key.
    public static func readOrGenerate(_ path: String) throws -> ClusterKeyFile {
        if FileManager.default.fileExists(atPath: path) {
            return try read(path, origin: "generated key")
        }
        try FileManager.default.createDirectory(
            atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path, withIntermediateDirectories: true)
        let text = Wire.Keys.KeyFile.generate()
        let temporary = path + ".new-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw LiveBuildError(code: .output, message: "cannot write the cluster key \(temporary)")
        }
        defer { unlink(temporary) }
        if link(temporary, path) != 0 && errno != EEXIST {
            throw LiveBuildError(code: .output, message: "cannot create the cluster key \(path): \(String(cString: strerror(errno)))")
        }
        var key = try read(path, origin: "generated key")
        key.generated = key.text == text
        return key
    }
}
