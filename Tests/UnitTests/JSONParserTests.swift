import Testing
@testable import Profile

@Suite struct JSONParserTests {
    /// Documents that parse, with their canonical form.
    @Test(arguments: [
        ("{}", "{}"),
        ("[]", "[]"),
        ("  {\"b\": 1, \"a\": [true, false, null]}  ", "{\"a\":[true,false,null],\"b\":1}"),
        ("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\\"\\\\/\\b\\f\\n\\r\\t\""),
        ("\"\\u00e9\\u4e2d\"", "\"é中\""),
        ("\"\\ud83d\\ude00\"", "\"😀\""),
        ("\"😀 direct\"", "\"😀 direct\""),
        ("[0, -1, 1.50, 2e10, -0.5E-3]", "[0,-1,1.50,2e10,-0.5E-3]"),
        ("\u{FEFF}{\"bom\": true}", "{\"bom\":true}"),
        ("{\"\\u0001\": \"\\u001f\"}", "{\"\\u0001\":\"\\u001f\"}"),
        ("[[[[]]]]", "[[[[]]]]"),
    ])
    func parsesValidDocuments(input: String, canonical: String) throws {
        let node = try JSONParser.parse(input, file: "t.json")
        #expect(node.plainValue.canonicalJSON == canonical)
    }

    /// Malformed documents: the message and where it points (marked with ‸).
    @Test(arguments: [
        ("", "the file is empty"),
        ("  \n ‸", "the file is empty"),
        ("{\"a\": 1 ‸\"b\": 2}", "unexpected '\"'; expected ',' or '}'"),
        ("{\"a\": 1,‸}", "trailing comma before '}' is not allowed"),
        ("[1, 2,‸]", "trailing comma before ']' is not allowed"),
        ("{\"a\": 1,\n  ‸\"a\": 2}", "duplicate key \"a\" (first defined at line 1, column 2)"),
        ("{\"a\": ‸True}", "unexpected 'True'; expected a value"),
        ("{\"a\": ‸nul}", "unexpected 'nul'; expected a value"),
        ("{\n  ‸// comment\n}", "comments are not allowed in JSON"),
        ("{‸'a': 1}", "unexpected '''; expected a key in double quotes"),
        ("[‸'a']", "strings must use double quotes"),
        ("{\"a\": \"abc‸", "unterminated string"),
        ("{\"a\": \"ab‸\nc\"}", "unterminated string (a line break must be written as \\n)"),
        ("[\"a‸\tb\"]", "control character U+0009 in a string must be escaped"),
        ("[\"a‸\\qb\"]", "invalid escape \\q"),
        ("[\"‸\\ud83d x\"]", "unpaired surrogate \\uD83D"),
        ("[\"‸\\ude00\"]", "unpaired low surrogate \\uDE00"),
        ("[\"\\u12‸G4\"]", "invalid \\u escape: expected 4 hexadecimal digits, found 'G'"),
        ("[‸01]", "leading zeros are not allowed"),
        ("[1.‸]", "expected a digit after '.'"),
        ("[1e‸]", "expected a digit in the exponent"),
        ("[-‸a]", "expected a digit after '-'"),
        ("{} ‸{}", "unexpected '{' after the end of the JSON document"),
        ("{\"a\": [1, 2‸", "unexpected end of input; expected ',' or ']'"),
        ("{\"a\" ‸1}", "expected ':' after the key \"a\""),
        ("{\"é\": 1, \"x\": ‸?}", "unexpected '?'; expected a value"),
    ])
    func rejectsMalformedDocuments(marked: String, message: String) throws {
        let (text, line, column) = try #require(ProfileFixtures.locate(marked.isEmpty ? "‸" : marked))
        let error = try #require(throws: JSONSyntaxError.self) { try JSONParser.parse(text, file: "t.json") }
        #expect(error.message.contains(message), "\(error)")
        #expect(error.location == SourceLocation(file: "t.json", line: line, column: column), "\(error)")
    }

    @Test func rejectsInvalidUTF8() throws {
        let bytes: [UInt8] = Array("[\"a".utf8) + [0xFF] + Array("\"]".utf8)
        let error = try #require(throws: JSONSyntaxError.self) { try JSONParser.parse(bytes, file: "t.json") }
        #expect(error.message.contains("not valid UTF-8"))
    }

    @Test func rejectsDeepNesting() throws {
        let text = String(repeating: "[", count: 300) + String(repeating: "]", count: 300)
        let error = try #require(throws: JSONSyntaxError.self) { try JSONParser.parse(text, file: "t.json") }
        #expect(error.message.contains("nesting deeper than"))
    }

    @Test func errorsInsideValuesNameTheirPath() throws {
        let error = try #require(throws: JSONSyntaxError.self) {
            try JSONParser.parse("{\"boot\": {\"entries\": [{\"label\": tru}]}}", file: "t.json")
        }
        #expect(error.path.description == "boot.entries[0].label")
    }

    @Test func recordsPositionsOfValuesAndKeys() throws {
        let text = "{\n  \"a\": [1,\n    {\"ü\": \"x\"}],\n\t\"b\": null\n}"
        let root = try JSONParser.parse(text, file: "t.json")
        #expect(root.location == SourceLocation(file: "t.json", line: 1, column: 1))
        let a = try #require(root.member("a"))
        #expect(a.keyLocation.line == 2 && a.keyLocation.column == 3)
        guard case .array(let items) = a.value.value else { Issue.record("not an array"); return }
        #expect(items[0].location.line == 2 && items[0].location.column == 9)
        #expect(items[1].location.line == 3 && items[1].location.column == 5)
        let inner = try #require(items[1].member("ü"))
        #expect(inner.value.location.column == 11)  // columns count scalars, not bytes (ü is two)
        let b = try #require(root.member("b"))
        #expect(b.keyLocation.line == 4 && b.keyLocation.column == 2)
    }

    @Test func keepsNumbersAsWritten() throws {
        let node = try JSONParser.parse("[1.50, 10000000000000000000001]", file: "t.json")
        #expect(node.plainValue == .array([.number("1.50"), .number("10000000000000000000001")]))
        #expect(JSONValue.number("42").intValue == 42)
        #expect(JSONValue.number("1.5").intValue == nil)
        #expect(JSONValue.number("1.5").doubleValue == 1.5)
    }

    @Test(arguments: [
        (JSONPath.root, ""),
        (JSONPath.root.appending("boot").appending("entries").appending(index: 0).appending("label"), "boot.entries[0].label"),
        (JSONPath.root.appending("permissions").appending("/etc/shadow").appending("mode"), "permissions[\"/etc/shadow\"].mode"),
        (JSONPath.root.appending("$schema"), "$schema"),
    ])
    func printsPaths(path: JSONPath, expected: String) {
        #expect(path.description == expected)
    }
}
