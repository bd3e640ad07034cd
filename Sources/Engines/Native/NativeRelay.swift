import Foundation
import Reactor
import WAProtocol

/// Puts one ready-made `waE2E.Message` into a person's chat (reference part 2, 2.2-2.4): the
/// recipient's and our other devices by usync, one encryption per device (ours get the
/// device-sent copy), the stanza with the attributes the content asks for, then the server's ack.
/// Message actions (revoke, edit, poll vote, forward) build their content themselves and go
/// out through here.
struct DirectRelay: Sendable {
    let link: LinkRef
    let me: JID
    let recipient: JID

    /// What the stanza carries besides the encrypted parts.
    struct Options: Sendable {
        /// The `edit` attribute (`1` edit, `7` sender revoke).
        var edit: String?
        /// `<meta polltype=…/>` for poll creations and votes.
        var pollType: String?

        init(edit: String? = nil, pollType: String? = nil) {
            self.edit = edit
            self.pollType = pollType
        }
    }

    /// Sends `content` as message `id`; returns the server's time for it (Unix seconds).
    func send(_ content: Waproto_Message, id: String, options: Options = Options()) async throws -> Int {
        try await link.rememberSent(id: id, content: content, chat: recipient)
        if recipient.server == JID.Server.group { return try await sendToGroup(content, id: id, options: options) }
        let ack = try await link.sendMessageStanza(try await stanza(content, id: id, options: options), id: id)
        if let error = ack.attributes.string("error") {
            throw EngineError.unavailable("WhatsApp refused the message (error \(error))")
        }
        return ack.attributes.string("t").flatMap(Int.init) ?? Int(Date().timeIntervalSince1970)
    }

    /// The `message` stanza: the recipient's and our other devices by usync, one encryption per
    /// device (ours get the device-sent copy), and the attributes the content asks for.
    func stanza(_ content: Waproto_Message, id: String, options: Options = Options()) async throws -> BinaryNode {
        let devices = try await link.devices(of: [recipient, JID(user: me.user, server: me.server)])
        let targets = devices.filter { !($0.user == me.user && $0.device == me.device) }
        let padded = try MessageCodec.padded(content)
        let copy = try MessageCodec.padded(MessageCodec.deviceSent(content, destination: recipient.description))
        let plaintexts = targets.map { device in
            (address: NativeSignal.address(of: device), padded: device.user == me.user ? copy : padded)
        }
        let encrypted = try await link.encrypt(plaintexts, devices: targets)
        guard !encrypted.isEmpty else { throw EngineError.unavailable("no device of \(NativeLink.neutral(recipient)) could be reached") }
        // Edits, revokes and votes are not worth a "waiting for this message" placeholder.
        let hide = options.edit != nil || options.pollType == "vote"
        let mediaType = MessageCodec.mediaType(of: content)
        var children = [
            BinaryNode(
                "participants",
                children: encrypted.map { device, message in
                    var attributes: NodeAttributes = ["v": "2", "type": .string(message.encType)]
                    if let mediaType { attributes.append("mediatype", .string(mediaType)) }
                    if hide { attributes.append("decrypt-fail", "hide") }
                    return BinaryNode("to", ["jid": .jid(device)], children: [BinaryNode("enc", attributes, bytes: message.serialized)])
                })
        ]
        if encrypted.contains(where: { $0.1.encType == "pkmsg" }), let identity = try await link.signedIdentity() {
            children.append(BinaryNode("device-identity", bytes: identity))
        }
        if let pollType = options.pollType { children.append(BinaryNode("meta", ["polltype": .string(pollType)])) }
        var attributes: NodeAttributes = [
            "id": .string(id), "to": .jid(recipient), "type": .string(MessageCodec.stanzaType(of: content)),
        ]
        if let edit = options.edit { attributes.append("edit", .string(edit)) }
        return BinaryNode("message", attributes, children: children)
    }

    /// A group gets one `skmsg` for every member device (`LinkRef.groupStanza`).
    private func sendToGroup(_ content: Waproto_Message, id: String, options: Options) async throws -> Int {
        var extra = NodeAttributes()
        if let edit = options.edit { extra.append("edit", .string(edit)) }
        let stanza = try await link.groupStanza(
            content, id: id, group: recipient, me: me, attributes: extra,
            meta: options.pollType.map { BinaryNode("meta", ["polltype": .string($0)]) })
        let ack = try await link.sendMessageStanza(stanza, id: id)
        if let error = ack.attributes.string("error") {
            throw EngineError.unavailable("WhatsApp refused the message (error \(error))")
        }
        return ack.attributes.string("t").flatMap(Int.init) ?? Int(Date().timeIntervalSince1970)
    }
}
