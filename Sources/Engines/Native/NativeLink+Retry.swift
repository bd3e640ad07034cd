import Foundation
import Logging
import Reactor
import WAProtocol

/// A retry receipt for something we sent (reference part 2, 2.6): the device could not decrypt
/// it, so the message goes again to that device only, under the same id. The content comes from
/// a small cache of recent sends (what whatsmeow keeps too); after the first retry, or when we
/// have no session with the device, a fresh bundle starts a new session.
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

    func handleRetryReceipt(_ node: BinaryNode) {
        guard let id = node.attributes.string("id"), let device = node.attributes.jid("from"), let me = credentials?.me else { return }
        let count = node.child("retry")?.attributes.string("count").flatMap(Int.init) ?? 1
        guard node.attributes.jid("participant") == nil, device.server != JID.Server.group else {
            // Group messages are not sent again yet: the member asks its phone instead.
            return logger.info("retry receipt for a group message not served", metadata: ["message.id": "\(id)"])
        }
        guard let sent = recentSends[id], count < Self.maxRetries else {
            return logger.info("retry receipt not served", metadata: ["message.id": "\(id)", "retry.count": "\(count)"])
        }
        let ref = LinkRef(self)
        let address = NativeSignal.address(of: device)
        let fresh = count >= 2 || signalCache.lookup(NativeSignal.Key.session(address)) == .some(nil)
        let content = Unchecked(device.user == me.user ? MessageCodec.deviceSent(sent.content, destination: sent.chat.description) : sent.content)
        let logger = logger
        Task {
            do {
                if fresh { try await ref.writeSignalRecords([NativeSignal.Key.session(address): nil]) }
                let padded = try MessageCodec.padded(content.value)
                let encrypted = try await ref.encrypt([(address: address, padded: padded)], devices: [device])
                guard let (_, message) = encrypted.first else { throw EngineError.unavailable("no session with \(device) could be made") }
                var children = [
                    BinaryNode("enc", ["v": "2", "type": .string(message.encType), "count": .string(String(count))], bytes: message.serialized)
                ]
                if message.encType == "pkmsg", let identity = try await ref.signedIdentity() {
                    children.append(BinaryNode("device-identity", bytes: identity))
                }
                let stanza = BinaryNode(
                    "message",
                    [
                        "id": .string(id), "to": .jid(device), "type": .string(MessageCodec.stanzaType(of: content.value)),
                        "device_fanout": "false",
                    ],
                    children: children)
                _ = try await ref.sendMessageStanza(stanza, id: id)
            } catch {
                logger.warning("message not sent again", metadata: ["message.id": "\(id)", "error": "\(error)"])
            }
        }
    }
}

extension LinkRef {
    /// Keeps a send's content on the link for retry receipts.
    func rememberSent(id: String, content: Waproto_Message, chat: JID) async throws {
        let content = Unchecked(content)
        try await withLink { (link, continuation: CheckedContinuation<Void, any Error>) in
            link.rememberSent(id: id, content: content.value, chat: chat)
            continuation.resume()
        }
    }
}
