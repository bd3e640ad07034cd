import Foundation
import Reactor
import WAProtocol

/// What a phone found in a media message it received, after downloading, checking and
/// decrypting the blob (admin `GET …/inbox`, field `media`).
package struct PhoneMedia: Sendable, Equatable, Codable {
    /// `image`, `video`, `audio`, `ptt`, `document` or `sticker`.
    package let kind: String
    package let mimetype: String
    package let fileName: String?
    package let caption: String?
    /// Hex SHA-256 and length of the decrypted bytes; nil when the blob did not check out.
    package let sha256: String?
    package let size: Int?
    /// Why the blob could not be opened (missing, MAC or hash mismatch).
    package let error: String?
    /// The message's own size and length fields, as a phone lays the bubble out before the
    /// download, and whether it carried a preview thumbnail.
    package var width: UInt32?
    package var height: UInt32?
    package var seconds: UInt32?
    /// A sticker's `isAnimated` field (nil when the message leaves it out).
    package var isAnimated: Bool?
    package var hasThumbnail = false
    /// The preview's own size, read from its JPEG header (nil without one or when unreadable).
    package var thumbnailWidth: UInt32?
    package var thumbnailHeight: UInt32?
}

/// The media host as the admin API shows it (`GET /admin/media`): its host, the auth token its
/// `media_conn` hands out (tests upload with it), and how many blobs it keeps.
package struct MediaHostSnapshot: Sendable, Equatable, Codable {
    package let hostname: String
    package let auth: String
    package let blobs: Int
    /// Uploads so far, the phones' own and re-uploads included.
    package let uploads: Int
}

/// Media sent and received by simulated phones: a phone encrypts with a fresh media key and
/// puts the blob on the media host itself (it is part of the simulator); a phone that receives
/// media fetches the blob by its direct path and checks it as a client must (section 5.5).
extension SimulatorCore {
    /// The media message of an admin send (`kind` image, video, audio, ptt, document or sticker;
    /// `data` is the file, base64).
    func phoneMediaContent(_ body: PhoneContent, kind: MessageCodec.MediaMessageKind) throws(SimulatorError) -> Waproto_Message {
        guard let encoded = body.data, let plaintext = Data(base64Encoded: encoded), !plaintext.isEmpty else {
            throw .badRequest("a media send needs data (base64 of the file)")
        }
        let mediaKey: [UInt8]
        let sealed: (blob: [UInt8], digests: MediaDigests)
        do {
            mediaKey = try MediaKeys.generateMediaKey()
            sealed = try MediaEncryptor.encrypt(Array(plaintext), mediaKey: mediaKey, kind: kind.mediaKind)
        } catch {
            throw SimulatorError(500, "the media could not be encrypted")
        }
        let directPath = media.store(sealed.blob, type: kind.mediaKind.uploadPath ?? "image")
        let attachment = MessageCodec.MediaAttachment(
            kind: kind, mimetype: body.mimetype ?? Self.defaultMimetype(kind), caption: body.text, fileName: body.fileName,
            url: "https://\(media.hostname)\(directPath)", directPath: directPath, mediaKey: mediaKey,
            fileSHA256: sealed.digests.fileSHA256, fileEncSHA256: sealed.digests.fileEncSHA256,
            fileLength: sealed.digests.fileLength, mediaKeyTimestamp: Int64(unixNow()),
            facts: MediaProbe.facts(of: Array(plaintext)))
        return MessageCodec.media(attachment)
    }

    /// Downloads, verifies and decrypts the media of a received message; nil when it has none.
    func phoneOpensMedia(_ message: Waproto_Message) -> PhoneMedia? {
        guard let attachment = MessageCodec.mediaAttachment(of: message) else { return nil }
        let preview = attachment.jpegThumbnail.map(MediaProbe.facts(of:))
        func result(sha256: String?, size: Int?, error: String?) -> PhoneMedia {
            PhoneMedia(
                kind: attachment.kind.rawValue, mimetype: attachment.mimetype, fileName: attachment.fileName,
                caption: attachment.caption, sha256: sha256, size: size, error: error, width: attachment.width,
                height: attachment.height, seconds: attachment.seconds, isAnimated: attachment.isAnimated,
                hasThumbnail: attachment.jpegThumbnail?.isEmpty == false,
                thumbnailWidth: preview?.width, thumbnailHeight: preview?.height)
        }
        guard let blob = media.blob(directPath: attachment.directPath) else {
            return result(sha256: nil, size: nil, error: "no blob at \(attachment.directPath)")
        }
        do {
            let opened = try MediaDecryptor.decrypt(
                blob, mediaKey: attachment.mediaKey, kind: attachment.kind.mediaKind,
                expectedFileEncSHA256: attachment.fileEncSHA256, expectedFileSHA256: attachment.fileSHA256)
            guard opened.digests.fileLength == attachment.fileLength else {
                return result(sha256: nil, size: nil, error: "fileLength mismatch")
            }
            return result(sha256: Crypto.hex(Crypto.sha256(opened.plaintext)), size: opened.plaintext.count, error: nil)
        } catch {
            return result(sha256: nil, size: nil, error: "\(error)")
        }
    }

    static func defaultMimetype(_ kind: MessageCodec.MediaMessageKind) -> String {
        switch kind {
        case .image: "image/jpeg"
        case .video: "video/mp4"
        case .audio: "audio/mpeg"
        case .ptt: "audio/ogg; codecs=opus"
        case .document: "application/octet-stream"
        case .sticker: "image/webp"
        }
    }

    func mediaHost() -> MediaHostSnapshot {
        MediaHostSnapshot(hostname: media.hostname, auth: media.authToken, blobs: media.blobs.count, uploads: media.uploadCount)
    }

    /// Arms `fault` for the next `count` downloads or uploads of the media host.
    func injectMediaFault(_ fault: MediaFault, count: Int) throws(SimulatorError) {
        guard (0...1_000).contains(count) else { throw .badRequest("count must be 0 to 1000") }
        switch fault {
        case .corruptDownload: media.corruptDownloads = count
        case .rejectUpload: media.rejectUploads = count
        case .expireDownload: media.expireDownloads = count
        case .loseMedia: media.loseDownloads = count
        }
    }
}
