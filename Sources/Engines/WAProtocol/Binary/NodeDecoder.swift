/// Reads nodes from the binary format (protocol reference §4.3–4.6).
///
/// Built for hostile input: every length is compared with the bytes that remain before anything
/// is allocated for it, list sizes are bounded by what the remaining bytes could hold, and
/// nesting is capped, so a malformed stanza ends in a `ProtocolError`, never in a trap or a huge
/// allocation. Lenient where the references differ (§4.8): JID tags are accepted wherever a
/// string is, and both encodings of the empty string decode to "".
package struct NodeDecoder {
    /// Nesting limit for nodes; real stanzas stay under ten levels.
    package static let defaultMaxDepth = 64

    /// The smallest possible node is `f8 01 <token>`, which bounds how many children the
    /// remaining bytes can hold.
    private static let minimumNodeSize = 3

    private let bytes: ArraySlice<UInt8>
    private var index: Int
    private let maxDepth: Int

    private init(_ bytes: ArraySlice<UInt8>, maxDepth: Int) {
        self.bytes = bytes
        self.index = bytes.startIndex
        self.maxDepth = maxDepth
    }

    /// Decodes one node body (no flags byte) that must span all of `bytes`.
    package static func decode(_ bytes: ArraySlice<UInt8>, maxDepth: Int = defaultMaxDepth) throws -> BinaryNode {
        var decoder = NodeDecoder(bytes, maxDepth: maxDepth)
        let node = try decoder.readNode(depth: 1)
        guard decoder.remaining == 0 else { throw ProtocolError.trailingBytes(decoder.remaining) }
        return node
    }

    /// Decodes one node body (no flags byte) that must span all of `bytes`.
    package static func decode(_ bytes: [UInt8], maxDepth: Int = defaultMaxDepth) throws -> BinaryNode {
        try decode(bytes[...], maxDepth: maxDepth)
    }

    private var remaining: Int { bytes.endIndex - index }

    // MARK: - Nodes

    private mutating func readNode(depth: Int) throws -> BinaryNode {
        guard depth <= maxDepth else { throw ProtocolError.nestingTooDeep(maxDepth) }
        let size = try readListSize(readByte())
        guard size > 0 else { throw ProtocolError.invalidNode("list size 0") }
        // The tag and every attribute item take at least one byte each.
        guard size - 1 <= remaining else { throw ProtocolError.lengthTooLarge(size) }
        let tag = try readString()
        guard !tag.isEmpty else { throw ProtocolError.invalidNode("empty tag") }

        var attributes: [NodeAttributes.Element] = []
        let attributeCount = (size - 1) / 2
        attributes.reserveCapacity(attributeCount)
        for _ in 0..<attributeCount {
            let key = try readString()
            guard !key.isEmpty else { throw ProtocolError.invalidNode("empty attribute key") }
            attributes.append(NodeAttributes.Element(key: key, value: try readAttributeValue()))
        }
        let content = size % 2 == 0 ? try readContent(depth: depth) : .none
        return BinaryNode(tag, NodeAttributes(attributes), content)
    }

    private mutating func readContent(depth: Int) throws -> BinaryNode.Content {
        let tag = try readByte()
        switch tag {
        case BinaryTag.listEmpty:
            return .nodes([])
        case BinaryTag.list8, BinaryTag.list16:
            let count = try readListSize(tag)
            guard count <= remaining / Self.minimumNodeSize else { throw ProtocolError.lengthTooLarge(count) }
            var children: [BinaryNode] = []
            children.reserveCapacity(count)
            for _ in 0..<count { children.append(try readNode(depth: depth + 1)) }
            return .nodes(children)
        case BinaryTag.binary8, BinaryTag.binary20, BinaryTag.binary32:
            return .bytes(Array(try readBinary(tag)))
        default:
            switch try readScalar(tag) {
            case .string(let string): return .string(string)
            case .jid(let jid): return .jid(jid)
            }
        }
    }

    private mutating func readListSize(_ tag: UInt8) throws -> Int {
        switch tag {
        case BinaryTag.listEmpty: return 0
        case BinaryTag.list8: return Int(try readByte())
        case BinaryTag.list16: return try readBigEndian(2)
        default: throw ProtocolError.invalidTag(tag)
        }
    }

    // MARK: - Strings, JIDs, bytes

    /// A string item in a tag, key or JID part: any string form; JIDs are re-stringified.
    private mutating func readString() throws -> String {
        switch try readAttributeValue() {
        case .string(let string): return string
        case .jid(let jid): return jid.description
        }
    }

    private mutating func readAttributeValue() throws -> AttributeValue {
        let tag = try readByte()
        switch tag {
        case BinaryTag.listEmpty:
            return .string("")
        case BinaryTag.binary8, BinaryTag.binary20, BinaryTag.binary32:
            return .string(String(decoding: try readBinary(tag), as: UTF8.self))
        default:
            return try readScalar(tag)
        }
    }

    /// Tokens, packed strings and JIDs: everything but lists, raw bytes and LIST_EMPTY.
    private mutating func readScalar(_ tag: UInt8) throws -> AttributeValue {
        switch tag {
        case 1..<BinaryTag.dictionary0:
            return .string(try Tokens.single(tag))
        case BinaryTag.dictionary0...BinaryTag.dictionary3:
            return .string(try Tokens.double(dictionary: Int(tag - BinaryTag.dictionary0), index: readByte()))
        case BinaryTag.nibble8, BinaryTag.hex8:
            let header = try readByte()
            let packed = try readSlice(Int(header & 0x7F))
            return .string(try PackedString.unpack(packed, tag: tag, odd: header & 0x80 != 0))
        case BinaryTag.jidPair:
            let user = try readJIDPart()
            let server = try readJIDPart()
            guard !server.isEmpty else { throw ProtocolError.invalidJID("empty server") }
            return .jid(JID(user: user, server: server))
        case BinaryTag.adJID:
            return .jid(try readADJID())
        case BinaryTag.fbJID:
            let user = try readJIDPart()
            let device = UInt16(try readBigEndian(2))
            let server = try readJIDPart()
            guard server == JID.Server.messenger else { throw ProtocolError.invalidJID("FB_JID on \(server)") }
            return .jid(JID(user: user, server: server, device: device))
        case BinaryTag.interopJID:
            let user = try readJIDPart()
            let device = UInt16(try readBigEndian(2))
            let integrator = UInt16(try readBigEndian(2))
            let server = try readJIDPart()
            guard server == JID.Server.interop else { throw ProtocolError.invalidJID("INTEROP_JID on \(server)") }
            return .jid(JID(user: user, server: server, device: device, integrator: integrator))
        default:
            throw ProtocolError.invalidTag(tag)
        }
    }

    /// The agent byte is the domain type: 0 user server, 1 LID, 128 hosted, 129 hosted LID;
    /// anything else is a legacy agent number on the user server (whatsmeow `NewADJID`).
    private mutating func readADJID() throws -> JID {
        let domain = try readByte()
        let device = UInt16(try readByte())
        let user = try readJIDPart()
        switch domain {
        case 1: return JID(user: user, server: JID.Server.lid, device: device)
        case 128: return JID(user: user, server: JID.Server.hosted, device: device)
        case 129: return JID(user: user, server: JID.Server.hostedLID, device: device)
        default: return JID(user: user, server: JID.Server.user, device: device, agent: domain)
        }
    }

    /// A user or server inside a JID. JID tags are refused here, which also keeps JID decoding
    /// free of recursion.
    private mutating func readJIDPart() throws -> String {
        guard remaining > 0 else { throw ProtocolError.truncated }
        switch bytes[index] {
        case BinaryTag.jidPair, BinaryTag.adJID, BinaryTag.fbJID, BinaryTag.interopJID:
            throw ProtocolError.invalidJID("nested JID")
        default:
            return try readString()
        }
    }

    private mutating func readBinary(_ tag: UInt8) throws -> ArraySlice<UInt8> {
        let length: Int
        switch tag {
        case BinaryTag.binary8: length = Int(try readByte())
        // 20-bit length: the top nibble of the first byte is ignored (whatsmeow `readInt20`).
        case BinaryTag.binary20: length = try readBigEndian(3) & 0x0F_FFFF
        default: length = try readBigEndian(4)
        }
        return try readSlice(length)
    }

    // MARK: - Primitives

    private mutating func readByte() throws -> UInt8 {
        guard index < bytes.endIndex else { throw ProtocolError.truncated }
        defer { index += 1 }
        return bytes[index]
    }

    private mutating func readBigEndian(_ count: Int) throws -> Int {
        guard count <= remaining else { throw ProtocolError.truncated }
        var value = 0
        for byte in bytes[index..<index + count] { value = value << 8 | Int(byte) }
        index += count
        return value
    }

    /// `count` bytes without copying; a declared length past the end is refused up front.
    private mutating func readSlice(_ count: Int) throws -> ArraySlice<UInt8> {
        guard count <= remaining else { throw ProtocolError.lengthTooLarge(count) }
        defer { index += count }
        return bytes[index..<index + count]
    }
}
