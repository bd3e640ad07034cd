import Foundation
import Reactor
import WAProtocol

/// Message actions on the native engine (reference 2.5; protocol part 2, 4.3-4.4): forward,
/// delete (revoke), edit, poll votes and pins. The stored rows are the source of truth for what a
/// message was; each action goes out through `DirectRelay` and then changes the stored rows
/// with the same events an inbound change makes.
extension NativeEngine {
    package func forward(fromChatID: String, toChatID: String, messageID: String) async throws -> SentMessage {
        let action = try await actionContext(chatID: toChatID)
        let original = try await action.stored(messageID, in: fromChatID)
        return try await action.forward(original)
    }

    package func deleteMessage(chatID: String, messageID: String, forEveryone: Bool) async throws {
        let action = try await actionContext(chatID: chatID)
        let original = try await action.stored(messageID, in: chatID)
        guard forEveryone else {
            return try await action.apply(.deleteForMe, to: original, changeID: messageID, timestamp: Int(Date().timeIntervalSince1970))
        }
        // A group admin may delete a member's message for everyone (WhatsApp's admin revoke).
        let memberSender = original.fromMe ? nil : try await adminRevocableSender(of: original, action: action)
        guard original.fromMe || memberSender != nil else {
            throw EngineError.forbidden("Only your own messages can be deleted for everyone")
        }
        guard original.type != "revoked" else { return }
        let id = try MessageCodec.newMessageID(ownUser: action.me.user)
        let time = try await action.relay.send(
            MessageCodec.revoke(id: messageID, chat: action.recipient.description, sender: memberSender?.description), id: id,
            options: DirectRelay.Options(edit: memberSender == nil ? MessageCodec.senderRevokeAttribute : MessageCodec.adminRevokeAttribute))
        try await action.apply(.revoke, to: original, changeID: id, timestamp: time)
    }

    package func editMessage(chatID: String, messageID: String, body: String, mentions: [String]) async throws -> SentMessage {
        let action = try await actionContext(chatID: chatID)
        let original = try await action.stored(messageID, in: chatID)
        guard original.fromMe else { throw EngineError.forbidden("Only your own messages can be edited") }
        guard original.type == "text" else { throw EngineError.invalid("Only text messages can be edited, not \(original.type)") }
        let wireMentions = try mentions.map { try NativeLink.recipient(of: $0).description }
        let content = MessageCodec.edit(
            id: messageID, chat: action.recipient.description, newContent: MessageCodec.text(body, quote: nil, mentions: wireMentions))
        let id = try MessageCodec.newMessageID(ownUser: action.me.user)
        let time = try await action.relay.send(content, id: id, options: DirectRelay.Options(edit: MessageCodec.editAttribute))
        try await action.apply(.edit(body: body), to: original, changeID: id, timestamp: time)
        return SentMessage(messageID: messageID, timestamp: original.timestamp)
    }

    package func votePoll(chatID: String, pollMessageID: String, options: [String]) async throws -> PollVoteOutcome {
        let action = try await actionContext(chatID: chatID)
        let poll = try await action.stored(pollMessageID, in: chatID)
        guard poll.type == "poll",
            let bytes = try await action.ref.readRecord(PollRecord.key(pollMessageID)), let record = PollRecord(serialized: bytes)
        else { throw EngineError.notFound("Poll \(pollMessageID) not found in this chat") }
        guard options.allSatisfy(record.options.contains) else { return .unknownOptions(validOptions: record.options) }
        // The poll's order, each once: what receivers show and what the stored row keeps.
        let chosen = record.options.filter(options.contains)
        if chosen.count > 1, poll.metadata?["poll"]?["allowMultipleAnswers"] == .bool(false) {
            throw EngineError.invalid("This poll allows only one answer")
        }
        let voter = JID(user: action.me.user, server: action.me.server).description
        let content = try MessageCodec.pollVote(
            pollID: pollMessageID, chat: action.recipient.description, pollFromMe: record.sender == voter, options: chosen,
            secret: record.secret, pollSender: record.sender, voter: voter)
        let id = try MessageCodec.newMessageID(ownUser: action.me.user)
        let time = try await action.relay.send(content, id: id, options: DirectRelay.Options(pollType: "vote"))
        try await action.apply(.pollVote(options: chosen), to: poll, changeID: id, timestamp: time)
        return .voted
    }

    /// A pin in chat (`edit="2"`): anyone in a direct chat, and in a group whoever may send there,
    /// may pin any of its messages; the row's `metadata.pinned` follows, as for a pin that arrives.
    package func pinMessage(chatID: String, messageID: String, pin: Bool, seconds: Int) async throws {
        let action = try await actionContext(chatID: chatID)
        let original = try await action.stored(messageID, in: chatID)
        guard original.type != "revoked" else { throw EngineError.invalid("A deleted message cannot be pinned") }
        let sender = original.fromMe ? nil : try original.author.map { try NativeLink.recipient(of: $0).description }
        let content = MessageCodec.pin(
            id: messageID, chat: action.recipient.description, fromMe: original.fromMe, sender: sender, pin: pin,
            seconds: UInt32(clamping: seconds))
        let id = try MessageCodec.newMessageID(ownUser: action.me.user)
        let time = try await action.relay.send(content, id: id, options: DirectRelay.Options(edit: MessageCodec.pinAttribute))
        try await action.apply(.pin(until: pin ? time + seconds : nil), to: original, changeID: id, timestamp: time)
    }

    /// The member whose message `original` is, when it was sent in a group where we are an admin;
    /// nil otherwise.
    private func adminRevocableSender(of original: EngineMessage, action: MessageAction) async throws -> JID? {
        guard action.recipient.server == JID.Server.group, let author = original.author,
            let sender = try? NativeLink.recipient(of: author)
        else { return nil }
        let info = try await group(original.chatID)
        let ownNumber = action.me.user
        return info.participants.contains { $0.number == ownNumber && ($0.isAdmin || $0.isSuperAdmin) } ? sender : nil
    }

    /// What every action needs, read once on the reactor: the link, our id, the chat's wire JID.
    func actionContext(chatID: String) async throws -> MessageAction {
        let recipient = try NativeLink.recipient(of: chatID)
        return try await reactor.submit { [link] reactor in
            let value = link.value
            value.attach(reactor)
            guard value.phase == .ready, let me = value.credentials?.me, value.signalContext() != nil else {
                throw EngineError.invalid("Session is not ready")
            }
            let ref = LinkRef(value)
            return MessageAction(
                ref: ref, relay: DirectRelay(link: ref, me: me, recipient: recipient), me: me, recipient: recipient,
                sink: value.messages, sessionID: value.sessionID)
        }
    }
}

/// One action's context, off the reactor.
struct MessageAction: Sendable {
    let ref: LinkRef
    let relay: DirectRelay
    let me: JID
    let recipient: JID
    let sink: any MessageSink
    let sessionID: String

    var ownID: String { NativeLink.neutral(JID(user: me.user, server: me.server)) }

    /// The stored message `id`, which must belong to `chatID`.
    func stored(_ id: String, in chatID: String) async throws -> EngineMessage {
        guard let message = try await sink.stored(sessionID: sessionID, messageID: id), message.chatID == chatID else {
            throw EngineError.notFound("Message \(id) not found in chat \(chatID)")
        }
        return message
    }

    /// Changes the stored row of `target` as an inbound change from us would, with its event.
    func apply(_ kind: MessageChange.Kind, to target: EngineMessage, changeID: String, timestamp: Int) async throws {
        try await sink.apply(
            sessionID: sessionID,
            change: MessageChange(
                kind: kind, id: changeID, targetID: target.id, chatID: target.chatID, senderID: ownID, from: ownID,
                to: target.chatID, fromMe: true, timestamp: timestamp))
    }
}

extension LinkRef {
    /// One record of the session's auth state, through the Signal cache, in the Signal queue
    /// (so it sees every write queued before it).
    func readRecord(_ key: String) async throws -> [UInt8]? {
        try await withLink { (link, continuation: CheckedContinuation<[UInt8]?, any Error>) in
            link.enqueueSignalJob { link, done in
                guard let signal = link.signalContext() else {
                    done()
                    return continuation.resume(throwing: EngineError.unavailable("the device is not paired"))
                }
                link.runAsync({ try await signal.load(key) }) { _, result in
                    done()
                    continuation.resume(with: result)
                }
            }
        }
    }
}
