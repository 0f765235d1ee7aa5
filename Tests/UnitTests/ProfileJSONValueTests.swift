import Testing
@testable import Profile

/// The plain JSON value carried for `cluster`, and its canonical form.
@Suite struct ProfileJSONValueTests {
    @Test(arguments: [
        (JSONValue.object(["b": .null, "a": .integer(1), "B": .bool(true), "é": .string(""), "aa": .array([])]),
         "{\"B\":true,\"a\":1,\"aa\":[],\"b\":null,\"é\":\"\"}"),
        (.string("q\"b\\s/\u{0}\u{1F}\n\t\r\u{8}\u{C}é😀"), "\"q\\\"b\\\\s/\\u0000\\u001f\\n\\t\\r\\b\\fé😀\""),
        (.array([.number("-0.5e3"), .number("7")]), "[-0.5e3,7]"),
    ])
    func canonicalJSON(value: JSONValue, expected: String) throws {
        #expect(value.canonicalJSON == expected)
        // And it reads back as the same value.
        #expect(try JSONParser.parse(expected, file: "t.json").plainValue == value)
    }

    @Test func accessors() {
        let value = JSONValue.object(["n": .integer(3), "s": .string("x"), "f": .bool(false), "l": .array([.null])])
        #expect(value["n"]?.intValue == 3)
        #expect(value["s"]?.stringValue == "x")
        #expect(value["f"]?.boolValue == false)
        #expect(value["l"]?.arrayValue == [.null])
        #expect(value["missing"] == nil)
        #expect(JSONValue.string("x")["n"] == nil)
    }
}
