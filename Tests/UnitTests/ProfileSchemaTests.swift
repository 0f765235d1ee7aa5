import Foundation
import NodeConfig
import Testing
@testable import Profile

/// `profiles/schema.json` and `Docs/profile.md` must describe what the parser accepts.
@Suite struct ProfileSchemaTests {
    static func schema() throws -> JSONValue {
        let url = ProfileFixtures.repositoryRoot.appendingPathComponent("profiles/schema.json")
        let bytes = try [UInt8](Data(contentsOf: url))
        return try JSONParser.parse(bytes, file: "profiles/schema.json").plainValue
    }

    /// Follows a local `$ref` such as `#/$defs/debian`.
    static func resolve(_ value: JSONValue?, in schema: JSONValue) -> JSONValue? {
        guard let reference = value?["$ref"]?.stringValue, reference.hasPrefix("#/") else { return value }
        var current: JSONValue? = schema
        for part in reference.dropFirst(2).split(separator: "/") { current = current?[String(part)] }
        return current
    }

    static func propertyKeys(_ value: JSONValue?, in schema: JSONValue) -> [String] {
        (resolve(value, in: schema)?["properties"]?.objectValue?.keys).map { $0.sorted() } ?? []
    }

    @Test func schemaIsValidJSONForDraft2020() throws {
        let schema = try Self.schema()
        #expect(schema["$schema"]?.stringValue == "https://json-schema.org/draft/2020-12/schema")
        #expect(schema["additionalProperties"] == .bool(false))
        // A profile without `extends` needs a name and a base.
        #expect(schema["then"]?["required"] == .array([.string("name"), .string("base")]))
    }

    @Test func schemaListsExactlyTheTopLevelKeys() throws {
        let schema = try Self.schema()
        #expect(Self.propertyKeys(schema, in: schema) == ProfileDecoder.topLevelKeys.sorted())
    }

    @Test func schemaListsExactlyTheNestedKeys() throws {
        let schema = try Self.schema()
        let properties = schema["properties"]
        let base = Self.resolve(properties?["base"], in: schema)
        #expect(Self.propertyKeys(properties?["base"], in: schema) == ProfileDecoder.baseKinds.sorted())
        #expect(Self.propertyKeys(base?["properties"]?["debian"], in: schema) == ProfileDecoder.debianKeys.sorted())
        #expect(Self.propertyKeys(base?["properties"]?["oci"], in: schema) == ProfileDecoder.ociKeys.sorted())
        #expect(Self.propertyKeys(properties?["kernel"], in: schema) == ProfileDecoder.kernelKeys.sorted())
        let boot = Self.resolve(properties?["boot"], in: schema)
        #expect(Self.propertyKeys(boot, in: schema) == ProfileDecoder.bootKeys.sorted())
        #expect(Self.propertyKeys(boot?["properties"]?["serial"], in: schema) == ProfileDecoder.serialKeys.sorted())
        #expect(Self.propertyKeys(schema["$defs"]?["bootEntry"], in: schema) == ProfileDecoder.bootEntryKeys.sorted())
        #expect(Self.propertyKeys(properties?["squashfs"], in: schema) == ProfileDecoder.squashfsKeys.sorted())
        #expect(Self.propertyKeys(properties?["pxe"], in: schema) == ProfileDecoder.pxeKeys.sorted())
        #expect(Self.propertyKeys(schema["$defs"]?["inlineFile"], in: schema) == ProfileDecoder.fileKeys.sorted())
        #expect(Self.propertyKeys(schema["$defs"]?["permission"], in: schema) == ProfileDecoder.permissionKeys.sorted())
    }

    /// The `cluster` section is the node's model (NodeConfig.ClusterSection): the schema lists
    /// exactly its keys, at every level, so a key is not accepted by one and ignored by the other.
    @Test func schemaListsExactlyTheClusterModelsKeys() throws {
        func keys<Keys: CaseIterable & RawRepresentable>(_: Keys.Type) -> [String] where Keys.RawValue == String {
            Keys.allCases.map(\.rawValue).sorted()
        }
        let schema = try Self.schema()
        let cluster = Self.resolve(schema["properties"]?["cluster"], in: schema)
        let properties = cluster?["properties"]
        #expect(Self.propertyKeys(cluster, in: schema) == keys(NodeConfig.ClusterSection.CodingKeys.self))
        #expect(Self.propertyKeys(properties?["trust"], in: schema) == keys(NodeConfig.Trust.CodingKeys.self))
        #expect(Self.propertyKeys(properties?["admission"], in: schema) == keys(NodeConfig.AdmissionPolicy.CodingKeys.self))
        #expect(Self.propertyKeys(properties?["head"], in: schema) == keys(NodeConfig.Head.CodingKeys.self))
        #expect(Self.propertyKeys(properties?["shared"], in: schema) == keys(NodeConfig.Shared.CodingKeys.self))
        #expect(Self.propertyKeys(properties?["timing"], in: schema) == keys(NodeConfig.Timing.CodingKeys.self))
        let rule = Self.resolve(properties?["nodes"]?["items"], in: schema)
        #expect(Self.propertyKeys(rule, in: schema) == keys(NodeConfig.NodeRule.CodingKeys.self))
        #expect(Self.propertyKeys(rule?["properties"]?["match"], in: schema) == keys(NodeConfig.NodeRule.Match.CodingKeys.self))
        func values(_ value: JSONValue?) -> [String] { Self.resolve(value, in: schema)?["enum"]?.arrayValue?.compactMap(\.stringValue) ?? [] }
        #expect(values(properties?["role"]) == NodeConfig.Rules.roles)
        #expect(values(properties?["admission"]?["properties"]?["policy"]) == NodeConfig.Rules.admissionPolicies)
        #expect(properties?["name"]?["default"]?.stringValue == NodeConfig.Rules.defaultClusterName)
        #expect(properties?["port"]?["default"] == .number(String(NodeConfig.Rules.defaultPort)))
        #expect(properties?["multicastGroup"]?["default"]?.stringValue == NodeConfig.Rules.defaultMulticastGroup)
        // The timing ranges the node enforces are the schema's.
        for (key, range) in NodeConfig.Rules.timingRanges {
            let field = properties?["timing"]?["properties"]?[key.rawValue]
            #expect(field?["minimum"] == .number(String(range.lowerBound)) && field?["maximum"] == .number(String(range.upperBound)), "\(key.rawValue)")
        }
    }

    @Test func schemaListsExactlyTheDiskKeys() throws {
        let schema = try Self.schema()
        #expect(Self.propertyKeys(schema["properties"]?["disk"], in: schema) == ProfileDecoder.diskKeys.sorted())
    }

    /// A `cluster` section with every key, as the build accepts it, decodes into the node's
    /// model without losing a key (the image carries the section as the profile wrote it).
    @Test func everyClusterKeyTheBuildAcceptsReachesTheNode() throws {
        let section = #"""
        {"name": "lab", "role": "head", "key": "lab.key", "port": 7000, "multicast": false, "multicastGroup": "239.1.2.3",
         "peers": ["10.0.0.1"], "sshAuthorizedKeys": ["ssh-ed25519 AAAA admin"], "labels": {"rack": "1"},
         "nodes": [{"match": {"mac": "52-54-00-AB-CD-EF", "serial": "SN1"}, "hostname": "n1", "role": "node",
                    "address": "10.0.0.5/24", "gateway": "10.0.0.1", "labels": {"gpu": "yes"}}],
         "timing": {"protocolPeriodMs": 500, "probeTimeoutMs": 200, "indirectProbes": 2, "suspicionTimeoutMs": 2000,
                    "gossipFanout": 4, "retransmitMultiplier": 3},
         "head": {"dhcpRange": "10.77.0.10,10.77.0.200"}, "shared": {"enabled": true, "path": "/home", "server": "head"},
         "trust": {"minimumPeerUID": 1000}, "admission": {"policy": "listed", "macs": ["52:54:00:ab:cd:ef"]}}
        """#
        let profile = try ProfileFixtures.load(#"{"name": "x", "base": {"debian": {}}, "cluster": \#(section)}"#)
        let plain = try #require(profile.cluster)
        #expect(plain.objectValue?.keys.sorted() == ProfileDecoder.clusterKeys.sorted(), "the example has every key")
        let model = try JSONDecoder().decode(NodeConfig.ClusterSection.self, from: Data(section.utf8))
        let back = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(model)) as? [String: Any])
        #expect(back.keys.sorted() == ProfileDecoder.clusterKeys.sorted())
        let nodes = try #require(back["nodes"] as? [[String: Any]])
        #expect(nodes.first?.keys.sorted() == ProfileDecoder.clusterNodeKeys.sorted())
        for key in ["timing", "head", "shared", "trust", "admission"] {
            #expect((back[key] as? [String: Any])?.keys.sorted() == (plain[key]?.objectValue?.keys.sorted()), "\(key)")
        }
    }

    @Test func schemaListsExactlyTheEnumValues() throws {
        let schema = try Self.schema()
        let defs = schema["$defs"]
        func values(_ value: JSONValue?) -> [String] { value?["enum"]?.arrayValue?.compactMap(\.stringValue) ?? [] }
        #expect(values(defs?["compression"]) == Profile.Compression.allCases.map(\.rawValue))
        #expect(values(defs?["output"]) == Profile.Output.allCases.map(\.rawValue))
        #expect(values(schema["properties"]?["pxe"]?["properties"]?["root"]) == Profile.Pxe.Root.allCases.map(\.rawValue))
        #expect(values(defs?["variant"]) == Profile.DebianVariant.allCases.map(\.rawValue))
    }

    /// The complete example in the documentation loads.
    @Test func documentedExampleLoads() throws {
        let url = ProfileFixtures.repositoryRoot.appendingPathComponent("Docs/profile.md")
        let markdown = try String(contentsOf: url, encoding: .utf8)
        let section = try #require(markdown.range(of: "## Complete example"))
        let rest = markdown[section.upperBound...]
        let start = try #require(rest.range(of: "```json\n"))
        let end = try #require(rest[start.upperBound...].range(of: "```"))
        let example = String(rest[start.upperBound..<end.lowerBound])
        var fileSystem = ProfileFixtures.fileSystem(["example.json": example])
        fileSystem.directories.formUnion(["/work/profiles/overlays/common", "/work/profiles/overlays/site"])
        let profile = try ProfileLoader.load(path: "profiles/example.json", fileSystem: fileSystem)
        #expect(profile.name == "demo-live")
    }
}
