import Foundation
import Reactor
import WAProtocol

/// Forwarding a stored message (reference 2.5, `POST …/messages/forward`), sent or received:
/// its content rebuilt from what the row and the auth state keep, marked as forwarded.
/// - text from the row's body;
/// - a poll from `metadata.poll`, with a secret of its own;
/// - media from its record (`media.<id>`): the same key, direct path, hashes and length, so the
///   blob WhatsApp already has is reused, as WhatsApp clients forward it (no upload);
/// - a location or contact card from `metadata.location` / `metadata.contact`.
extension MessageAction {
    /// WhatsApp counts how often a message was forwarded; a stored row does not keep the count it
    /// arrived with, so every forward from here is a first forward.
    static let forwardingScore: UInt32 = 1

    func forward(_ original: EngineMessage) async throws -> SentMessage {
        let id = try MessageCodec.newMessageID(ownUser: me.user)
        let copy = try await forwardedContent(original, id: id)
        let chat = NativeLink.neutral(recipient)
        let row = EngineMessage(
            id: id, chatID: chat, from: ownID, to: chat, body: original.body, type: original.type,
            timestamp: Int(Date().timeIntervalSince1970), fromMe: true, metadata: copy.metadata)
        // Kept before the copy goes out: a vote on a forwarded poll, or a forward of this forward,
        // finds its record.
        if !copy.records.isEmpty { try await ref.writeSignalRecords(copy.records) }
        try await sink.sent(sessionID: sessionID, message: row)
        let time: Int
        do {
            time = try await relay.send(copy.message, id: id, options: DirectRelay.Options(pollType: copy.pollType))
        } catch {
            try? await sink.acknowledged(sessionID: sessionID, chatID: chat, messageIDs: [id], ack: -1)
            throw error
        }
        if copy.hasMedia { await copyStoredMedia(from: original, to: id) }
        return SentMessage(messageID: id, timestamp: time)
    }

    /// What a forward sends and keeps.
    private struct ForwardedCopy {
        var message: Waproto_Message
        var metadata: JSONValue?
        var records: NativeSignal.Changes = [:]
        var pollType: String?
        var hasMedia = false
    }

    private func forwardedContent(_ original: EngineMessage, id: String) async throws -> ForwardedCopy {
        switch original.type {
        case "text":
            return ForwardedCopy(message: MessageCodec.forwardedText(original.body, score: Self.forwardingScore))
        case "poll":
            guard let poll = original.metadata?["poll"], let options = poll["options"]?.arrayValue?.compactMap(\.stringValue),
                options.count >= 2
            else { throw EngineError.notSupported("This poll's options are not stored, so it cannot be forwarded") }
            let multiple = poll["allowMultipleAnswers"] != .bool(false)
            let secret = try Crypto.randomBytes(32)
            let record = PollRecord(secret: secret, sender: JID(user: me.user, server: me.server).description, options: options)
            return ForwardedCopy(
                message: MessageCodec.forwardedPoll(
                    name: original.body, options: options, selectable: multiple ? 0 : 1, secret: secret, score: Self.forwardingScore),
                metadata: PollRecord.metadata(name: original.body, options: options, allowMultipleAnswers: multiple),
                records: [PollRecord.key(id): record.serialized], pollType: "creation")
        case "image", "video", "audio", "voice", "document", "sticker":
            guard let record = try await ref.readRecord(NativeMediaTransfer.recordKey(original.id)),
                let attachment = NativeMediaTransfer.attachment(record: record),
                let message = MessageCodec.forwarded(MessageCodec.media(attachment), score: Self.forwardingScore)
            else { throw EngineError.notSupported("This message's media keys are not stored, so it cannot be forwarded") }
            return ForwardedCopy(
                message: message, metadata: NativeMediaTransfer.metadata(attachment),
                records: [NativeMediaTransfer.recordKey(id): record], hasMedia: true)
        case "location", "contact":
            guard let rebuilt = CardMetadata.message(type: original.type, metadata: original.metadata),
                let message = MessageCodec.forwarded(rebuilt, score: Self.forwardingScore)
            else { throw EngineError.notSupported("This \(original.type) message's content is not stored, so it cannot be forwarded") }
            return ForwardedCopy(message: message, metadata: CardMetadata.of(message))
        case "revoked":
            throw EngineError.invalid("A deleted message cannot be forwarded")
        default:
            throw EngineError.notSupported("The native engine cannot forward \(original.type) messages yet")
        }
    }

    /// The forward's row points at its own copy of the original's stored bytes, written in a task
    /// of its own (the forward already went out). Without stored bytes, or when the copy fails,
    /// the media route fetches the blob through the record when asked.
    private func copyStoredMedia(from original: EngineMessage, to id: String) async {
        guard let transfer: NativeMediaTransfer = try? await ref.withLink({ link, continuation in
            continuation.resume(returning: link.configuration.media)
        }), let archive = transfer.archive
        else { return }
        let sessionID = sessionID
        Task {
            guard let row = try? await archive.row(sessionID: sessionID, messageID: original.id),
                let stored = try? await archive.read(row)
            else { return }
            do {
                try await archive.save(sessionID: sessionID, messageID: id, mimetype: stored.mimetype, bytes: stored.bytes)
            } catch {
                let reason = "forwarded media not stored: \(NativeMediaTransfer.reason(error))"
                await archive.failed(sessionID: sessionID, messageID: id, reason: reason)
            }
        }
    }
}
