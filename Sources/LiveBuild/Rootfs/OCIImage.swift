import Archive
import Filesystem
import Foundation

/// An OCI image layout directory or a `docker save` archive, as the layers of a root
/// filesystem (topmost first, with whiteouts).
public struct OCIImage {
    /// Layer blob paths, bottom layer first, as the manifest lists them.
    public var layerPaths: [String]

    /// Opens `path`; a `docker save` archive has its layer blobs copied into `scratch` first
    /// (the blobs only: the tree itself is never unpacked).
    /// `reference` picks an image in a layout holding several (its `org.opencontainers.image.ref.name`
    /// annotation, or a `RepoTags` entry of a `docker save` archive); without it the first
    /// linux/amd64 image is taken.
    public init(path: String, reference: String? = nil, scratch: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw LiveBuildError(code: .input, message: "base.oci.path: \(path) does not exist; give an OCI image layout directory or a `docker save` archive")
        }
        if isDirectory.boolValue {
            layerPaths = try Self.layoutLayers(root: path, reference: reference)
        } else {
            layerPaths = try Self.archiveLayers(path: path, reference: reference, scratch: scratch)
        }
    }

    /// The layers as `Layer`s, topmost first.
    public var layers: [Layer] {
        layerPaths.enumerated().reversed().map { index, path in
            Layer(name: "base.oci layer \(index)", source: Archive.FileSource(path: path), directories: .strong, whiteouts: true)
        }
    }

    static func json(_ bytes: Data, _ what: String) throws -> Any {
        do { return try JSONSerialization.jsonObject(with: bytes) } catch {
            throw LiveBuildError(code: .input, message: "\(what) is not valid JSON", underlying: error)
        }
    }

    static func blobPath(root: String, digest: String) throws -> String {
        let parts = digest.split(separator: ":", maxSplits: 1)
        guard parts.count == 2 else { throw LiveBuildError(code: .input, message: "\(root): malformed digest '\(digest)'") }
        return "\(root)/blobs/\(parts[0])/\(parts[1])"
    }

    /// Whether `name` (`debian:trixie`, `trixie`, `docker.io/library/debian:trixie`) is `reference`.
    static func matches(_ name: String, _ reference: String) -> Bool {
        name == reference || name.hasSuffix(":" + reference) || name.hasSuffix("/" + reference)
    }

    static func layoutLayers(root: String, reference: String?) throws -> [String] {
        guard let indexData = FileManager.default.contents(atPath: root + "/index.json") else {
            throw LiveBuildError(code: .input, message: "base.oci.path: \(root) has no index.json; is it an OCI image layout?")
        }
        var document = try json(indexData, "\(root)/index.json")
        // Follow indexes down to one image manifest, preferring linux/amd64.
        for level in 0..<4 {
            guard let object = document as? [String: Any] else { break }
            if let layers = object["layers"] as? [[String: Any]] {
                return try layers.map { layer in
                    guard let digest = layer["digest"] as? String else {
                        throw LiveBuildError(code: .input, message: "\(root): a layer has no digest")
                    }
                    return try blobPath(root: root, digest: digest)
                }
            }
            guard let manifests = object["manifests"] as? [[String: Any]], !manifests.isEmpty else { break }
            var candidates = manifests
            // The reference names an image in the top index; deeper indexes list its platforms.
            if let reference, level == 0 {
                candidates = manifests.filter { manifest in
                    let name = (manifest["annotations"] as? [String: Any])?["org.opencontainers.image.ref.name"] as? String
                    return name.map { matches($0, reference) } ?? false
                }
            }
            guard !candidates.isEmpty else {
                throw LiveBuildError(code: .input, message: "base.oci.reference: \(root) has no image named '\(reference ?? "")'")
            }
            let chosen = candidates.first { manifest in
                let platform = manifest["platform"] as? [String: Any]
                return platform == nil || (platform?["architecture"] as? String == "amd64" && platform?["os"] as? String == "linux")
            } ?? candidates[0]
            guard let digest = chosen["digest"] as? String,
                  let data = FileManager.default.contents(atPath: try blobPath(root: root, digest: digest)) else {
                throw LiveBuildError(code: .input, message: "\(root): a manifest blob named in the index is missing")
            }
            document = try json(data, "\(root) manifest \(digest)")
        }
        throw LiveBuildError(code: .input, message: "\(root): no image manifest with layers found")
    }

    static func archiveLayers(path: String, reference: String?, scratch: String) throws -> [String] {
        // First pass: the manifest (docker save lists its layers in manifest.json).
        let reader = try Archive.Reader(path: path)
        var manifest: [UInt8]?
        while let entry = try reader.next() {
            if entry.path == "manifest.json" { manifest = try reader.readAll(); break }
        }
        guard let manifest,
              let list = try json(Data(manifest), "\(path): manifest.json") as? [[String: Any]],
              let image = reference.map({ reference in list.first { (($0["RepoTags"] as? [String]) ?? []).contains { matches($0, reference) } } }) ?? list.first,
              let layers = image["Layers"] as? [String] else {
            throw LiveBuildError(code: .input, message: "base.oci.path: \(path) has no manifest.json with Layers; is it a `docker save` archive?")
        }
        // Second pass: copy the layer blobs out, in manifest order.
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        var targets: [String: String] = [:]
        for (index, layer) in layers.enumerated() { targets[FilePath.normalize(layer)] = "\(scratch)/layer-\(index)" }
        let second = try Archive.Reader(path: path)
        while let entry = try second.next() {
            guard let target = targets[entry.path], entry.kind == .regular else { continue }
            guard FileManager.default.createFile(atPath: target, contents: nil),
                  let handle = FileHandle(forWritingAtPath: target) else {
                throw LiveBuildError(code: .output, message: "cannot write \(target)")
            }
            defer { try? handle.close() }
            try second.readContents { chunk in handle.write(Data(chunk)) }
        }
        return try layers.enumerated().map { index, layer in
            let target = "\(scratch)/layer-\(index)"
            guard FileManager.default.fileExists(atPath: target) else {
                throw LiveBuildError(code: .input, message: "\(path): layer \(layer) named in manifest.json is missing")
            }
            return target
        }
    }
}
