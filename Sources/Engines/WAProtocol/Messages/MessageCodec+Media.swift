import Foundation

/// Media messages (reference part 2, sections 4.3 and 5): what an image, video, audio, voice
/// note, document or sticker carries besides its bytes, in both directions.
extension MessageCodec {
    /// The kinds of media message, with OpenWA's stored type for each.
    package enum MediaMessageKind: String, Sendable, Equatable, CaseIterable {
        case image, video, audio, ptt, document, sticker

        /// The key expansion and upload path of this kind (section 5.1).
        package var mediaKind: MediaKind {
            switch self {
            case .image: .image
            case .video: .video
            case .audio: .audio
            case .ptt: .ptt
            case .document: .document
            case .sticker: .sticker
            }
        }

        /// OpenWA's message type: a voice note is `voice`.
        package var storedType: String { self == .ptt ? "voice" : rawValue }

        /// The `mediatype` attribute of the `enc` nodes (section 2.2).
        package var encMediaType: String { rawValue }
    }

    /// Everything a media message says about its blob: where to fetch it, how to open it and
    /// what to check it against.
    package struct MediaAttachment: Sendable, Equatable {
        package var kind: MediaMessageKind
        package var mimetype: String
        package var caption: String?
        package var fileName: String?
        package var url: String
        package var directPath: String
        package var mediaKey: [UInt8]
        package var fileSHA256: [UInt8]
        package var fileEncSHA256: [UInt8]
        package var fileLength: UInt64
        /// Unix seconds.
        package var mediaKeyTimestamp: Int64
        /// Displayed size of an image, video or sticker and length of a video or audio, which
        /// phones lay the bubble out with and show before the download (`MediaProbe`).
        package var width: UInt32?
        package var height: UInt32?
        package var seconds: UInt32?
        /// A sticker that moves (an animated WebP).
        package var isAnimated: Bool?
        /// The small JPEG preview shown blurred until the download (images).
        package var jpegThumbnail: [UInt8]?

        package init(
            kind: MediaMessageKind, mimetype: String, caption: String? = nil, fileName: String? = nil, url: String,
            directPath: String, mediaKey: [UInt8], fileSHA256: [UInt8], fileEncSHA256: [UInt8], fileLength: UInt64,
            mediaKeyTimestamp: Int64, facts: MediaFacts = MediaFacts(), jpegThumbnail: [UInt8]? = nil
        ) {
            self.kind = kind
            self.mimetype = mimetype
            self.caption = caption
            self.fileName = fileName
            self.url = url
            self.directPath = directPath
            self.mediaKey = mediaKey
            self.fileSHA256 = fileSHA256
            self.fileEncSHA256 = fileEncSHA256
            self.fileLength = fileLength
            self.mediaKeyTimestamp = mediaKeyTimestamp
            self.jpegThumbnail = jpegThumbnail
            apply(facts)
        }

        /// Keeps the facts a message of this kind has a field for: sizes for images, stickers
        /// and videos, durations for videos and audio, nothing for documents.
        package mutating func apply(_ facts: MediaFacts) {
            switch kind {
            case .image:
                (width, height) = (facts.width, facts.height)
            case .sticker:
                (width, height, isAnimated) = (facts.width, facts.height, facts.isAnimated)
            case .video:
                (width, height, seconds) = (facts.width, facts.height, facts.seconds)
            case .audio, .ptt:
                seconds = facts.seconds
            case .document:
                break
            }
        }
    }

    /// The message for an uploaded blob, with the fields of its kind (section 4.3 table); a quote
    /// or mentions go into its `contextInfo`.
    package static func media(_ attachment: MediaAttachment, quote: Quote? = nil, mentions: [String] = []) -> Waproto_Message {
        var message = Waproto_Message()
        let context = quote != nil || !mentions.isEmpty ? context(quote: quote, mentions: mentions) : nil
        let a = attachment
        switch a.kind {
        case .image:
            var image = Waproto_ImageMessage()
            image.url = a.url
            image.directPath = a.directPath
            image.mimetype = a.mimetype
            image.mediaKey = Data(a.mediaKey)
            image.fileSha256 = Data(a.fileSHA256)
            image.fileEncSha256 = Data(a.fileEncSHA256)
            image.fileLength = a.fileLength
            image.mediaKeyTimestamp = a.mediaKeyTimestamp
            if let caption = a.caption { image.caption = caption }
            if let width = a.width, let height = a.height { (image.width, image.height) = (width, height) }
            if let thumbnail = a.jpegThumbnail { image.jpegThumbnail = Data(thumbnail) }
            if let context { image.contextInfo = context }
            message.imageMessage = image
        case .video:
            var video = Waproto_VideoMessage()
            video.url = a.url
            video.directPath = a.directPath
            video.mimetype = a.mimetype
            video.mediaKey = Data(a.mediaKey)
            video.fileSha256 = Data(a.fileSHA256)
            video.fileEncSha256 = Data(a.fileEncSHA256)
            video.fileLength = a.fileLength
            video.mediaKeyTimestamp = a.mediaKeyTimestamp
            if let caption = a.caption { video.caption = caption }
            if let width = a.width, let height = a.height { (video.width, video.height) = (width, height) }
            if let seconds = a.seconds { video.seconds = seconds }
            if let thumbnail = a.jpegThumbnail { video.jpegThumbnail = Data(thumbnail) }
            if let context { video.contextInfo = context }
            message.videoMessage = video
        case .audio, .ptt:
            var audio = Waproto_AudioMessage()
            audio.url = a.url
            audio.directPath = a.directPath
            audio.mimetype = a.mimetype
            audio.mediaKey = Data(a.mediaKey)
            audio.fileSha256 = Data(a.fileSHA256)
            audio.fileEncSha256 = Data(a.fileEncSHA256)
            audio.fileLength = a.fileLength
            audio.mediaKeyTimestamp = a.mediaKeyTimestamp
            audio.ptt = a.kind == .ptt
            if let seconds = a.seconds { audio.seconds = seconds }
            if let context { audio.contextInfo = context }
            message.audioMessage = audio
        case .document:
            var document = Waproto_DocumentMessage()
            document.url = a.url
            document.directPath = a.directPath
            document.mimetype = a.mimetype
            document.mediaKey = Data(a.mediaKey)
            document.fileSha256 = Data(a.fileSHA256)
            document.fileEncSha256 = Data(a.fileEncSHA256)
            document.fileLength = a.fileLength
            document.mediaKeyTimestamp = a.mediaKeyTimestamp
            document.fileName = a.fileName ?? "file"
            document.title = a.fileName ?? "file"
            if let caption = a.caption { document.caption = caption }
            if let thumbnail = a.jpegThumbnail { document.jpegThumbnail = Data(thumbnail) }
            if let context { document.contextInfo = context }
            message.documentMessage = document
        case .sticker:
            var sticker = Waproto_StickerMessage()
            sticker.url = a.url
            sticker.directPath = a.directPath
            sticker.mimetype = a.mimetype
            sticker.mediaKey = Data(a.mediaKey)
            sticker.fileSha256 = Data(a.fileSHA256)
            sticker.fileEncSha256 = Data(a.fileEncSHA256)
            sticker.fileLength = a.fileLength
            sticker.mediaKeyTimestamp = a.mediaKeyTimestamp
            if let width = a.width, let height = a.height { (sticker.width, sticker.height) = (width, height) }
            if let isAnimated = a.isAnimated { sticker.isAnimated = isAnimated }
            if let context { sticker.contextInfo = context }
            message.stickerMessage = sticker
        }
        return message
    }

    /// The attachment of a received message, after the same unwrapping as `summary(of:)`; nil
    /// when it carries no media or lacks what a download needs (a key and a path).
    package static func mediaAttachment(of message: Waproto_Message) -> MediaAttachment? {
        var content = message
        if content.hasDeviceSentMessage { content = content.deviceSentMessage.message }
        for _ in 0..<3 {
            if content.hasEphemeralMessage { content = content.ephemeralMessage.message }
            else if content.hasViewOnceMessage { content = content.viewOnceMessage.message }
            else if content.hasDocumentWithCaptionMessage { content = content.documentWithCaptionMessage.message }
            else { break }
        }
        var found: MediaAttachment?
        if content.hasImageMessage {
            let m = content.imageMessage
            found = attachment(
                .image, m.mimetype, m.hasCaption ? m.caption : nil, nil, m.url, m.directPath, m.mediaKey, m.fileSha256,
                m.fileEncSha256, m.fileLength, m.mediaKeyTimestamp)
            found?.apply(facts(width: m.hasWidth ? m.width : nil, height: m.hasHeight ? m.height : nil))
            found?.jpegThumbnail = m.hasJpegThumbnail ? Array(m.jpegThumbnail) : nil
        } else if content.hasVideoMessage || content.hasPtvMessage {
            // A round video note (ptv) is a video message under another field.
            let m = content.hasVideoMessage ? content.videoMessage : content.ptvMessage
            found = attachment(
                .video, m.mimetype, m.hasCaption ? m.caption : nil, nil, m.url, m.directPath, m.mediaKey, m.fileSha256,
                m.fileEncSha256, m.fileLength, m.mediaKeyTimestamp)
            found?.apply(
                facts(width: m.hasWidth ? m.width : nil, height: m.hasHeight ? m.height : nil, seconds: m.hasSeconds ? m.seconds : nil))
            found?.jpegThumbnail = m.hasJpegThumbnail ? Array(m.jpegThumbnail) : nil
        } else if content.hasAudioMessage {
            let m = content.audioMessage
            found = attachment(
                m.ptt ? .ptt : .audio, m.mimetype, nil, nil, m.url, m.directPath, m.mediaKey, m.fileSha256, m.fileEncSha256,
                m.fileLength, m.mediaKeyTimestamp)
            found?.seconds = m.hasSeconds ? m.seconds : nil
        } else if content.hasDocumentMessage {
            let m = content.documentMessage
            found = attachment(
                .document, m.mimetype, m.hasCaption ? m.caption : nil, m.hasFileName ? m.fileName : nil, m.url, m.directPath,
                m.mediaKey, m.fileSha256, m.fileEncSha256, m.fileLength, m.mediaKeyTimestamp)
        } else if content.hasStickerMessage {
            let m = content.stickerMessage
            found = attachment(
                .sticker, m.mimetype, nil, nil, m.url, m.directPath, m.mediaKey, m.fileSha256, m.fileEncSha256, m.fileLength,
                m.mediaKeyTimestamp)
            found?.apply(facts(width: m.hasWidth ? m.width : nil, height: m.hasHeight ? m.height : nil))
            found?.isAnimated = m.hasIsAnimated ? m.isAnimated : nil
        } else {
            found = nil
        }
        guard let found, found.mediaKey.count == MediaKeys.mediaKeySize, !found.directPath.isEmpty || !found.url.isEmpty else {
            return nil
        }
        return found
    }

    /// A message's own size fields as facts: a size needs both sides and neither may be zero.
    private static func facts(width: UInt32?, height: UInt32?, seconds: UInt32? = nil) -> MediaFacts {
        guard let width, let height, width > 0, height > 0 else { return MediaFacts(seconds: seconds) }
        return MediaFacts(width: width, height: height, seconds: seconds)
    }

    private static func attachment(
        _ kind: MediaMessageKind, _ mimetype: String, _ caption: String?, _ fileName: String?, _ url: String, _ directPath: String,
        _ mediaKey: Data, _ fileSHA256: Data, _ fileEncSHA256: Data, _ fileLength: UInt64, _ timestamp: Int64
    ) -> MediaAttachment {
        MediaAttachment(
            kind: kind, mimetype: mimetype, caption: caption, fileName: fileName, url: url, directPath: directPath,
            mediaKey: Array(mediaKey), fileSHA256: Array(fileSHA256), fileEncSHA256: Array(fileEncSHA256), fileLength: fileLength,
            mediaKeyTimestamp: timestamp)
    }
}
