import Foundation

/// Forwarded copies (reference part 2, 4.3): the content again, its `contextInfo` replaced by
/// `isForwarded` and `forwardingScore`. Media keeps the original's blob (key, direct path,
/// hashes, length), as WhatsApp clients forward it: nothing is uploaded again.
extension MessageCodec {
    /// Text marked as forwarded: always an `extendedTextMessage`, the form that carries a context.
    package static func forwardedText(_ text: String, score: UInt32) -> Waproto_Message {
        var extended = Waproto_ExtendedTextMessage()
        extended.text = text
        extended.contextInfo = forwardingContext(score: score)
        var message = Waproto_Message()
        message.extendedTextMessage = extended
        return message
    }

    /// A poll marked as forwarded; it gets a secret of its own, since votes are keyed per poll.
    package static func forwardedPoll(
        name: String, options: [String], selectable: UInt32, secret: [UInt8], score: UInt32
    ) -> Waproto_Message {
        var message = poll(name: name, options: options, selectable: selectable, secret: secret)
        message.pollCreationMessage.contextInfo = forwardingContext(score: score)
        return message
    }

    /// Media, a location or a contact card marked as forwarded. A forward quotes and mentions
    /// nothing, so the original's context is replaced whole. Nil for other content.
    package static func forwarded(_ message: Waproto_Message, score: UInt32) -> Waproto_Message? {
        var copy = Waproto_Message()
        let context = forwardingContext(score: score)
        if message.hasImageMessage {
            copy.imageMessage = message.imageMessage
            copy.imageMessage.contextInfo = context
        } else if message.hasVideoMessage {
            copy.videoMessage = message.videoMessage
            copy.videoMessage.contextInfo = context
        } else if message.hasAudioMessage {
            copy.audioMessage = message.audioMessage
            copy.audioMessage.contextInfo = context
        } else if message.hasDocumentMessage {
            copy.documentMessage = message.documentMessage
            copy.documentMessage.contextInfo = context
        } else if message.hasStickerMessage {
            copy.stickerMessage = message.stickerMessage
            copy.stickerMessage.contextInfo = context
        } else if message.hasLocationMessage {
            copy.locationMessage = message.locationMessage
            copy.locationMessage.contextInfo = context
        } else if message.hasContactMessage {
            copy.contactMessage = message.contactMessage
            copy.contactMessage.contextInfo = context
        } else if message.hasContactsArrayMessage {
            copy.contactsArrayMessage = message.contactsArrayMessage
            copy.contactsArrayMessage.contextInfo = context
        } else {
            return nil
        }
        return copy
    }

    /// A contact card as it was received: its display name and vCard, unchanged.
    package static func contactCard(displayName: String, vcard: String) -> Waproto_Message {
        var card = Waproto_ContactMessage()
        card.displayName = displayName
        card.vcard = vcard
        var message = Waproto_Message()
        message.contactMessage = card
        return message
    }

    /// Several contact cards in one message (`contactsArrayMessage`), named after the first.
    package static func contactCards(_ cards: [(displayName: String, vcard: String)]) -> Waproto_Message {
        var array = Waproto_ContactsArrayMessage()
        array.displayName = cards.count > 1 ? "\(cards.count) contacts" : cards.first?.displayName ?? ""
        array.contacts = cards.map { card in
            var contact = Waproto_ContactMessage()
            contact.displayName = card.displayName
            contact.vcard = card.vcard
            return contact
        }
        var message = Waproto_Message()
        message.contactsArrayMessage = array
        return message
    }

    /// Whether the content (inside a device-sent copy, if it is one) is marked as forwarded.
    package static func isForwarded(_ message: Waproto_Message) -> Bool {
        let content = message.hasDeviceSentMessage ? message.deviceSentMessage.message : message
        let contexts: [(has: Bool, context: Waproto_ContextInfo)] = [
            (content.hasExtendedTextMessage, content.extendedTextMessage.contextInfo),
            (content.hasPollCreationMessage, content.pollCreationMessage.contextInfo),
            (content.hasImageMessage, content.imageMessage.contextInfo),
            (content.hasVideoMessage, content.videoMessage.contextInfo),
            (content.hasAudioMessage, content.audioMessage.contextInfo),
            (content.hasDocumentMessage, content.documentMessage.contextInfo),
            (content.hasStickerMessage, content.stickerMessage.contextInfo),
            (content.hasLocationMessage, content.locationMessage.contextInfo),
            (content.hasContactMessage, content.contactMessage.contextInfo),
            (content.hasContactsArrayMessage, content.contactsArrayMessage.contextInfo),
        ]
        return contexts.first(where: \.has)?.context.isForwarded ?? false
    }

    /// The content inside the device-sent, ephemeral, view-once and document-with-caption
    /// envelopes (section 3.2, step 3).
    package static func unwrapped(_ message: Waproto_Message) -> Waproto_Message {
        var content = message.hasDeviceSentMessage ? message.deviceSentMessage.message : message
        for _ in 0..<3 {
            if content.hasEphemeralMessage { content = content.ephemeralMessage.message }
            else if content.hasViewOnceMessage { content = content.viewOnceMessage.message }
            else if content.hasDocumentWithCaptionMessage { content = content.documentWithCaptionMessage.message }
            else { break }
        }
        return content
    }

    private static func forwardingContext(score: UInt32) -> Waproto_ContextInfo {
        var context = Waproto_ContextInfo()
        context.isForwarded = true
        context.forwardingScore = score
        return context
    }
}
