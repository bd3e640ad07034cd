import Testing
import WAProtocol

/// Property tests over seeded random nodes: binary and text round trips are exact.
@Suite struct RoundTripPropertyTests {
    /// Each seed drives an independent generator, so a failure names a reproducible case.
    static let seeds: [UInt64] = Array(1...40)

    @Test(arguments: seeds)
    func binaryRoundTripIsExact(seed: UInt64) throws {
        var generator = NodeGenerator(seed: seed)
        for _ in 0..<50 {
            let node = generator.node()
            let bytes = try NodeEncoder.encode(node)
            #expect(try NodeDecoder.decode(bytes) == node, "seed \(seed): \(node)")
        }
    }

    @Test(arguments: seeds)
    func plaintextRoundTripIsExactWithAndWithoutCompression(seed: UInt64) throws {
        var generator = NodeGenerator(seed: seed &+ 1000)
        for index in 0..<20 {
            let node = generator.node()
            let plaintext = try NodePlaintext.encode(node, compressed: index % 2 == 0)
            #expect(try NodePlaintext.decode(plaintext) == node, "seed \(seed): \(node)")
        }
    }

    @Test(arguments: seeds)
    func textRoundTripIsExact(seed: UInt64) throws {
        var generator = NodeGenerator(seed: seed &+ 2000)
        for _ in 0..<50 {
            let node = generator.node()
            let text = NodeText.render(node)
            let parsed = try NodeText.parse(text)
            #expect(parsed == node, "seed \(seed): \(text)")
            #expect(NodeText.render(parsed) == text)
            #expect(try NodeText.parse(NodeText.render(node, pretty: true)) == node, "seed \(seed) pretty: \(text)")
        }
    }

    /// Encoding is a function of the node: decoding and re-encoding gives the same bytes.
    @Test(arguments: seeds)
    func reEncodingDecodedBytesIsStable(seed: UInt64) throws {
        var generator = NodeGenerator(seed: seed &+ 3000)
        for _ in 0..<20 {
            let bytes = try NodeEncoder.encode(generator.node())
            #expect(try NodeEncoder.encode(NodeDecoder.decode(bytes)) == bytes)
        }
    }

    /// BINARY_8 / BINARY_20 / BINARY_32 boundaries, which the random sizes stay below.
    @Test(arguments: [255, 256, (1 << 20) - 1, 1 << 20, (1 << 20) + 1])
    func contentLengthBoundariesPickTheRightTag(length: Int) throws {
        let payload = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let node = BinaryNode("enc", bytes: payload)
        let bytes = try NodeEncoder.encode(node)
        let expectedTag: UInt8 = length < 256 ? 0xFC : length < 1 << 20 ? 0xFD : 0xFE
        #expect(bytes[3] == expectedTag)
        #expect(try NodeDecoder.decode(bytes) == node)
    }

    /// The string-form choice of §4.5 for attribute values.
    @Test(
        arguments: [
            ("", "ff00"), ("get", "29"), ("passive", "ec18"), ("0123-.", "ff03 01 23 ab"), ("A", "fb81af"),
            ("1A", "fb011a"), ("a", "fc0161"),
        ])
    func stringFormChoice(value: String, encoded: String) throws {
        let bytes = try NodeEncoder.encode(BinaryNode("iq", ["id": .string(value)]))
        #expect(TestHex.string(Array(bytes.dropFirst(4))) == TestHex.string(TestHex.bytes(encoded)))
        #expect(try NodeDecoder.decode(bytes).attributes.string("id") == value)
    }

    @Test func packedStringsAreLimitedTo127Characters() throws {
        let nibble127 = String(repeating: "7", count: 127)
        let nibble128 = String(repeating: "7", count: 128)
        #expect(try NodeEncoder.encode(BinaryNode("iq", ["id": .string(nibble127)]))[4] == 0xFF)
        #expect(try NodeEncoder.encode(BinaryNode("iq", ["id": .string(nibble128)]))[4] == 0xFC)
        let hex127 = String(repeating: "F", count: 127)
        #expect(try NodeEncoder.encode(BinaryNode("iq", ["id": .string(hex127)]))[4] == 0xFB)
    }

    /// Every token byte and dictionary index decodes; the tables have no duplicates.
    @Test func everyTokenIndexDecodesToADistinctString() throws {
        var seen: Set<String> = []
        for byte in UInt8(1)...235 {
            seen.insert(try NodeDecoder.decode([0xF8, 0x01, byte]).tag)
        }
        for dictionary in UInt8(0)...3 {
            for index in UInt8(0)...255 {
                seen.insert(try NodeDecoder.decode([0xF8, 0x01, 0xEC + dictionary, index]).tag)
            }
        }
        #expect(seen.count == 235 + 1024)
        // Appendix A and §4.9 spot checks.
        #expect(try NodeDecoder.decode([0xF8, 0x01, 0x01]).tag == "xmlstreamstart")
        #expect(try NodeDecoder.decode([0xF8, 0x01, 0xEB]).tag == "screen_height")
        #expect(try NodeDecoder.decode([0xF8, 0x01, 0xEC, 0x00]).tag == "read-self")
        #expect(try NodeDecoder.decode([0xF8, 0x01, 0xED, 0x00]).tag == "reject")
        #expect(try NodeDecoder.decode([0xF8, 0x01, 0xEE, 0x00]).tag == "64")
        #expect(try NodeDecoder.decode([0xF8, 0x01, 0xEF, 0x00]).tag == "1724")
    }
}
