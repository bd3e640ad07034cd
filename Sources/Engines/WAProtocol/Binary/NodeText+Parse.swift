extension NodeText {
    /// Parses the text form described on `NodeText` back into a node.
    ///
    /// Whitespace between attributes and between child nodes is ignored, and text content is
    /// trimmed, so both `render(_:)` and `render(_:pretty: true)` output parse to the same node.
    /// Nesting is capped like the binary decoder's.
    package static func parse(_ text: String) throws -> BinaryNode {
        var parser = NodeTextParser(Array(text.utf8))
        parser.skipWhitespace()
        let node = try parser.parseNode(depth: 1)
        parser.skipWhitespace()
        guard parser.atEnd else { throw parser.error("text after the root node") }
        return node
    }
}

/// A recursive-descent parser over the UTF-8 bytes of the text form.
private struct NodeTextParser {
    private let bytes: [UInt8]
    private var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { index >= bytes.count }

    func error(_ reason: String) -> ProtocolError { ProtocolError.invalidText(reason, offset: index) }

    // MARK: - Nodes

    mutating func parseNode(depth: Int) throws -> BinaryNode {
        guard depth <= NodeDecoder.defaultMaxDepth else {
            throw ProtocolError.nestingTooDeep(NodeDecoder.defaultMaxDepth)
        }
        try expect("<")
        let tag = try parseName()
        var attributes = NodeAttributes()
        while true {
            skipWhitespace()
            if consume("/>") { return BinaryNode(tag, attributes) }
            if consume(">") { break }
            let key = try parseName()
            try expect("=")
            attributes.append(key, try parseAttributeValue())
        }
        return BinaryNode(tag, attributes, try parseContent(closing: tag, depth: depth))
    }

    private mutating func parseContent(closing tag: String, depth: Int) throws -> BinaryNode.Content {
        skipWhitespace()
        let content: BinaryNode.Content
        if peek("</") {
            content = .nodes([])
        } else if peek("<") {
            var children: [BinaryNode] = []
            while !peek("</") {
                children.append(try parseNode(depth: depth + 1))
                skipWhitespace()
            }
            content = .nodes(children)
        } else if peek("\"") {
            content = .string(try parseQuoted())
        } else if peek("jid\"") {
            index += 3
            content = .jid(try JID(parsing: parseQuoted()))
        } else if consume("0x") {
            content = .bytes(try parseHex())
        } else {
            content = .bytes(try parseText())
        }
        skipWhitespace()
        try expect("</")
        guard try parseName() == tag else { throw error("closing tag does not match <\(tag)>") }
        try expect(">")
        return content
    }

    private mutating func parseAttributeValue() throws -> AttributeValue {
        if peek("\"") { return .string(try parseQuoted()) }
        if peek("jid\"") {
            index += 3
            return .jid(try JID(parsing: parseQuoted()))
        }
        let start = index
        while let byte = current, !Self.stopsBareWord(byte) { index += 1 }
        guard index > start else { throw error("expected an attribute value") }
        return .jid(try JID(parsing: String(decoding: bytes[start..<index], as: UTF8.self)))
    }

    private mutating func parseName() throws -> String {
        let name: String
        if peek("\"") {
            name = try parseQuoted()
        } else {
            let start = index
            while let byte = current, !Self.stopsBareWord(byte) { index += 1 }
            name = String(decoding: bytes[start..<index], as: UTF8.self)
        }
        guard !name.isEmpty else { throw error("expected a name") }
        return name
    }

    // MARK: - Literals

    private mutating func parseQuoted() throws -> String {
        try expect("\"")
        var out: [UInt8] = []
        while true {
            guard let byte = current else { throw error("unterminated string") }
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard let escaped = current else { throw error("unterminated escape") }
                index += 1
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(escaped)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"): out.append(contentsOf: try parseUnicodeEscape())
                default: throw error("unknown escape")
                }
            default:
                out.append(byte)
            }
        }
    }

    /// `{hex}` after `\u`, as UTF-8.
    private mutating func parseUnicodeEscape() throws -> [UInt8] {
        try expect("{")
        let start = index
        while let byte = current, byte != UInt8(ascii: "}") { index += 1 }
        let digits = String(decoding: bytes[start..<index], as: UTF8.self)
        try expect("}")
        guard digits.count <= 8, let value = UInt32(digits, radix: 16), let scalar = Unicode.Scalar(value) else {
            throw error("bad \\u escape")
        }
        return Array(String(Character(scalar)).utf8)
    }

    private mutating func parseHex() throws -> [UInt8] {
        var out: [UInt8] = []
        while let high = current.flatMap(Self.hexValue) {
            index += 1
            guard let low = current.flatMap(Self.hexValue) else { throw error("odd number of hex digits") }
            index += 1
            out.append(high << 4 | low)
        }
        return out
    }

    /// Text content up to the next `<`, trailing whitespace trimmed, entities decoded.
    private mutating func parseText() throws -> [UInt8] {
        var out: [UInt8] = []
        while let byte = current, byte != UInt8(ascii: "<") {
            if byte == UInt8(ascii: "&") {
                if consume("&lt;") {
                    out.append(UInt8(ascii: "<"))
                } else if consume("&gt;") {
                    out.append(UInt8(ascii: ">"))
                } else if consume("&amp;") {
                    out.append(UInt8(ascii: "&"))
                } else {
                    throw error("unknown entity")
                }
                continue
            }
            out.append(byte)
            index += 1
        }
        while let last = out.last, Self.isWhitespace(last) { out.removeLast() }
        return out
    }

    // MARK: - Characters

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    mutating func skipWhitespace() {
        while let byte = current, Self.isWhitespace(byte) { index += 1 }
    }

    private func peek(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        return literal.withUTF8Buffer { expected in expected.elementsEqual(bytes[index..<index + count]) }
    }

    private mutating func consume(_ literal: StaticString) -> Bool {
        guard peek(literal) else { return false }
        index += literal.utf8CodeUnitCount
        return true
    }

    private mutating func expect(_ literal: StaticString) throws {
        guard consume(literal) else { throw error("expected \(literal)") }
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    /// Where a bare tag, key or JID ends; mirrors `NodeText.isBare`.
    private static func stopsBareWord(_ byte: UInt8) -> Bool {
        isWhitespace(byte) || "<>/=\"".utf8.contains(byte)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
