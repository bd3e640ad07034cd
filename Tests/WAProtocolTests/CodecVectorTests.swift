import Testing
import WAProtocol

/// Known-answer tests: every reference vector decodes to the expected node and the node encodes
/// back to the same bytes, attribute order included.
@Suite struct CodecVectorTests {
    @Test(arguments: CodecVectors.all)
    func vectorDecodesToTheExpectedNode(_ vector: CodecVector) throws {
        let decoded = try NodePlaintext.decode(TestHex.bytes(vector.hex))
        #expect(decoded == vector.node)
    }

    @Test(arguments: CodecVectors.all)
    func nodeEncodesToTheVectorBytes(_ vector: CodecVector) throws {
        let encoded = try NodePlaintext.encode(vector.node)
        #expect(TestHex.string(encoded) == TestHex.string(TestHex.bytes(vector.hex)))
    }

    @Test(arguments: CodecVectors.all)
    func vectorSurvivesTheTextForm(_ vector: CodecVector) throws {
        let text = NodeText.render(vector.node)
        #expect(try NodeText.parse(text) == vector.node)
        #expect(try NodeText.parse(NodeText.render(vector.node, pretty: true)) == vector.node)
    }

    /// §7.3 "same, zlib-compressed (flags 02)".
    @Test func compressedVectorInflatesToTheOfflineIB() throws {
        let node = try NodePlaintext.decode(TestHex.bytes("0278dafbc1f287293389ed1703f30fc61fcc428eba00404b063d"))
        let expected = BinaryNode(
            "ib", ["from": .jid(.whatsAppServer)], children: [BinaryNode("offline", ["count": "0"])])
        #expect(node == expected)
    }

    /// Byte-exact compressed output depends on the zlib build, so only the shape and the round
    /// trip are checked.
    @Test func compressedEncodingSetsTheFlagAndRoundTrips() throws {
        let node = BinaryNode("ib", ["from": .jid(.whatsAppServer)], children: [BinaryNode("offline", ["count": "0"])])
        let plaintext = try NodePlaintext.encode(node, compressed: true)
        #expect(plaintext[0] == 0x02)
        #expect(plaintext[1] == 0x78)
        #expect(try NodePlaintext.decode(plaintext) == node)
    }

    @Test func textFormMatchesTheReferenceNotation() throws {
        let keepalive = CodecVectors.section73[2].node
        #expect(
            NodeText.render(keepalive) == #"<iq id="1.2-4" to=s.whatsapp.net type="get" xmlns="w:p"><ping/></iq>"#)
        let success = CodecVectors.section73[8].node
        #expect(
            NodeText.render(success)
                == #"<success t="1700000000" props="27" abprops="8" location="frc" creation="1690000000" lid=123456789012345:7@lid/>"#
        )
        let pairDevice = CodecVectors.section73[16].node
        #expect(
            NodeText.render(pairDevice)
                == #"<iq from=s.whatsapp.net type="set" id="1111" xmlns="md"><pair-device><ref>2@AAAA</ref><ref>2@BBBB</ref></pair-device></iq>"#
        )
    }

    @Test func pairSuccessNavigation() throws {
        let node = try NodePlaintext.decode(TestHex.bytes(CodecVectors.pairing[0].hex))
        let pairSuccess = try #require(node.child("pair-success"))
        #expect(pairSuccess.child("device-identity")?.contentBytes == CodecVectors.deviceIdentity)
        #expect(pairSuccess.child("platform")?.attributes.string("name") == "android")
        let device = try #require(pairSuccess.child("device"))
        #expect(device.attributes.jid("jid") == JID(user: "15551234567", server: "s.whatsapp.net", device: 7))
        #expect(device.attributes.jid("lid")?.description == "123456789012345:7@lid")
        #expect(node.attributes.jid("from") == .whatsAppServer)
        #expect(node.attributes.jid("id") == nil)
    }
}
