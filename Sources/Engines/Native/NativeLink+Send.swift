import Foundation
import Logging
import Persistence
import Reactor
import WAProtocol

/// Sending (reference part 2, sections 1.5, 1.11, 1.12, 2.1-2.4): the recipient's and our own
/// devices by usync, bundles for devices without a session, one encryption per device (our other
/// devices get the device-sent copy), the stanza, then the server's ack.
extension NativeLink {
    /// How long a device list is trusted before it is asked for again.
    static let deviceListMilliseconds = 60_000

    /// The job that sends `outgoing`, checked against the link's state; it runs off the
    /// reactor's own stack (`NativeEngine.send` awaits it in the caller's task).
    func sendJob(for outgoing: OutgoingMessage) throws -> SendJob {
        guard phase == .ready, let me = credentials?.me, signalContext() != nil else {
            throw EngineError.invalid("Session is not ready")
        }
        return SendJob(
            link: LinkRef(self), sink: messages, sessionID: sessionID, me: me, recipient: try Self.recipient(of: outgoing.chatID),
            outgoing: outgoing)
    }

    /// `<number>@c.us` / `@s.whatsapp.net`, `<lid>@lid` and `<id>@g.us` as wire JIDs.
    static func recipient(of chatID: String) throws -> JID {
        guard let at = chatID.firstIndex(of: "@") else { throw EngineError.invalid("chatId must be a WhatsApp id") }
        let user = String(chatID[..<at])
        let server = String(chatID[chatID.index(after: at)...])
        guard !user.isEmpty, !user.utf8.contains(UInt8(ascii: ":")) else { throw EngineError.invalid("chatId must be a WhatsApp id") }
        switch server {
        case JID.Server.legacyUser, JID.Server.user:
            guard user.allSatisfy({ $0.isASCII && $0.isNumber }) else { throw EngineError.invalid("chatId must be a phone number id") }
            return JID(user: user, server: JID.Server.user)
        case JID.Server.lid, JID.Server.group:
            return JID(user: user, server: server)
        default:
            throw EngineError.notSupported("The native engine cannot send to \(server) chats yet")
        }
    }

    /// The server ack of a `message` stanza carries the message's own id.
    func handleMessageAck(_ node: BinaryNode) {
        guard node.attributes.string("class") == "message", let id = node.attributes.string("id"),
            let entry = pendingAcks.removeValue(forKey: id)
        else { return }
        reactor.cancel(entry.timer)
        let chat = node.attributes.jid("from").map { Self.neutral($0.bare) }
        enqueueStatusUpdate(chat: chat, ids: [id], ack: node.attributes.string("error") == nil ? 1 : -1)
        entry.callback(.success(node))
    }
}

/// One text send, from device lists to the stored row; runs off the reactor.
struct SendJob: Sendable {
    let link: LinkRef
    let sink: any MessageSink
    let sessionID: String
    let me: JID
    let recipient: JID
    let outgoing: OutgoingMessage

    func run() async throws -> SentMessage {
        let built = try await NativeContent.build(outgoing, sink: sink, sessionID: sessionID, me: me, recipient: recipient, link: link)
        let id = try MessageCodec.newMessageID(ownUser: me.user)
        let stanza = try await DirectRelay(link: link, me: me, recipient: recipient).stanza(
            built.message, id: id, options: DirectRelay.Options(pollType: built.poll != nil ? "creation" : nil))
        return try await deliver(stanza, id: id, built: built)
    }

    /// Stores our row (`pending`) and the poll's or media's record, sends the stanza and waits
    /// for the server's ack, which makes the row `sent` (or `failed`); acked media goes to media
    /// storage (`NativeMedia+Sent.swift`).
    func deliver(_ stanza: BinaryNode, id: String, built: NativeContent) async throws -> SentMessage {
        let ownChat = NativeLink.neutral(JID(user: me.user, server: me.server))
        let isGroup = recipient.server == JID.Server.group
        let stored = EngineMessage(
            id: id, chatID: NativeLink.neutral(recipient), from: ownChat, to: NativeLink.neutral(recipient),
            body: built.stored?.body ?? "", type: built.stored?.type ?? "reaction", timestamp: Int(Date().timeIntervalSince1970),
            fromMe: true, metadata: built.metadata, author: isGroup ? ownChat : nil)
        // Kept before the message goes out, so no vote can arrive for an unknown poll, and a
        // forward or download of our media finds its record.
        var records = NativeMediaTransfer.records(of: built.media, messageID: id)
        if let poll = built.poll {
            let record = PollRecord(secret: poll.secret, sender: JID(user: me.user, server: me.server).description, options: poll.options)
            records[PollRecord.key(id)] = record.serialized
        }
        if !records.isEmpty { try await link.writeSignalRecords(records) }
        try await link.rememberSent(id: id, content: built.message, chat: recipient)
        let mediaStorage = built.media.flatMap { $0.transfer.reserveSent($0, sessionID: sessionID, messageID: id) }
        let ack: BinaryNode
        do {
            // A reaction is not a message of its own: nothing to store or track.
            if built.stored != nil { try await sink.sent(sessionID: sessionID, message: stored) }
            do {
                ack = try await link.sendMessageStanza(stanza, id: id)
            } catch {
                try? await sink.acknowledged(sessionID: sessionID, chatID: stored.chatID, messageIDs: [id], ack: -1)
                throw error
            }
            if let error = ack.attributes.string("error") {
                throw EngineError.unavailable("WhatsApp refused the message (error \(error))")
            }
        } catch {
            mediaStorage?.settle(acked: false)
            throw error
        }
        mediaStorage?.settle(acked: true)
        if built.stored == nil, built.message.hasReactionMessage {
            let reaction = built.message.reactionMessage
            try? await sink.recordOwnReaction(
                sessionID: sessionID, messageID: reaction.key.id, sender: ownChat, emoji: reaction.text,
                timestamp: ack.attributes.string("t").flatMap(Int.init) ?? stored.timestamp)
        }
        // The stored row's time, so the send's answer, the row and an edit's answer (the
        // original send time) agree even when the server's ack lands in the next second.
        return SentMessage(messageID: id, timestamp: stored.timestamp)
    }
}
