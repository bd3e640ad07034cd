import Foundation

/// What a send route asks an engine to deliver (OpenWA's send DTOs, already validated).
package struct OutgoingMessage: Sendable, Equatable {
    /// `<number>@c.us`, `<id>@g.us` or `<lid>@lid`.
    package var chatID: String
    package var content: OutgoingContent
    /// The message this one replies to (`quotedMessageId`), in the same chat.
    package var quotedMessageID: String?
    /// Mentioned contacts (`<number>@c.us`), each also written as `@<number>` in the text.
    package var mentions: [String]
    /// For a text: the preview of its link.
    package var linkPreview: OutgoingLinkPreview?

    package init(
        chatID: String, content: OutgoingContent, quotedMessageID: String? = nil, mentions: [String] = [],
        linkPreview: OutgoingLinkPreview? = nil
    ) {
        self.chatID = chatID
        self.content = content
        self.quotedMessageID = quotedMessageID
        self.mentions = mentions
        self.linkPreview = linkPreview
    }
}

/// The preview of a link a text carries: fetched by the gateway (`linkPreview: true`) or given by
/// the caller (`customLinkPreview`).
package struct OutgoingLinkPreview: Sendable, Equatable {
    /// The URL as written in the text (`matchedText`).
    package var url: String
    package var title: String
    package var description: String?
    /// A small JPEG shown inline, when the page named one small enough.
    package var jpegThumbnail: [UInt8]?
    /// Given by the caller rather than fetched.
    package var isCustom: Bool

    package init(url: String, title: String, description: String? = nil, jpegThumbnail: [UInt8]? = nil, isCustom: Bool) {
        self.url = url
        self.title = title
        self.description = description
        self.jpegThumbnail = jpegThumbnail
        self.isCustom = isCustom
    }
}

/// The kinds of content the send routes produce.
package enum OutgoingContent: Sendable, Equatable {
    case text(String)
    case media(OutgoingMedia)
    case location(latitude: Double, longitude: Double, description: String?, address: String?)
    /// A single contact card (a vCard is built from these).
    case contact(name: String, number: String)
    /// A reaction to `messageID` in the chat; an empty emoji removes ours.
    case reaction(messageID: String, emoji: String)
    /// A poll with 2-12 options; `allowMultipleAnswers` lets a voter pick several.
    case poll(name: String, options: [String], allowMultipleAnswers: Bool)
}

/// A media attachment with its bytes already fetched (URL, base64 or multipart) and size-checked:
/// in memory (`bytes`), or, for media fetched from a URL, in a spool file (`file`, with `bytes`
/// empty) that the native engine encrypts and uploads without reading it into memory.
package struct OutgoingMedia: Sendable, Equatable {
    package enum Kind: String, Sendable, Equatable {
        case image, video, audio, voice, document, sticker
    }

    package var kind: Kind
    package var bytes: [UInt8]
    package var file: MediaSpoolFile?
    package var mimetype: String
    package var filename: String?
    package var caption: String?

    package init(kind: Kind, bytes: [UInt8], mimetype: String, filename: String? = nil, caption: String? = nil) {
        self.kind = kind
        self.bytes = bytes
        self.mimetype = mimetype
        self.filename = filename
        self.caption = caption
    }

    /// Media in a spool file.
    package init(kind: Kind, file: MediaSpoolFile, mimetype: String, filename: String? = nil, caption: String? = nil) {
        self.init(kind: kind, bytes: [], mimetype: mimetype, filename: filename, caption: caption)
        self.file = file
    }

    /// The bytes wherever they are; reads a spool file whole (blocking file I/O).
    package func contents() throws -> [UInt8] {
        try file?.contents() ?? bytes
    }
}
