import Foundation
import Logging
import Reactor
import WAProtocol

/// A retry receipt for something we sent (reference part 2, 2.6): the device could not decrypt
/// it, so the message goes again to that device only, under the same id. The content comes from
/// a small cache of recent sends (what whatsmeow keeps too); after the first retry, or when we
/// have no session with the device, a fresh bundle starts a new session. A group message goes
/// pairwise too, with our sender key, as whatsmeow and Baileys answer a member's retry.
extension NativeLink {
    /// How many recent sends are kept for retries.
    static let recentSendLimit = 256
    /// A device asking more often than this gets nothing more.
    static let maxRetries = 5

    /// Keeps `content` for retries of `id` (the oldest goes past the limit).
    func rememberSent(id: String, content: Waproto_Message, chat: JID) {
        if recentSends[id] == nil { recentSendOrder.append(id) }
        recentSends[id] = (content, chat)
        if recentSendOrder.count > Self.recentSendLimit { recentSends[recentSendOrder.removeFirst()] = nil }
    }

    /// Serves a retry receipt: a device (`from`, or for a group `participant`) asks for one of
    /// our recent sends again.
    func handleRetryReceipt(_ node: BinaryNode) {
        guard let id = node.attributes.string("id"), let from = node.attributes.jid("from"), let me = credentials?.me else { return }
        let group = from.server == JID.Server.group ? from.bare : nil
        let count = node.child("retry")?.attributes.string("count").flatMap(Int.init) ?? 1
        guard let device = group == nil ? from : node.attributes.jid("participant"), let sent = recentSends[id],
            group.map({ sent.chat.bare == $0 }) ?? (sent.chat.server != JID.Server.group), count < Self.maxRetries
        else {
            return logger.info("retry receipt not served", metadata: ["message.id": "\(id)", "retry.count": "\(count)"])
        }
        let ref = LinkRef(self)
        let address = NativeSignal.address(of: device)
        let fresh = count >= 2 || signalCache.lookup(NativeSignal.Key.session(address)) == .some(nil)
        // In a group the device may lack our chain: it comes along, and the content goes
        // pairwise. Our own devices get a direct message as the device-sent copy.
        let ownCopy = group == nil && device.user == me.user
        let content = Unchecked(ownCopy ? MessageCodec.deviceSent(sent.content, destination: sent.chat.description) : sent.content)
        let logger = logger
        Task {
            do {
                if fresh { try await ref.writeSignalRecords([NativeSignal.Key.session(address): nil]) }
                var message = content.value
                if let group, let distribution = try await ref.redistribution(group: group, to: device) {
                    message.senderKeyDistributionMessage = distribution
                }
                let stanza = try await ref.resendStanza(message, id: id, to: from, device: device, group: group, count: count)
                _ = try await ref.sendMessageStanza(stanza, id: id)
            } catch {
                logger.warning("message not sent again", metadata: ["message.id": "\(id)", "error": "\(error)"])
            }
        }
    }
}

extension LinkRef {
    /// `content` encrypted for `device` alone, as the answer to its retry receipt: to the device
    /// itself, or to the group naming it as `participant`.
    func resendStanza(_ content: Waproto_Message, id: String, to chat: JID, device: JID, group: JID?, count: Int) async throws
        -> BinaryNode
    {
        let padded = try MessageCodec.padded(content)
        let encrypted = try await encrypt([(address: NativeSignal.address(of: device), padded: padded)], devices: [device])
        guard let (_, message) = encrypted.first else { throw EngineError.unavailable("no session with \(device) could be made") }
        let enc: NodeAttributes = ["v": "2", "type": .string(message.encType), "count": .string(String(count))]
        var children = [BinaryNode("enc", enc, bytes: message.serialized)]
        if message.encType == "pkmsg", let identity = try await signedIdentity() {
            children.append(BinaryNode("device-identity", bytes: identity))
        }
        var attributes: NodeAttributes = ["id": .string(id), "to": .jid(chat), "type": .string(MessageCodec.stanzaType(of: content))]
        if group == nil { attributes.append("device_fanout", "false") } else { attributes.append("participant", .jid(device)) }
        return BinaryNode("message", attributes, children: children)
    }

    /// Our chain for `group` to hand to `device` again (`NativeSignal.redistribution`), as one Signal job.
    func redistribution(group: JID, to device: JID) async throws -> Waproto_SenderKeyDistributionMessage? {
        try await withLink { link, continuation in
            link.enqueueSignalJob { link, done in
                guard let signal = link.signalContext(), let me = link.credentials?.me else {
                    done()
                    return continuation.resume(throwing: EngineError.unavailable("the device is not paired"))
                }
                link.runAsync({ Unchecked(try await signal.redistribution(group: group, to: device, me: me)) }) { _, result in
                    done()
                    continuation.resume(with: result.map(\.value))
                }
            }
        }
    }

    /// Keeps a send's content on the link for retry receipts.
    func rememberSent(id: String, content: Waproto_Message, chat: JID) async throws {
        let content = Unchecked(content)
        try await withLink { (link, continuation: CheckedContinuation<Void, any Error>) in
            link.rememberSent(id: id, content: content.value, chat: chat)
            continuation.resume()
        }
    }
}
