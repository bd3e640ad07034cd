/// Writes nodes in the binary format (protocol reference §4.4–4.6).
///
/// The output is the node body only; `NodePlaintext` adds the flags byte a frame carries.
/// String forms follow whatsmeow's order (token, dictionary token, nibble, uppercase hex, raw),
/// and JID forms follow whatsmeow's rules, so peers built on either reference accept the bytes.
package struct NodeEncoder {
    private var out: [UInt8]
    private let maxDepth: Int

    private init(out: [UInt8], maxDepth: Int) {
        self.out = out
        self.maxDepth = maxDepth
    }

    /// The encoded body of `node`.
    package static func encode(_ node: BinaryNode, maxDepth: Int = NodeDecoder.defaultMaxDepth) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try append(node, to: &bytes, maxDepth: maxDepth)
        return bytes
    }

    /// Appends the encoded body of `node` to `bytes`, so a caller can put a prefix in front
    /// without copying. Nesting deeper than `maxDepth` is refused: the decoder on the other side
    /// would refuse it too.
    package static func append(
        _ node: BinaryNode, to bytes: inout [UInt8], maxDepth: Int = NodeDecoder.defaultMaxDepth
    ) throws {
        var encoder = NodeEncoder(out: [], maxDepth: maxDepth)
        swap(&encoder.out, &bytes)
        defer { swap(&encoder.out, &bytes) }
        try encoder.write(node, depth: 1)
    }

    // MARK: - Nodes

    private mutating func write(_ node: BinaryNode, depth: Int) throws {
        guard depth <= maxDepth else { throw ProtocolError.nestingTooDeep(maxDepth) }
        guard !node.tag.isEmpty else { throw ProtocolError.invalidNode("empty tag") }
        let hasContent = node.content != .none
        try writeListStart(1 + 2 * node.attributes.count + (hasContent ? 1 : 0))
        try writeString(node.tag)
        for attribute in node.attributes {
            guard !attribute.key.isEmpty else { throw ProtocolError.invalidNode("empty attribute key") }
            try writeString(attribute.key)
            switch attribute.value {
            case .string(let string): try writeString(string)
            case .jid(let jid): try writeJID(jid)
            }
        }
        switch node.content {
        case .none:
            break
        case .nodes(let children):
            try writeListStart(children.count)
            for child in children { try write(child, depth: depth + 1) }
        case .bytes(let bytes):
            try writeBinary(bytes)
        case .string(let string):
            try writeString(string)
        case .jid(let jid):
            try writeJID(jid)
        }
    }

    private mutating func writeListStart(_ size: Int) throws {
        switch size {
        case 0:
            out.append(BinaryTag.listEmpty)
        case 1..<256:
            out.append(BinaryTag.list8)
            out.append(UInt8(size))
        case 256...Int(UInt16.max):
            out.append(BinaryTag.list16)
            appendBigEndian(UInt64(size), byteCount: 2)
        default:
            throw ProtocolError.unencodable("list of \(size) items")
        }
    }

    // MARK: - Strings and bytes

    /// Writes `string` as a token or packed string. Returns false when it needs raw bytes.
    @discardableResult
    private mutating func writeCompact(_ string: String) -> Bool {
        switch Tokens.code(for: string) {
        case .single(let index):
            out.append(index)
            return true
        case .double(let dictionary, let index):
            out.append(BinaryTag.dictionary0 + dictionary)
            out.append(index)
            return true
        case nil:
            guard let tag = PackedString.tag(for: string) else { return false }
            PackedString.append(string, tag: tag, to: &out)
            return true
        }
    }

    /// Writes `string` in the most compact form, raw UTF-8 as the last resort.
    private mutating func writeString(_ string: String) throws {
        if !writeCompact(string) { try writeBinary(Array(string.utf8)) }
    }

    private mutating func writeBinary(_ bytes: [UInt8]) throws {
        switch bytes.count {
        case 0..<256:
            out.append(BinaryTag.binary8)
            out.append(UInt8(bytes.count))
        case 256..<(1 << 20):
            out.append(BinaryTag.binary20)
            appendBigEndian(UInt64(bytes.count), byteCount: 3)
        case (1 << 20)...Int(UInt32.max):
            out.append(BinaryTag.binary32)
            appendBigEndian(UInt64(bytes.count), byteCount: 4)
        default:
            throw ProtocolError.unencodable("\(bytes.count) bytes of content")
        }
        out.append(contentsOf: bytes)
    }

    private mutating func appendBigEndian(_ value: UInt64, byteCount: Int) {
        for shift in stride(from: (byteCount - 1) * 8, through: 0, by: -8) {
            out.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }

    // MARK: - JIDs

    /// Picks the wire form from the server (protocol reference §4.6, whatsmeow's rule): device
    /// JIDs on the user and LID servers and every hosted JID use AD_JID, `msgr` uses FB_JID,
    /// `interop` uses INTEROP_JID, everything else a JID_PAIR. Fields a form cannot carry are
    /// refused instead of being dropped silently.
    private mutating func writeJID(_ jid: JID) throws {
        guard !jid.server.isEmpty else { throw ProtocolError.invalidJID("empty server") }
        if jid.integrator != 0, jid.server != JID.Server.interop {
            throw ProtocolError.invalidJID("integrator on \(jid.server)")
        }
        if jid.agent != 0, jid.server != JID.Server.user {
            throw ProtocolError.invalidJID("agent on \(jid.server)")
        }
        switch jid.server {
        case JID.Server.messenger:
            out.append(BinaryTag.fbJID)
            try writeString(jid.user)
            appendBigEndian(UInt64(jid.device), byteCount: 2)
            try writeString(jid.server)
        case JID.Server.interop:
            out.append(BinaryTag.interopJID)
            try writeString(jid.user)
            appendBigEndian(UInt64(jid.device), byteCount: 2)
            appendBigEndian(UInt64(jid.integrator), byteCount: 2)
            try writeString(jid.server)
        case JID.Server.hosted, JID.Server.hostedLID:
            try writeADJID(jid, domain: jid.server == JID.Server.hosted ? 128 : 129)
        case JID.Server.lid where jid.device != 0:
            try writeADJID(jid, domain: 1)
        case JID.Server.user where jid.device != 0 || jid.agent != 0:
            // Domain bytes 1, 128 and 129 name other servers, so they cannot be raw agents here.
            guard ![1, 128, 129].contains(jid.agent) else { throw ProtocolError.invalidJID("agent \(jid.agent)") }
            try writeADJID(jid, domain: jid.agent)
        default:
            guard jid.device == 0 else { throw ProtocolError.invalidJID("device on \(jid.server)") }
            out.append(BinaryTag.jidPair)
            if jid.user.isEmpty {
                out.append(BinaryTag.listEmpty)
            } else {
                try writeString(jid.user)
            }
            try writeString(jid.server)
        }
    }

    private mutating func writeADJID(_ jid: JID, domain: UInt8) throws {
        guard jid.device <= UInt8.max else { throw ProtocolError.invalidJID("device \(jid.device) over 255") }
        out.append(BinaryTag.adJID)
        out.append(domain)
        out.append(UInt8(jid.device))
        try writeString(jid.user)
    }
}
