import Foundation

/// Building the non-media content kinds a send carries (reference part 2, section 4.3).
extension MessageCodec {
    /// The message a reply quotes: its id, its sender (a wire JID) and its content.
    package struct Quote: Sendable {
        package var id: String
        package var participant: String
        package var message: Waproto_Message

        package init(id: String, participant: String, message: Waproto_Message) {
            self.id = id
            self.participant = participant
            self.message = message
        }
    }

    /// The preview of a link in a text (`ExtendedTextMessage` fields 2, 5, 6 and 16): the URL as
    /// written in the text, the page's title and description, an inline JPEG thumbnail.
    package struct LinkPreview: Sendable, Equatable {
        package var matchedText: String
        package var title: String
        package var description: String?
        package var jpegThumbnail: [UInt8]?

        package init(matchedText: String, title: String, description: String? = nil, jpegThumbnail: [UInt8]? = nil) {
            self.matchedText = matchedText
            self.title = title
            self.description = description
            self.jpegThumbnail = jpegThumbnail
        }
    }

    /// Text, as `extendedTextMessage` when it quotes a message, mentions someone (the mentions
    /// are wire JIDs) or previews a link, else as the plain `conversation`.
    package static func text(_ text: String, quote: Quote?, mentions: [String], preview: LinkPreview? = nil) -> Waproto_Message {
        guard quote != nil || !mentions.isEmpty || preview != nil else { return self.text(text) }
        var extended = Waproto_ExtendedTextMessage()
        extended.text = text
        if let preview {
            extended.matchedText = preview.matchedText
            extended.title = preview.title
            if let description = preview.description { extended.previewDescription = description }
            if let thumbnail = preview.jpegThumbnail { extended.jpegThumbnail = Data(thumbnail) }
            extended.previewType = .none
        }
        if quote != nil || !mentions.isEmpty { extended.contextInfo = context(quote: quote, mentions: mentions) }
        var message = Waproto_Message()
        message.extendedTextMessage = extended
        return message
    }

    package static func location(
        latitude: Double, longitude: Double, name: String?, address: String?, quote: Quote?
    ) -> Waproto_Message {
        var location = Waproto_LocationMessage()
        location.degreesLatitude = latitude
        location.degreesLongitude = longitude
        if let name { location.name = name }
        if let address { location.address = address }
        if let quote { location.contextInfo = context(quote: quote, mentions: []) }
        var message = Waproto_Message()
        message.locationMessage = location
        return message
    }

    /// A contact card: a vCard 3.0 with the number as `waid`, as WhatsApp clients write it.
    package static func contact(name: String, number: String, quote: Quote?) -> Waproto_Message {
        var card = Waproto_ContactMessage()
        card.displayName = name
        card.vcard = vCard(name: name, number: number)
        if let quote { card.contextInfo = context(quote: quote, mentions: []) }
        var message = Waproto_Message()
        message.contactMessage = card
        return message
    }

    /// The vCard of a contact card (OpenWA's send-contact): version 3.0, the name as `FN`, the
    /// number as a mobile `TEL` with WhatsApp's `waid` parameter so the card offers "Message".
    package static func vCard(name: String, number: String) -> String {
        let digits = number.filter { $0.isASCII && $0.isNumber }
        return [
            "BEGIN:VCARD", "VERSION:3.0", "FN:\(vCardEscaped(name))",
            "TEL;type=CELL;type=VOICE;waid=\(digits):+\(digits)", "END:VCARD",
        ].joined(separator: "\n")
    }

    /// RFC 6350 text escaping: a comma, semicolon, backslash or newline in the name must not
    /// end the property or start a new one.
    static func vCardEscaped(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\\": out += "\\\\"
            case ",": out += "\\,"
            case ";": out += "\\;"
            case "\n", "\r\n", "\r": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }

    /// A reaction to the message `key` names; an empty emoji removes ours.
    package static func reaction(
        to id: String, chat: String, fromMe: Bool, participant: String?, emoji: String, now: Date = Date()
    ) -> Waproto_Message {
        var key = Waproto_MessageKey()
        key.remoteJid = chat
        key.fromMe = fromMe
        key.id = id
        if let participant { key.participant = participant }
        var reaction = Waproto_ReactionMessage()
        reaction.key = key
        reaction.text = emoji
        reaction.senderTimestampMs = Int64(now.timeIntervalSince1970 * 1000)
        var message = Waproto_Message()
        message.reactionMessage = reaction
        return message
    }

    /// The stanza `type` for a content (section 2.2): reactions and polls have their own.
    package static func stanzaType(of message: Waproto_Message) -> String {
        if message.hasReactionMessage { return "reaction" }
        if message.hasPollCreationMessage || message.hasPollCreationMessageV3 || message.hasPollUpdateMessage { return "poll" }
        if message.hasImageMessage || message.hasVideoMessage || message.hasAudioMessage || message.hasDocumentMessage
            || message.hasStickerMessage
        {
            return "media"
        }
        return "text"
    }

    /// The `mediatype` attribute of a content's `enc` nodes (section 2.2), nil for content that
    /// has none (plain text, reactions, polls, locations, protocol messages).
    package static func mediaType(of message: Waproto_Message) -> String? {
        if message.hasImageMessage { return "image" }
        if message.hasStickerMessage { return "sticker" }
        if message.hasDocumentMessage { return "document" }
        if message.hasAudioMessage { return message.audioMessage.ptt ? "ptt" : "audio" }
        if message.hasVideoMessage { return message.videoMessage.gifPlayback ? "gif" : "video" }
        if message.hasContactMessage { return "vcard" }
        if message.hasContactsArrayMessage { return "contact_array" }
        if message.hasLiveLocationMessage { return "livelocation" }
        if message.hasExtendedTextMessage, message.extendedTextMessage.hasTitle { return "url" }
        return nil
    }

    /// The reply and mention part of a message (text and media alike).
    static func context(quote: Quote?, mentions: [String]) -> Waproto_ContextInfo {
        var context = Waproto_ContextInfo()
        if let quote {
            context.stanzaID = quote.id
            context.participant = quote.participant
            context.quotedMessage = quote.message
        }
        if !mentions.isEmpty { context.mentionedJid = mentions }
        return context
    }
}
