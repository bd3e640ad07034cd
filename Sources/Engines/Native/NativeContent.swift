import Foundation
import Reactor
import WAProtocol

/// The `waE2E.Message` for an `OutgoingMessage`, and how it is stored (reference part 2, 4.3).
struct NativeContent: Sendable {
    let message: Waproto_Message
    /// OpenWA's type and body for the stored row; nil for a reaction, which is not a message of
    /// its own.
    let stored: (type: String, body: String)?
    /// The stored row's `metadata` (a poll's name, options and votes; media; a location or card).
    var metadata: JSONValue?
    /// A poll's secret and options, kept so the votes can be opened.
    var poll: (secret: [UInt8], options: [String])?
    /// A media send's uploaded blob and its plaintext: the blob's record is kept (for forwards
    /// and on-demand downloads) and the plaintext goes to media storage once the send is acked.
    var media: NativeMediaTransfer.SentMedia?

    /// Builds the content; replies and reactions look their target up in the stored messages.
    static func build(
        _ outgoing: OutgoingMessage, sink: any MessageSink, sessionID: String, me: JID, recipient: JID, link: LinkRef
    ) async throws -> NativeContent {
        var quote: MessageCodec.Quote?
        if let quotedID = outgoing.quotedMessageID {
            guard let original = try await sink.stored(sessionID: sessionID, messageID: quotedID),
                original.chatID == NativeLink.neutral(recipient)
            else { throw EngineError.notFound("Quoted message \(quotedID) not found in this chat") }
            // In a group the quoted message's author is the member who sent it, not the chat.
            let author = original.fromMe ? JID(user: me.user, server: me.server) : Self.author(of: original) ?? recipient
            quote = MessageCodec.Quote(id: quotedID, participant: author.description, message: MessageCodec.text(original.body))
        }
        switch outgoing.content {
        case .text(let text):
            let mentions = try outgoing.mentions.map { try NativeLink.recipient(of: $0).description }
            let preview = outgoing.linkPreview.map {
                MessageCodec.LinkPreview(matchedText: $0.url, title: $0.title, description: $0.description, jpegThumbnail: $0.jpegThumbnail)
            }
            return NativeContent(
                message: MessageCodec.text(text, quote: quote, mentions: mentions, preview: preview), stored: ("text", text))
        case .location(let latitude, let longitude, let description, let address):
            var content = NativeContent(
                message: MessageCodec.location(
                    latitude: latitude, longitude: longitude, name: description, address: address, quote: quote),
                stored: ("location", description ?? ""))
            content.metadata = CardMetadata.location(latitude: latitude, longitude: longitude, description: description, address: address)
            return content
        case .contact(let name, let number):
            var content = NativeContent(message: MessageCodec.contact(name: name, number: number, quote: quote), stored: ("contact", name))
            content.metadata = CardMetadata.contact(displayName: name, vcard: MessageCodec.vCard(name: name, number: number))
            return content
        case .reaction(let messageID, let emoji):
            guard let original = try await sink.stored(sessionID: sessionID, messageID: messageID),
                original.chatID == NativeLink.neutral(recipient)
            else { throw EngineError.notFound("Message \(messageID) not found in this chat") }
            return NativeContent(
                message: MessageCodec.reaction(
                    to: messageID, chat: recipient.description, fromMe: original.fromMe,
                    participant: original.fromMe ? nil : Self.author(of: original)?.description, emoji: emoji),
                stored: nil)
        case .poll(let name, let options, let allowMultiple):
            let secret = try Crypto.randomBytes(32)
            var content = NativeContent(
                message: MessageCodec.poll(name: name, options: options, selectable: allowMultiple ? 0 : 1, secret: secret),
                stored: ("poll", name))
            content.metadata = PollRecord.metadata(name: name, options: options, allowMultipleAnswers: allowMultiple)
            content.poll = (secret, options)
            return content
        case .media(let media):
            let mentions = try outgoing.mentions.map { try NativeLink.recipient(of: $0).description }
            return try await NativeMediaTransfer.content(media, quote: quote, mentions: mentions, sessionID: sessionID, link: link)
        }
    }

    /// The sender of a stored group message as a wire JID (nil outside groups).
    static func author(of message: EngineMessage) -> JID? {
        message.author.flatMap { try? NativeLink.recipient(of: $0) }
    }
}
