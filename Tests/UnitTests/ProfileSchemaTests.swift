import Foundation
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
