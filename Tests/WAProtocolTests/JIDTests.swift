import Testing
import WAProtocol

/// JID string forms (whatsmeow's, plus Baileys' interop prefix) and typed attribute access.
@Suite struct JIDTests {
    @Test(
        arguments: [
            ("s.whatsapp.net", JID(server: "s.whatsapp.net")),
            ("1234567890@s.whatsapp.net", JID(user: "1234567890", server: "s.whatsapp.net")),
            ("1234567890:5@s.whatsapp.net", JID(user: "1234567890", server: "s.whatsapp.net", device: 5)),
            ("123456789012345:7@lid", JID(user: "123456789012345", server: "lid", device: 7)),
            ("120363000000000000@g.us", JID(user: "120363000000000000", server: "g.us")),
            ("status@broadcast", JID(user: "status", server: "broadcast")),
            ("1234.2:0@s.whatsapp.net", JID(user: "1234", server: "s.whatsapp.net", agent: 2)),
            ("1234.2:9@s.whatsapp.net", JID(user: "1234", server: "s.whatsapp.net", device: 9, agent: 2)),
            ("100001:2@msgr", JID(user: "100001", server: "msgr", device: 2)),
            ("7-100001:2@interop", JID(user: "100001", server: "interop", device: 2, integrator: 7)),
            ("100001:2@interop", JID(user: "100001", server: "interop", device: 2)),
            ("5@hosted", JID(user: "5", server: "hosted")),
        ])
    func stringFormRoundTrips(text: String, jid: JID) throws {
        #expect(try JID(parsing: text) == jid)
        #expect(jid.description == text)
    }

    @Test(arguments: ["", "a@", "1:x@s.whatsapp.net", "1:70000@msgr", "1.300@s.whatsapp.net", "x-1@interop", "a.b@c"])
    func malformedStringsAreRefused(text: String) {
        #expect(throws: ProtocolError.self) { try JID(parsing: text) }
    }

    /// Users holding separators print in a form that parses back to the same JID.
    @Test(
        arguments: [
            JID(user: "a.b", server: "s.whatsapp.net"), JID(user: "a:b", server: "g.us", device: 3),
            JID(user: "a@b", server: "lid"), JID(user: "1-2", server: "interop"),
            JID(user: "", server: "interop", integrator: 4),
            JID(user: "x.1", server: "interop", agent: 2, integrator: 1),
            JID(user: "", server: "s.whatsapp.net", device: 1),
        ])
    func separatorsInUsersSurviveTheStringForm(jid: JID) throws {
        #expect(try JID(parsing: jid.description) == jid, "\(jid.description)")
    }

    @Test func bareDropsAgentAndDevice() {
        let jid = JID(user: "1", server: "s.whatsapp.net", device: 3, agent: 2)
        #expect(jid.bare == JID(user: "1", server: "s.whatsapp.net"))
        #expect(JID.whatsAppServer.isServer)
        #expect(!jid.isServer)
    }

    @Test func attributesKeepOrderAndTypes() {
        var attributes: NodeAttributes = ["to": .jid(.whatsAppServer), "type": "get"]
        attributes["id"] = "1"
        attributes["type"] = "set"
        attributes.append("id", "2")
        #expect(attributes.map(\.key) == ["to", "type", "id", "id"])
        #expect(attributes.string("type") == "set")
        #expect(attributes.string("id") == "1")
        #expect(attributes.string("to") == "s.whatsapp.net")
        #expect(attributes.jid("to") == .whatsAppServer)
        #expect(attributes.jid("type") == nil)
        attributes["id"] = nil
        #expect(attributes.map(\.key) == ["to", "type"])
    }
}
