/// What a media blob is, which decides the HKDF info string its keys are expanded with and the upload path
/// (ref part 2 §5.1; whatsmeow `download.go`, Baileys `MEDIA_HKDF_KEY_MAPPING`).
package enum MediaKind: Sendable, CaseIterable {
    case image
    case sticker
    case video
    case gif
    /// Round "video note" (push-to-video).
    case ptv
    case audio
    /// Voice note (push-to-talk).
    case ptt
    case document
    /// History-sync blob sent by the primary after pairing.
    case history
    /// App-state snapshot or external-mutations blob.
    case appState
    case stickerPack
    /// Link-preview thumbnail uploaded separately (ExtendedTextMessage.thumbnail*).
    case linkThumbnail
    /// Separately uploaded thumbnails (Baileys' table).
    case imageThumbnail
    case videoThumbnail
    case documentThumbnail
    case paymentBackground

    /// The HKDF `info` that expands a media key for this kind.
    package var hkdfInfo: String {
        switch self {
        case .image, .sticker: "WhatsApp Image Keys"
        case .video, .gif, .ptv: "WhatsApp Video Keys"
        case .audio, .ptt: "WhatsApp Audio Keys"
        case .document: "WhatsApp Document Keys"
        case .history: "WhatsApp History Keys"
        case .appState: "WhatsApp App State Keys"
        case .stickerPack: "WhatsApp Sticker Pack Keys"
        case .linkThumbnail: "WhatsApp Link Thumbnail Keys"
        case .imageThumbnail: "WhatsApp Image Thumbnail Keys"
        case .videoThumbnail: "WhatsApp Video Thumbnail Keys"
        case .documentThumbnail: "WhatsApp Document Thumbnail Keys"
        case .paymentBackground: "WhatsApp Payment Background Keys"
        }
    }

    /// The `/mms/<type>` upload path segment, where the references name one. History blobs go to
    /// `md-msg-hist` as whatsmeow does (Baileys' `md-app-state` for them looks like a bug).
    package var uploadPath: String? {
        switch self {
        case .image, .sticker: "image"
        case .video, .gif, .ptv: "video"
        case .audio, .ptt: "audio"
        case .document: "document"
        case .history: "md-msg-hist"
        case .appState: "md-app-state"
        case .stickerPack: "sticker-pack"
        case .linkThumbnail: "thumbnail-link"
        case .imageThumbnail, .videoThumbnail, .documentThumbnail, .paymentBackground: nil
        }
    }
}
