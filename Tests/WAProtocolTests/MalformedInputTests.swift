import Reactor
import Testing
import WAProtocol

/// Hostile and broken input: every class ends in a typed `ProtocolError`, never a trap, and
/// never an allocation sized by an unchecked length.
@Suite struct MalformedInputTests {
    private func decodeError(_ body: [UInt8]) -> ProtocolError? {
        do {
            _ = try NodeDecoder.decode(body)
            return nil
        } catch let error as ProtocolError {
            return error
        } catch {
            Issue.record("untyped error \(error)")
            return nil
        }
    }

    // MARK: - Truncation and lengths

    @Test(arguments: CodecVectors.all)
    func everyPrefixOfAValidEncodingIsRefused(_ vector: CodecVector) {
        let body = Array(TestHex.bytes(vector.hex).dropFirst())
        for length in 0..<body.count {
            let error = decodeError(Array(body[..<length]))
            #expect(error?.isInputTooShort == true, "prefix \(length) of \(vector.name): \(String(describing: error))")
        }
    }

    @Test func emptyPlaintextIsTruncated() {
        #expect(throws: ProtocolError.truncated) { try NodePlaintext.decode([]) }
        #expect(throws: ProtocolError.truncated) { try NodePlaintext.decode([0x00]) }
    }

    @Test func declaredLengthsBeyondTheInputAreRefusedUpFront() {
        // BINARY_8 of 10 with 3 bytes, BINARY_20 of 1 MiB - 1, BINARY_32 of 4 GiB - 1.
        #expect(decodeError([0xF8, 0x02, 0x1D, 0xFC, 0x0A, 1, 2, 3]) == .lengthTooLarge(10))
        #expect(decodeError([0xF8, 0x02, 0x1D, 0xFD, 0xFF, 0xFF, 0xFF, 1]) == .lengthTooLarge(0xF_FFFF))
        #expect(decodeError([0xF8, 0x02, 0x1D, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 1]) == .lengthTooLarge(0xFFFF_FFFF))
        // A packed string claiming 127 bytes.
        #expect(decodeError([0xF8, 0x03, 0x19, 0x08, 0xFF, 0x7F, 0x12]) == .lengthTooLarge(127))
    }

    @Test func oversizedListSizesAreRefusedBeforeReadingChildren() {
        // Root node claiming 65535 items, and a child list claiming 65535 children.
        #expect(decodeError([0xF9, 0xFF, 0xFF, 0x19, 0x04, 0x29]) == .lengthTooLarge(65535))
        #expect(decodeError([0xF8, 0x02, 0x19, 0xF9, 0xFF, 0xFF, 0xF8, 0x01, 0x56]) == .lengthTooLarge(65535))
        #expect(decodeError([0xF8, 0x02, 0x19, 0xF8, 0x02, 0xF8, 0x01, 0x56]) == .lengthTooLarge(2))
    }

    @Test func wrongListSizesAreRefused() {
        #expect(decodeError([0xF8, 0x00]) == .invalidNode("list size 0"))
        #expect(decodeError([0x00]) == .invalidNode("list size 0"))
        // Declares 1 item (tag only) but an attribute pair follows.
        #expect(decodeError([0xF8, 0x01, 0x19, 0x04, 0x29]) == .trailingBytes(2))
        // Declares content that is missing.
        #expect(decodeError([0xF8, 0x02, 0x19])?.isInputTooShort == true)
    }

    // MARK: - Tags and tokens

    @Test(arguments: [UInt8(0xF0), 0xF1, 0xF2, 0xF3, 0xF4])
    func unusedTagBytesAreRefusedInEveryPosition(tag: UInt8) {
        #expect(decodeError([tag]) == .invalidTag(tag))  // node start
        #expect(decodeError([0xF8, 0x01, tag]) == .invalidTag(tag))  // tag
        #expect(decodeError([0xF8, 0x03, 0x19, tag, 0x29]) == .invalidTag(tag))  // attribute key
        #expect(decodeError([0xF8, 0x03, 0x19, 0x04, tag]) == .invalidTag(tag))  // attribute value
        #expect(decodeError([0xF8, 0x02, 0x19, tag]) == .invalidTag(tag))  // content
    }

    @Test func aNodeMustStartWithAList() {
        #expect(decodeError([0x19]) == .invalidTag(0x19))
        #expect(decodeError([0xFC, 0x01, 0x41]) == .invalidTag(0xFC))
        // A child list whose entries are not nodes.
        #expect(decodeError([0xF8, 0x02, 0x19, 0xF8, 0x01, 0x56, 0x56, 0x56]) == .invalidTag(0x56))
    }

    @Test func listsAreRefusedWhereAStringIsExpected() {
        #expect(decodeError([0xF8, 0x01, 0xF8, 0x01, 0x19]) == .invalidTag(0xF8))
        #expect(decodeError([0xF8, 0x03, 0x19, 0x04, 0xF9, 0x00, 0x01]) == .invalidTag(0xF9))
    }

    /// All 236 + 4 × 256 token slots are filled, so no token byte is out of range; a dictionary
    /// tag without its index byte is the only way to break one.
    @Test func dictionaryTagWithoutIndexIsTruncated() {
        for dictionary in UInt8(0xEC)...0xEF {
            #expect(decodeError([0xF8, 0x01, dictionary]) == .truncated)
        }
    }

    @Test func emptyTagsAndKeysAreRefused() {
        #expect(decodeError([0xF8, 0x01, 0xFC, 0x00]) == .invalidNode("empty tag"))
        #expect(decodeError([0xF8, 0x01, 0xFF, 0x00]) == .invalidNode("empty tag"))
        #expect(decodeError([0xF8, 0x03, 0x19, 0x00, 0x29]) == .invalidNode("empty attribute key"))
    }

    @Test func trailingBytesAfterTheRootAreRefused() {
        #expect(decodeError([0xF8, 0x01, 0x56, 0x00]) == .trailingBytes(1))
    }

    // MARK: - Packed strings and JIDs

    @Test func invalidPackedStringsAreRefused() {
        #expect(decodeError([0xF8, 0x01, 0xFF, 0x80]) == .invalidPackedString("odd flag on an empty string"))
        #expect(decodeError([0xF8, 0x01, 0xFF, 0x01, 0x1C]) == .invalidPackedString("nibble 12"))
        // The filler is only valid as the dropped last nibble.
        #expect(decodeError([0xF8, 0x01, 0xFF, 0x02, 0xF1, 0x23]) == .invalidPackedString("nibble 15"))
        #expect(decodeError([0xF8, 0x01, 0xFF, 0x81, 0x1D]) == .invalidPackedString("nibble 13"))
        // Hex accepts every nibble, and drops the last one of an odd string whatever it is.
        #expect((try? NodeDecoder.decode([0xF8, 0x01, 0xFB, 0x81, 0xA3]))?.tag == "A")
    }

    @Test func malformedJIDsAreRefused() {
        let iqTo: [UInt8] = [0xF8, 0x03, 0x19, 0x11]
        #expect(decodeError(iqTo + [0xFA, 0xFF, 0x01, 0x12, 0x00]) == .invalidJID("empty server"))
        #expect(
            decodeError(iqTo + [0xF6, 0xFF, 0x01, 0x12, 0x00, 0x01, 0x03]) == .invalidJID("FB_JID on s.whatsapp.net"))
        #expect(
            decodeError(iqTo + [0xF5, 0xFF, 0x01, 0x12, 0x00, 0x01, 0x00, 0x02, 0xCC])
                == .invalidJID("INTEROP_JID on msgr"))
        #expect(decodeError(iqTo + [0xFA, 0xFA, 0x00, 0x03, 0x03]) == .invalidJID("nested JID"))
        #expect(decodeError(iqTo + [0xF7, 0x00, 0x01, 0xF7, 0x00, 0x01, 0x00]) == .invalidJID("nested JID"))
    }

    // MARK: - Nesting

    private func nested(_ depth: Int) -> [UInt8] {
        // <iq><iq>…<iq/>…</iq></iq>: each level is `f8 02 19 f8 01`, the innermost `f8 01 19`.
        var bytes: [UInt8] = []
        for _ in 1..<depth { bytes += [0xF8, 0x02, 0x19, 0xF8, 0x01] }
        return bytes + [0xF8, 0x01, 0x19]
    }

    @Test func nestingUpToTheLimitDecodes() throws {
        var node = try NodeDecoder.decode(nested(NodeDecoder.defaultMaxDepth))
        var depth = 1
        while let child = node.children.first {
            node = child
            depth += 1
        }
        #expect(depth == NodeDecoder.defaultMaxDepth)
    }

    @Test func nestingPastTheLimitIsRefusedWithoutExhaustingTheStack() {
        #expect(decodeError(nested(NodeDecoder.defaultMaxDepth + 1)) == .nestingTooDeep(NodeDecoder.defaultMaxDepth))
        #expect(decodeError(nested(100_000)) == .nestingTooDeep(NodeDecoder.defaultMaxDepth))
        #expect(throws: ProtocolError.nestingTooDeep(3)) { try NodeDecoder.decode(nested(4), maxDepth: 3) }
    }

    // MARK: - Flags and compression

    @Test(arguments: [UInt8(0x01), 0x04, 0x80, 0xFD])
    func flagBitsOtherThanCompressionAreIgnored(flags: UInt8) throws {
        #expect(try NodePlaintext.decode([flags, 0xF8, 0x01, 0x56]) == BinaryNode("ping"))
    }

    @Test func compressedFlagWithAnInvalidBodyFails() {
        #expect(throws: ProtocolError.self) { try NodePlaintext.decode([0x02, 0xF8, 0x01, 0x56]) }
        #expect(throws: ProtocolError.self) { try NodePlaintext.decode([0x02]) }
        let valid = TestHex.bytes("0278dafbc1f287293389ed1703f30fc61fcc428eba00404b063d")
        #expect(throws: ProtocolError.self) { try NodePlaintext.decode(Array(valid.dropLast(3))) }
        var corrupted = valid
        corrupted[6] ^= 0xFF
        #expect(throws: ProtocolError.self) { try NodePlaintext.decode(corrupted) }
    }

    @Test func zlibBombIsStoppedAtTheLimit() throws {
        // 64 KiB of zlib that inflates to 32 MiB: well past the 16 MiB default.
        let bomb = try Zlib.deflate([UInt8](repeating: 0, count: 32 << 20))
        #expect(bomb.count < 64 << 10)
        #expect(throws: ProtocolError.decompressedTooLarge(NodePlaintext.defaultMaxInflatedSize)) {
            try NodePlaintext.decode([0x02] + bomb)
        }
        let node = BinaryNode("enc", bytes: [UInt8](repeating: 7, count: 5000))
        let plaintext = try NodePlaintext.encode(node, compressed: true)
        #expect(throws: ProtocolError.decompressedTooLarge(1000)) {
            try NodePlaintext.decode(plaintext, maxInflatedSize: 1000)
        }
        #expect(try NodePlaintext.decode(plaintext, maxInflatedSize: 5010) == node)
    }

    // MARK: - Encoder refusals

    @Test func encoderRefusesWhatTheWireCannotCarry() {
        #expect(throws: ProtocolError.invalidNode("empty tag")) { try NodeEncoder.encode(BinaryNode("")) }
        #expect(throws: ProtocolError.invalidNode("empty attribute key")) {
            try NodeEncoder.encode(BinaryNode("iq", ["": "x"]))
        }
        #expect(throws: ProtocolError.invalidJID("device 300 over 255")) {
            try NodeEncoder.encode(
                BinaryNode("iq", ["to": .jid(JID(user: "1", server: "s.whatsapp.net", device: 300))]))
        }
        #expect(throws: ProtocolError.invalidJID("integrator on g.us")) {
            try NodeEncoder.encode(BinaryNode("iq", ["to": .jid(JID(user: "1", server: "g.us", integrator: 2))]))
        }
        #expect(throws: ProtocolError.invalidJID("agent on lid")) {
            try NodeEncoder.encode(BinaryNode("iq", ["to": .jid(JID(user: "1", server: "lid", agent: 3))]))
        }
        #expect(throws: ProtocolError.invalidJID("agent 128")) {
            try NodeEncoder.encode(BinaryNode("iq", ["to": .jid(JID(user: "1", server: "s.whatsapp.net", agent: 128))]))
        }
        #expect(throws: ProtocolError.invalidJID("device on g.us")) {
            try NodeEncoder.encode(BinaryNode("iq", ["to": .jid(JID(user: "1", server: "g.us", device: 2))]))
        }
        #expect(throws: ProtocolError.invalidJID("empty server")) {
            try NodeEncoder.encode(BinaryNode("iq", ["to": .jid(JID(server: ""))]))
        }
        #expect(throws: ProtocolError.unencodable("list of 65536 items")) {
            try NodeEncoder.encode(BinaryNode("list", children: Array(repeating: BinaryNode("item"), count: 65536)))
        }
        var deep = BinaryNode("iq")
        for _ in 0..<NodeDecoder.defaultMaxDepth { deep = BinaryNode("iq", children: [deep]) }
        #expect(throws: ProtocolError.nestingTooDeep(NodeDecoder.defaultMaxDepth)) { try NodeEncoder.encode(deep) }
    }
}
