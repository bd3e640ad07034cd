import Testing
import WAProtocol

/// One known-answer case: the node, and its frame plaintext (flags byte included) as the
/// reference prints it.
struct CodecVector: Sendable, CustomTestStringConvertible {
    let name: String
    let node: BinaryNode
    let hex: String

    var testDescription: String { name }
}

/// The server JID, `fa 00 03` on the wire.
private let server = AttributeValue.jid(.whatsAppServer)

/// Every binary codec vector of the protocol reference: §7.3, the worked encodings of §4.7, and
/// the `node.*` entries of wa-vectors-handshake-pairing.json (copied here so the tests need no
/// file outside the repository; the JSON key is named in each case).
enum CodecVectors {
    /// `adv.ADVSignedDeviceIdentityHMAC(device-identity content)`.
    static let deviceIdentity = TestHex.bytes(
        "0a760a100887ad4b1080e2cfaa061803200028001220c1918a72051a5900e0f148780c2cec4492eda1e9eefe0e1eee82"
            + "993e6ae7a3121a40a9ebd96e572c89c57a93dd6b123f556e9ebdfcf3bbd50c870bfe5a2ba7e21e922d659136e987bc52"
            + "b046ee88a196ac0c11f74840b84bd8f34f3b3c9449a3708f1220f8296048b37915b0bc5a9cde05251b91c7a0050dff6c"
            + "25feb73843ceda07b881")
    /// `adv.reply.ADVSignedDeviceIdentity(no accountSignatureKey)`.
    static let replyIdentity = TestHex.bytes(
        "0a100887ad4b1080e2cfaa061803200028001a40a9ebd96e572c89c57a93dd6b123f556e9ebdfcf3bbd50c870bfe5a2b"
            + "a7e21e922d659136e987bc52b046ee88a196ac0c11f74840b84bd8f34f3b3c9449a3708f22403f13975cf162a336d6e8"
            + "2d04e997b785f5bca79917659db258aae64bad424ec012bed61119d4d375f9415d851363d628171e4c628a2e711a4646"
            + "099790b64909")

    /// §7.3, in table order. The JSON file repeats several of these under `node.*` keys.
    static let section73: [CodecVector] = [
        CodecVector(
            name: "passive/active iq (node.passive-active-iq)",
            node: BinaryNode(
                "iq", ["to": server, "xmlns": "passive", "type": "set", "id": "1.2-1"], children: [BinaryNode("active")]
            ),
            hex: "00f80a1911fa000316ec18045a08ff831b2a1ff801f801ec01"),
        CodecVector(
            name: "whatsmeow keepalive (node.keepalive-iq)",
            node: BinaryNode("iq", ["id": "1.2-2", "xmlns": "w:p", "type": "get", "to": server]),
            hex: "00f8091908ff831b2a2f1657042911fa0003"),
        CodecVector(
            name: "Baileys keepalive",
            node: BinaryNode(
                "iq", ["id": "1.2-4", "to": server, "type": "get", "xmlns": "w:p"], children: [BinaryNode("ping")]),
            hex: "00f80a1908ff831b2a4f11fa000304291657f801f80156"),
        CodecVector(
            name: "pong",
            node: BinaryNode("iq", ["from": server, "type": "result", "id": "1.2-2", "t": "1700000000"]),
            hex: "00f8091906fa0003041408ff831b2a2f1aff051700000000"),
        CodecVector(
            name: "server ping",
            node: BinaryNode(
                "iq", ["from": server, "t": "1700000000", "type": "get", "xmlns": "urn:xmpp:ping", "id": "41"]),
            hex: "00f80b1906fa00031aff0517000000000429162b08eeae"),
        CodecVector(
            name: "client pong",
            node: BinaryNode("iq", ["to": server, "type": "result", "id": "41"]),
            hex: "00f8071911fa0003041408eeae"),
        CodecVector(
            name: "prekey count query",
            node: BinaryNode(
                "iq", ["id": "1.2-3", "xmlns": "encrypt", "type": "get", "to": server], children: [BinaryNode("count")]),
            hex: "00f80a1908ff831b2a3f16cb042911fa0003f801f80141"),
        CodecVector(
            name: "prekey count result",
            node: BinaryNode(
                "iq", ["from": server, "type": "result", "id": "1.2-3"], children: [BinaryNode("count", ["value": "0"])]
            ),
            hex: "00f8081906fa0003041408ff831b2a3ff801f803416c2d"),
        CodecVector(
            name: "success (node.success)",
            node: BinaryNode(
                "success",
                [
                    "t": "1700000000", "props": "27", "abprops": "8", "location": "frc", "creation": "1690000000",
                    "lid": .jid(JID(user: "123456789012345", server: "lid", device: 7)),
                ]),
            hex: "00f80d4c1aff0517000000005cee044becdf3dfc036672633cff05169000000076f70107ff88123456789012345f"),
        CodecVector(
            name: "offline ib",
            node: BinaryNode("ib", ["from": server], children: [BinaryNode("offline", ["count": "0"])]),
            hex: "00f804fc02696206fa0003f801f80312412d"),
        CodecVector(
            name: "presence",
            node: BinaryNode("presence", ["type": "available", "name": "Test"]),
            hex: "00f8051f048889fc0454657374"),
        CodecVector(
            name: "stream:error 515",
            node: BinaryNode("stream:error", ["code": "515"]),
            hex: "00f8039d70ff82515f"),
        CodecVector(
            name: "stream:error 401 device_removed",
            node: BinaryNode(
                "stream:error", ["code": "401"], children: [BinaryNode("conflict", ["type": "device_removed"])]),
            hex: "00f8049d708df801f803ec0e04fc0e6465766963655f72656d6f766564"),
        CodecVector(
            name: "stream:error replaced",
            node: BinaryNode("stream:error", children: [BinaryNode("conflict", ["type": "replaced"])]),
            hex: "00f8029df801f803ec0e04ec11"),
        CodecVector(
            name: "failure",
            node: BinaryNode("failure", ["reason": "401", "location": "frc"]),
            hex: "00f805ee3cec2e8d3dfc03667263"),
        CodecVector(name: "xmlstreamend", node: BinaryNode("xmlstreamend"), hex: "00f80102"),
        CodecVector(
            name: "pair-device with 2 refs (node.pair-device(2 refs))",
            node: BinaryNode(
                "iq", ["from": server, "type": "set", "id": "1111", "xmlns": "md"],
                children: [
                    BinaryNode(
                        "pair-device",
                        children: [
                            BinaryNode("ref", bytes: Array("2@AAAA".utf8)),
                            BinaryNode("ref", bytes: Array("2@BBBB".utf8)),
                        ])
                ]),
            hex: "00f80a1906fa0003045a08eee216fc026d64f801f802edeef802f802ed50fc06324041414141f802ed50fc06324042424242"),
        CodecVector(
            name: "pair-device ack (node.pair-device ack)",
            node: BinaryNode("iq", ["to": server, "type": "result", "id": "1111"]),
            hex: "00f8071911fa0003041408eee2"),
    ]

    /// §7.5 pairing stanzas, as in the JSON file.
    static let pairing: [CodecVector] = [
        CodecVector(
            name: "node.pair-success",
            node: BinaryNode(
                "iq", ["from": server, "type": "set", "id": "1234567890", "xmlns": "md"],
                children: [
                    BinaryNode(
                        "pair-success",
                        children: [
                            BinaryNode("device-identity", bytes: deviceIdentity),
                            BinaryNode("platform", ["name": "android"]),
                            BinaryNode(
                                "device",
                                [
                                    "jid": .jid(JID(user: "15551234567", server: "s.whatsapp.net", device: 7)),
                                    "lid": .jid(JID(user: "123456789012345", server: "lid", device: 7)),
                                ]),
                        ])
                ]),
            hex: "00f80a1906fa0003045a08ff05123456789016fc026d64f801f802fc0c706169722d73756363657373f803f802e6fc9a"
                + "0a760a100887ad4b1080e2cfaa061803200028001220c1918a72051a5900e0f148780c2cec4492eda1e9eefe0e1eee82"
                + "993e6ae7a3121a40a9ebd96e572c89c57a93dd6b123f556e9ebdfcf3bbd50c870bfe5a2ba7e21e922d659136e987bc52"
                + "b046ee88a196ac0c11f74840b84bd8f34f3b3c9449a3708f1220f8296048b37915b0bc5a9cde05251b91c7a0050dff6c"
                + "25feb73843ceda07b881f8034a89e4f8053b0cf70007ff8615551234567f76f70107ff88123456789012345f"),
        CodecVector(
            name: "node.pair-device-sign reply",
            node: BinaryNode(
                "iq", ["to": server, "type": "result", "id": "1234567890"],
                children: [
                    BinaryNode(
                        "pair-device-sign",
                        children: [BinaryNode("device-identity", ["key-index": "3"], bytes: replyIdentity)])
                ]),
            hex: "00f8081911fa0003041408ff051234567890f801f802fc10706169722d6465766963652d7369676ef801f804e650a2fc"
                + "960a100887ad4b1080e2cfaa061803200028001a40a9ebd96e572c89c57a93dd6b123f556e9ebdfcf3bbd50c870bfe5a"
                + "2ba7e21e922d659136e987bc52b046ee88a196ac0c11f74840b84bd8f34f3b3c9449a3708f22403f13975cf162a336d6"
                + "e82d04e997b785f5bca79917659db258aae64bad424ec012bed61119d4d375f9415d851363d628171e4c628a2e711a46"
                + "46099790b64909"),
    ]

    /// §4.7 worked encodings; rows given there as `… 11 …` are the attribute of `<iq to=…/>`.
    static let section47: [CodecVector] = [
        CodecVector(name: "ping", node: BinaryNode("ping"), hex: "00f80156"),
        CodecVector(name: "iq type=get", node: BinaryNode("iq", ["type": "get"]), hex: "00f803190429"),
        CodecVector(name: "double-byte token tag", node: BinaryNode("passive"), hex: "00f801ec18"),
        CodecVector(
            name: "nested double-byte tokens",
            node: BinaryNode("iq", ["xmlns": "passive"], children: [BinaryNode("active")]),
            hex: "00f804 19 16 ec18 f801 f801 ec01"),
        CodecVector(
            name: "bytes content", node: BinaryNode("ref", bytes: Array("2@abc".utf8)), hex: "00f802ed50fc053240616263"),
        CodecVector(
            name: "nibble", node: BinaryNode("count", ["value": "1234567890"]), hex: "00f803416cff051234567890"),
        CodecVector(name: "odd nibble", node: BinaryNode("count", ["value": "1.5-3"]), hex: "00f803416cff831b5a3f"),
        CodecVector(name: "hex", node: BinaryNode("message", ["id": "3EB0ABCDEF"]), hex: "00f8031308fb053eb0abcdef"),
        CodecVector(name: "odd hex", node: BinaryNode("message", ["id": "ABC"]), hex: "00f8031308fb82abcf"),
        CodecVector(
            name: "lowercase hex is raw", node: BinaryNode("message", ["id": "3eb0"]), hex: "00f8031308fc0433656230"),
        CodecVector(
            name: "raw UTF-8", node: BinaryNode("zz", ["k": "héllo"]), hex: "00f803fc027a7afc016bfc0668c3a96c6c6f"),
        iqTo(JID.whatsAppServer, "fa 00 03", name: "server JID"),
        iqTo(JID(user: "1234567890", server: "s.whatsapp.net"), "fa ff05 1234567890 03", name: "user JID"),
        iqTo(JID(user: "120363000000000000", server: "g.us"), "fa ff09 120363000000000000 1c", name: "group JID"),
        iqTo(JID(user: "1234567890", server: "s.whatsapp.net", device: 5), "f7 00 05 ff05 1234567890", name: "AD JID"),
        iqTo(
            JID(user: "123456789012345", server: "lid", device: 3), "f7 01 03 ff88 123456789012345f",
            name: "LID AD JID"),
        iqTo(JID(user: "123456789012345", server: "lid"), "fa ff88 123456789012345f 76", name: "LID JID"),
        iqTo(JID(user: "100001", server: "msgr", device: 2), "f6 ff03 100001 0002 cc", name: "FB JID"),
        iqTo(
            JID(user: "100001", server: "interop", device: 2, integrator: 7),
            "f5 ff03 100001 0002 0007 fc07 696e7465726f70", name: "interop JID"),
        CodecVector(
            name: "300-byte content (BINARY_20)",
            node: BinaryNode("enc", bytes: (0..<300).map { UInt8($0 % 251) }),
            hex: "00f8021dfd00012c" + TestHex.string((0..<300).map { UInt8($0 % 251) })),
        CodecVector(
            name: "256 children (LIST_16)",
            node: BinaryNode("list", children: Array(repeating: BinaryNode("item"), count: 256)),
            hex: "00f80271f90100" + String(repeating: "f8013f", count: 256)),
    ]

    static let all = section73 + pairing + section47

    private static func iqTo(_ jid: JID, _ encoded: String, name: String) -> CodecVector {
        CodecVector(name: name, node: BinaryNode("iq", ["to": .jid(jid)]), hex: "00f803 19 11 " + encoded)
    }
}
