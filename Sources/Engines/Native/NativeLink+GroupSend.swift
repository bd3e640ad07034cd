import Foundation
import Reactor
import WAProtocol

/// Sending to a group (reference part 2, 1.9, 1.12, 2.3, 6.3): the members from the group's
/// metadata, every member device by usync, one `skmsg` under our chain for all of them, and our
/// chain pairwise to the devices that do not hold it yet.
extension SendJob {
    func runInGroup() async throws -> SentMessage {
        let built = try await NativeContent.build(outgoing, sink: sink, sessionID: sessionID, me: me, recipient: recipient, link: link)
        let id = try MessageCodec.newMessageID(ownUser: me.user)
        let stanza = try await link.groupStanza(
            built.message, id: id, group: recipient, me: me,
            meta: built.poll != nil ? BinaryNode("meta", ["polltype": "creation"]) : nil)
        return try await deliver(stanza, id: id, built: built)
    }

    /// `2:` and the first six bytes of SHA-256 over the sorted `user.agent:device@server`
    /// strings, base64 without padding (section 1.11): the device set we resolved, for the
    /// server to compare with its own.
    static func participantHash(_ devices: [JID]) -> String {
        let names = devices.map { "\($0.user).\($0.agent):\($0.device)@\($0.server)" }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let digest = Crypto.sha256(Array(names.joined().utf8))
        let encoded = Data(digest.prefix(6)).base64EncodedString()
        return "2:" + encoded.trimmingCharacters(in: CharacterSet(charactersIn: "="))
    }
}

extension LinkRef {
    /// The `message` stanza that puts `content` into a group: the group's members from its
    /// metadata, their devices, our `skmsg`, and our chain pairwise to devices that lack it.
    /// Refused (403) when we are not a member, or not an admin of an admins-only group.
    func groupStanza(
        _ content: Waproto_Message, id: String, group: JID, me: JID, attributes extra: NodeAttributes = [:], meta: BinaryNode? = nil
    ) async throws -> BinaryNode {
        let info: GroupInfo
        do {
            info = try await groupInfo(group)
        } catch let error as EngineError where error.kind == .notFound || error.kind == .forbidden {
            throw EngineError.notFound("Group \(NativeLink.neutral(group)) not found")
        }
        let ownUser = JID(user: me.user, server: me.server)
        guard let own = info.participants.first(where: { $0.id == NativeLink.neutral(ownUser) }) else {
            throw EngineError.forbidden("This account is not a participant of \(info.id)")
        }
        if info.announce, !own.isAdmin { throw EngineError.forbidden("Only admins can send messages to \(info.id)") }
        let members = try info.participants.map { try NativeLink.recipient(of: $0.id) }.filter { $0.user != me.user }
        // Our own user first: it always has devices, so a member without any does not fail the send.
        let devices = try await self.devices(of: [ownUser] + members)
        let targets = devices.filter { !($0.user == me.user && $0.device == me.device) }
        let encrypted = try await groupEncrypt(group: group, padded: try MessageCodec.padded(content), devices: targets)
        var children: [BinaryNode] = []
        if !encrypted.distribution.isEmpty {
            children.append(
                BinaryNode(
                    "participants",
                    children: encrypted.distribution.map { device, message in
                        BinaryNode(
                            "to", ["jid": .jid(device)],
                            children: [BinaryNode("enc", ["v": "2", "type": .string(message.encType)], bytes: message.serialized)])
                    }))
        }
        var skmsg: NodeAttributes = ["v": "2", "type": "skmsg"]
        // As whatsmeow does: on a group's shared part only.
        if let mediaType = MessageCodec.mediaType(of: content) { skmsg.append("mediatype", .string(mediaType)) }
        children.append(BinaryNode("enc", skmsg, bytes: encrypted.skmsg))
        if encrypted.distribution.contains(where: { $0.1.encType == "pkmsg" }), let identity = try await signedIdentity() {
            children.append(BinaryNode("device-identity", bytes: identity))
        }
        if let meta { children.append(meta) }
        var attributes: NodeAttributes = [
            "id": .string(id), "to": .jid(group), "type": .string(MessageCodec.stanzaType(of: content)),
            "phash": .string(SendJob.participantHash(devices)),
        ]
        for element in extra { attributes.append(element.key, element.value) }
        return BinaryNode("message", attributes, children: children)
    }

    /// Our `skmsg` of `padded` and the pairwise chain hand-outs, as one Signal job of the session.
    func groupEncrypt(group: JID, padded: [UInt8], devices: [JID]) async throws -> (skmsg: [UInt8], distribution: [(JID, CiphertextMessage)]) {
        let ref = self
        let devices = Unchecked(devices)
        return try await withLink { link, continuation in
            link.enqueueSignalJob { link, done in
                guard let signal = link.signalContext(), let me = link.credentials?.me else {
                    done()
                    return continuation.resume(throwing: EngineError.unavailable("the device is not paired"))
                }
                link.runAsync({
                    let result = try await signal.groupEncrypt(
                        group: group, me: me, padded: padded, devices: devices.value, bundles: { try await ref.bundles(for: $0) })
                    return Unchecked(result)
                }) { _, result in
                    done()
                    continuation.resume(with: result.map(\.value))
                }
            }
        }
    }
}
