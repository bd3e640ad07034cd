import Testing
import WAProtocol

/// The XML-like text form: exact renderings, hand-written input, and parse errors.
@Suite struct NodeTextTests {
    @Test(
        arguments: [
            #"<ping/>"#,
            #"<iq id="1.2-2" xmlns="w:p" type="get" to=s.whatsapp.net/>"#,
            #"<list></list>"#,
            #"<ref>2@AAAA</ref>"#,
            #"<enc>0x0001ff</enc>"#,
            #"<enc>0x</enc>"#,
            #"<count>"123"</count>"#,
            #"<to>jid"1234:5@s.whatsapp.net"</to>"#,
            #"<a k="quote \" backslash \\ newline \n tab \t bell \u{7}">a &lt;b&gt; &amp; c</a>"#,
            #"<"two words" "k y"="v"/>"#,
            #"<iq to=7-100001:2@interop from=100001:2@msgr jid=1.5:3@s.whatsapp.net/>"#,
            #"<text>héllo 日本 🙂</text>"#,
        ])
    func renderedTextIsAFixedPoint(text: String) throws {
        #expect(NodeText.render(try NodeText.parse(text)) == text)
    }

    @Test func contentForms() throws {
        #expect(try NodeText.parse("<a/>").content == .none)
        #expect(try NodeText.parse("<a></a>").content == .nodes([]))
        #expect(try NodeText.parse("<a>0x0aff</a>").content == .bytes([0x0A, 0xFF]))
        #expect(try NodeText.parse("<a>hi</a>").content == .bytes(Array("hi".utf8)))
        #expect(try NodeText.parse(#"<a>"hi"</a>"#).content == .string("hi"))
        #expect(try NodeText.parse(#"<a>jid"g.us"</a>"#).content == .jid(JID(server: "g.us")))
        #expect(
            try NodeText.parse(#"<a k="v" j=1@g.us/>"#).attributes == [
                "k": "v", "j": .jid(JID(user: "1", server: "g.us")),
            ])
    }

    /// Bytes that are printable but would read as another form, or that have edge whitespace,
    /// are shown in hex so the text parses back to the same bytes.
    @Test(arguments: ["\"quoted", "0x12", "jid\"x", " lead", "trail ", "new\nline", "", "\u{85}"])
    func ambiguousBytesRenderAsHex(text: String) throws {
        let node = BinaryNode("a", bytes: Array(text.utf8))
        let rendered = NodeText.render(node)
        #expect(rendered.hasPrefix("<a>0x"))
        #expect(try NodeText.parse(rendered) == node)
    }

    @Test func invalidUTF8BytesRenderAsHex() throws {
        let node = BinaryNode("a", bytes: [0xC3, 0x28])
        #expect(NodeText.render(node) == "<a>0xc328</a>")
    }

    @Test func handWrittenTextWithWhitespaceParses() throws {
        let text = """

            <iq id="1" type="get"   xmlns="w:p"
                to=s.whatsapp.net>
              <ping/>
              <ref>  2@AAAA  </ref>
            </iq>

            """
        let node = try NodeText.parse(text)
        let expected = BinaryNode(
            "iq", ["id": "1", "type": "get", "xmlns": "w:p", "to": .jid(.whatsAppServer)],
            children: [BinaryNode("ping"), BinaryNode("ref", bytes: Array("2@AAAA".utf8))])
        #expect(node == expected)
    }

    @Test func prettyRenderingIndentsChildren() {
        let node = BinaryNode(
            "iq", ["id": "1"], children: [BinaryNode("a", children: [BinaryNode("b")]), BinaryNode("c")])
        #expect(NodeText.render(node, pretty: true) == "<iq id=\"1\">\n  <a>\n    <b/>\n  </a>\n  <c/>\n</iq>")
    }

    @Test func descriptionIsTheTextForm() {
        #expect(BinaryNode("iq", ["type": "get"]).description == #"<iq type="get"/>"#)
    }

    @Test(
        arguments: [
            ("", "expected <"),
            ("<", "expected a name"),
            ("<a", "expected a name"),
            ("<a k>", "expected ="),
            ("<a k=>", "expected an attribute value"),
            (#"<a k="v/>"#, "unterminated string"),
            (#"<a k="\q"/>"#, "unknown escape"),
            (#"<a k="\u{110000}"/>"#, "bad \\u escape"),
            ("<a></b>", "closing tag does not match <a>"),
            ("<a>0x123</a>", "odd number of hex digits"),
            ("<a>0xzz</a>", "expected </"),
            ("<a>x &nbsp; y</a>", "unknown entity"),
            ("<a/><b/>", "text after the root node"),
            ("<a><b/>", "expected <"),
        ])
    func malformedTextIsRefused(text: String, reason: String) {
        do {
            _ = try NodeText.parse(text)
            Issue.record("parsed \(text)")
        } catch let error as ProtocolError {
            #expect(error.description.contains(reason), "\(text): \(error)")
        } catch {
            Issue.record("untyped error \(error)")
        }
    }

    @Test func malformedJIDsInTextAreRefused() {
        #expect(throws: ProtocolError.invalidJID("bad server in a@")) { try NodeText.parse("<a k=a@/>") }
        #expect(throws: ProtocolError.invalidJID("bad number in 1:x@s.whatsapp.net")) {
            try NodeText.parse("<a k=1:x@s.whatsapp.net/>")
        }
    }

    @Test func textNestingIsLimited() {
        let depth = NodeDecoder.defaultMaxDepth + 1
        let text = String(repeating: "<a>", count: depth - 1) + "<a/>" + String(repeating: "</a>", count: depth - 1)
        #expect(throws: ProtocolError.nestingTooDeep(NodeDecoder.defaultMaxDepth)) { try NodeText.parse(text) }
    }
}
