/// A strict JSON (RFC 8259) parser that keeps the line and column of every value and key.
///
/// Foundation's JSON readers report no positions for values that parse but have the wrong type,
/// and profiles need "file:line:column: path: what was expected" for every mistake. This parser
/// reads UTF-8 bytes by recursive descent, rejects duplicate keys, comments and trailing commas,
/// and keeps numbers exactly as written.
struct JSONParser {
    /// Deeper documents are rejected rather than risking the stack.
    static let maximumDepth = 256

    private let bytes: [UInt8]
    private let file: String
    private var offset = 0
    private var line = 1
    private var lineStart = 0
    private var path = JSONPath.root
    private var depth = 0

    private init(bytes: [UInt8], file: String) {
        self.bytes = bytes
        self.file = file
    }

    /// Parses one JSON document; `file` is only used in locations.
    static func parse(_ bytes: [UInt8], file: String) throws(JSONSyntaxError) -> JSONNode {
        var parser = JSONParser(bytes: bytes, file: file)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { parser.offset = 3; parser.lineStart = 3 }
        parser.skipWhitespace()
        guard parser.offset < bytes.count else { throw parser.error("the file is empty; expected a JSON object") }
        let node = try parser.parseValue()
        parser.skipWhitespace()
        if parser.offset < bytes.count {
            throw parser.error("unexpected \(parser.describeCurrent()) after the end of the JSON document")
        }
        return node
    }

    /// Parses a document given as a string.
    static func parse(_ text: String, file: String) throws(JSONSyntaxError) -> JSONNode {
        try parse(Array(text.utf8), file: file)
    }

    // MARK: - Values

    private mutating func parseValue() throws(JSONSyntaxError) -> JSONNode {
        let location = currentLocation()
        guard let byte = peek() else { throw error("unexpected end of input; expected a value") }
        switch byte {
        case UInt8(ascii: "{"): return JSONNode(value: try parseObject(), location: location)
        case UInt8(ascii: "["): return JSONNode(value: try parseArray(), location: location)
        case UInt8(ascii: "\""): return JSONNode(value: .string(try parseString()), location: location)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return JSONNode(value: .number(try parseNumber()), location: location)
        case UInt8(ascii: "t"): try expectLiteral("true"); return JSONNode(value: .bool(true), location: location)
        case UInt8(ascii: "f"): try expectLiteral("false"); return JSONNode(value: .bool(false), location: location)
        case UInt8(ascii: "n"): try expectLiteral("null"); return JSONNode(value: .null, location: location)
        case UInt8(ascii: "/"): throw error("comments are not allowed in JSON")
        case UInt8(ascii: "'"): throw error("strings must use double quotes")
        default: throw error("unexpected \(describeWord()); expected a value")
        }
    }

    private mutating func parseObject() throws(JSONSyntaxError) -> JSONNode.Value {
        try enter()
        defer { depth -= 1 }
        advance()  // {
        var members: [JSONMember] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "}") { advance(); return .object(members) }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else {
                if peek() == UInt8(ascii: "/") { throw error("comments are not allowed in JSON") }
                if peek() == UInt8(ascii: "}") { throw error("trailing comma before '}' is not allowed") }
                if peek() == nil { throw error("unexpected end of input; expected a key in double quotes or '}'") }
                throw error("unexpected \(describeCurrent()); expected a key in double quotes")
            }
            let keyLocation = currentLocation()
            let key = try parseString()
            if let first = members.first(where: { $0.key == key }) {
                throw JSONSyntaxError(
                    location: keyLocation, path: path.appending(key),
                    message: "duplicate key \"\(key)\" (first defined at line \(first.keyLocation.line), column \(first.keyLocation.column))")
            }
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else { throw error("unexpected \(describeCurrent()); expected ':' after the key \"\(key)\"") }
            advance()
            skipWhitespace()
            let saved = path
            path = path.appending(key)
            let value = try parseValue()
            path = saved
            members.append(JSONMember(key: key, keyLocation: keyLocation, value: value))
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): advance()
            case UInt8(ascii: "}"): advance(); return .object(members)
            case nil: throw error("unexpected end of input; expected ',' or '}'")
            case UInt8(ascii: "/"): throw error("comments are not allowed in JSON")
            case UInt8(ascii: "\""): throw error("unexpected '\"'; expected ',' or '}' (is a comma missing before this key?)")
            default: throw error("unexpected \(describeCurrent()); expected ',' or '}'")
            }
        }
    }

    private mutating func parseArray() throws(JSONSyntaxError) -> JSONNode.Value {
        try enter()
        defer { depth -= 1 }
        advance()  // [
        var items: [JSONNode] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") { advance(); return .array(items) }
        while true {
            skipWhitespace()
            if peek() == UInt8(ascii: "]") { throw error("trailing comma before ']' is not allowed") }
            let saved = path
            path = path.appending(index: items.count)
            items.append(try parseValue())
            path = saved
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): advance()
            case UInt8(ascii: "]"): advance(); return .array(items)
            case nil: throw error("unexpected end of input; expected ',' or ']'")
            case UInt8(ascii: "/"): throw error("comments are not allowed in JSON")
            default: throw error("unexpected \(describeCurrent()); expected ',' or ']'")
            }
        }
    }

    private mutating func enter() throws(JSONSyntaxError) {
        depth += 1
        if depth > JSONParser.maximumDepth { throw error("nesting deeper than \(JSONParser.maximumDepth) levels") }
    }

    // MARK: - Strings

    private mutating func parseString() throws(JSONSyntaxError) -> String {
        advance()  // opening quote
        var scalars = String.UnicodeScalarView()
        var runStart = offset
        func flush(_ parser: JSONParser, upTo end: Int) throws(JSONSyntaxError) {
            guard runStart < end else { return }
            guard let text = String(validating: parser.bytes[runStart..<end], as: UTF8.self) else {
                throw parser.error("the string is not valid UTF-8")
            }
            scalars.append(contentsOf: text.unicodeScalars)
        }
        while true {
            guard let byte = peek() else { throw error("unterminated string; expected a closing '\"'") }
            switch byte {
            case UInt8(ascii: "\""):
                try flush(self, upTo: offset)
                advance()
                return String(scalars)
            case UInt8(ascii: "\\"):
                try flush(self, upTo: offset)
                scalars.append(try parseEscape())
                runStart = offset
            case 0x0A:
                throw error("unterminated string (a line break must be written as \\n)")
            case 0x00..<0x20:
                throw error("control character U+\(hex(byte, width: 4)) in a string must be escaped")
            default:
                advance()
            }
        }
    }

    private mutating func parseEscape() throws(JSONSyntaxError) -> Unicode.Scalar {
        let escapeLocationOffset = offset
        advance()  // backslash
        guard let byte = peek() else { throw error("unterminated string; expected a closing '\"'") }
        advance()
        switch byte {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            let first = try parseHex4()
            switch first {
            case 0xD800...0xDBFF:
                guard peek() == UInt8(ascii: "\\"), peek(at: 1) == UInt8(ascii: "u") else {
                    throw error("unpaired surrogate \\u\(hex(first, width: 4)); expected a low surrogate \\uDC00-\\uDFFF after it", at: escapeLocationOffset)
                }
                advance(); advance()
                let second = try parseHex4()
                guard (0xDC00...0xDFFF).contains(second) else {
                    throw error("unpaired surrogate \\u\(hex(first, width: 4)); expected a low surrogate \\uDC00-\\uDFFF after it", at: escapeLocationOffset)
                }
                let value = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                guard let scalar = Unicode.Scalar(value) else { throw error("invalid \\u escape", at: escapeLocationOffset) }
                return scalar
            case 0xDC00...0xDFFF:
                throw error("unpaired low surrogate \\u\(hex(first, width: 4))", at: escapeLocationOffset)
            default:
                guard let scalar = Unicode.Scalar(first) else { throw error("invalid \\u escape", at: escapeLocationOffset) }
                return scalar
            }
        default:
            let shown = (0x21...0x7E).contains(byte) ? "\\" + String(Character(Unicode.Scalar(byte))) : "\\ followed by \(describe(byte))"
            throw error("invalid escape \(shown) in a string; allowed: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX", at: escapeLocationOffset)
        }
    }

    private mutating func parseHex4() throws(JSONSyntaxError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = peek() else { throw error("unexpected end of input in a \\u escape") }
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw error("invalid \\u escape: expected 4 hexadecimal digits, found \(describeCurrent())")
            }
            value = value << 4 | digit
            advance()
        }
        return value
    }

    // MARK: - Numbers and literals

    private mutating func parseNumber() throws(JSONSyntaxError) -> String {
        let start = offset
        if peek() == UInt8(ascii: "-") { advance() }
        guard let first = peek(), isDigit(first) else { throw error("invalid number: expected a digit after '-'") }
        advance()
        if first == UInt8(ascii: "0"), let next = peek(), isDigit(next) {
            throw error("invalid number: leading zeros are not allowed", at: start)
        }
        while let byte = peek(), isDigit(byte) { advance() }
        if peek() == UInt8(ascii: ".") {
            advance()
            guard let byte = peek(), isDigit(byte) else { throw error("invalid number: expected a digit after '.'") }
            while let byte = peek(), isDigit(byte) { advance() }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            advance()
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { advance() }
            guard let byte = peek(), isDigit(byte) else { throw error("invalid number: expected a digit in the exponent") }
            while let byte = peek(), isDigit(byte) { advance() }
        }
        return String(decoding: bytes[start..<offset], as: UTF8.self)
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONSyntaxError) {
        let start = offset
        let expected = literal.withUTF8Buffer { Array($0) }
        for byte in expected {
            guard peek() == byte else {
                offset = start
                throw error("unexpected \(describeWord()); expected a value (true, false, null, a number, a string, an array or an object)")
            }
            advance()
        }
        if let byte = peek(), isWordByte(byte) {
            offset = start
            throw error("unexpected \(describeWord()); expected a value (true, false, null, a number, a string, an array or an object)")
        }
    }

    // MARK: - Cursor

    private func peek(at distance: Int = 0) -> UInt8? {
        offset + distance < bytes.count ? bytes[offset + distance] : nil
    }

    private mutating func advance() {
        if bytes[offset] == 0x0A { line += 1; lineStart = offset + 1 }
        offset += 1
    }

    private mutating func skipWhitespace() {
        while let byte = peek(), byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { advance() }
    }

    private func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    private func isWordByte(_ byte: UInt8) -> Bool {
        isDigit(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || byte == UInt8(ascii: "_") || byte >= 0x80
    }

    // MARK: - Positions and messages

    private func currentLocation() -> SourceLocation { location(at: offset) }

    /// Line and column of a byte offset on the current line (or later on it).
    private func location(at target: Int) -> SourceLocation {
        var column = 1
        for index in lineStart..<min(max(target, lineStart), bytes.count) where bytes[index] & 0xC0 != 0x80 {
            column += 1
        }
        return SourceLocation(file: file, line: line, column: column)
    }

    private func error(_ message: String, at errorOffset: Int? = nil) -> JSONSyntaxError {
        JSONSyntaxError(location: location(at: errorOffset ?? offset), path: path, message: message)
    }

    private func describeCurrent() -> String {
        guard let byte = peek() else { return "end of input" }
        return describe(byte)
    }

    private func describe(_ byte: UInt8) -> String {
        switch byte {
        case 0x21...0x7E: "'\(Character(Unicode.Scalar(byte)))'"
        case 0x0A: "line break"
        default: "byte 0x\(hex(byte, width: 2))"
        }
    }

    /// The run of letters at the cursor, for "unexpected 'True'".
    private func describeWord() -> String {
        var end = offset
        while end < bytes.count, isWordByte(bytes[end]), end - offset < 20 { end += 1 }
        if end == offset { return describeCurrent() }
        return "'" + String(decoding: bytes[offset..<end], as: UTF8.self) + "'"
    }

    private func hex<T: BinaryInteger>(_ value: T, width: Int) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
