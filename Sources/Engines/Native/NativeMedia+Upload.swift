import Foundation
import Logging
import Reactor
import WAProtocol

/// Sending media (section 5.4): a fresh media key, the blob encrypted and hashed on a worker,
/// uploaded to the first `media_conn` host that takes it, and the message built around it.
/// Media in a spool file is encrypted file to file and uploaded from the encrypted file.
extension NativeMediaTransfer {
    /// Encrypts and uploads `media`; the attachment for its message. Failures are 503s with the
    /// reason; nothing is stored before the upload succeeded.
    func upload(_ media: OutgoingMedia, sessionID: String, link: LinkRef) async throws -> MessageCodec.MediaAttachment {
        let kind = Self.messageKind(media.kind)
        let (client, workers) = try await tools()
        let sealed = try await Self.seal(media, kind: kind.mediaKind, workers: workers)
        // The encrypted spool file goes when `sealed` does: not before the last upload attempt.
        defer { withExtendedLifetime(sealed) {} }
        let token = Self.base64URL(sealed.digests.fileEncSHA256)
        let path = kind.mediaKind.uploadPath ?? "image"
        var lastProblem = "no media host"
        for attempt in 0..<2 {
            let conn = try await mediaConn(sessionID: sessionID, link: link)
            for hostname in conn.hosts {
                let (host, port) = Self.origin(hostname)
                let auth = conn.auth.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? conn.auth
                var request = HTTPClientRequest(
                    method: "POST", host: host, port: port, target: "/mms/\(path)/\(token)?auth=\(auth)&token=\(token)",
                    headers: HTTPHeaders([
                        ("origin", "https://web.whatsapp.com"), ("referer", "https://web.whatsapp.com/"),
                        ("content-type", "application/octet-stream"),
                    ]),
                    body: sealed.blob, isSecure: true)
                request.bodyFile = sealed.file.map { HTTPBodyFile(path: $0.path, length: $0.length) }
                do {
                    let response = try await client.execute(request)
                    guard (200..<300).contains(response.status) else {
                        lastProblem = "\(hostname) answered HTTP \(response.status)"
                        continue
                    }
                    let json = try? JSONParser.parse(response.body)
                    guard let directPath = json?["direct_path"]?.stringValue, directPath.hasPrefix("/") else {
                        lastProblem = "\(hostname) gave no direct_path"
                        continue
                    }
                    return MessageCodec.MediaAttachment(
                        kind: kind, mimetype: media.mimetype, caption: kind == .ptt ? nil : media.caption,
                        fileName: kind == .document ? (media.filename ?? "file") : media.filename,
                        url: json?["url"]?.stringValue ?? "https://\(hostname)\(directPath)", directPath: directPath,
                        mediaKey: sealed.key, fileSHA256: sealed.digests.fileSHA256,
                        fileEncSHA256: sealed.digests.fileEncSHA256, fileLength: sealed.digests.fileLength,
                        mediaKeyTimestamp: Int64(Date().timeIntervalSince1970), facts: sealed.facts,
                        jpegThumbnail: sealed.thumbnail)
                } catch {
                    lastProblem = "\(hostname): \(error)"
                }
            }
            // The token or the hosts may be stale: ask once more before giving up.
            forgetMediaConn(sessionID: sessionID)
            if attempt == 0 { logger.info("media upload failed, asking for a new media connection", metadata: ["reason": "\(lastProblem)"]) }
        }
        throw EngineError.unavailable("Media upload failed: \(lastProblem)")
    }

    /// A fresh media key and the encrypted blob: in memory for small media, else a spool file
    /// encrypted in chunks from the media's own spool file or from its bytes (its SHA-256 names
    /// the upload, so the blob is complete before the request starts).
    ///
    /// The file's own size and length (`facts`) are read on the same worker: an MP4 may keep its
    /// movie header at the end, and the Ogg and MP3 walks look at every byte in the worst case. A
    /// JPEG photo also gets its preview there (a scaled decode); none is no failure.
    private struct Sealed: Sendable {
        let key: [UInt8]
        let digests: MediaDigests
        let blob: [UInt8]
        let file: MediaSpoolFile?
        let facts: MediaFacts
        let thumbnail: [UInt8]?
    }

    /// The largest spooled file read into memory for its facts and preview; past it (long videos,
    /// big documents) the message goes without them and memory stays bounded.
    static let probeLimit = 16 << 20

    private static func seal(_ media: OutgoingMedia, kind: MediaKind, workers: WorkerPool) async throws -> Sealed {
        let plaintext = media.bytes
        let source = media.file
        return try await workers.anyLane().run {
            let key = try MediaKeys.generateMediaKey()
            let probed: [UInt8]? =
                if let source {
                    source.length <= probeLimit ? FileManager.default.contents(atPath: source.path).map { [UInt8]($0) } : nil
                } else {
                    plaintext
                }
            let facts = probed.map(MediaProbe.facts(of:)) ?? MediaFacts()
            let thumbnail =
                kind == .image
                ? probed.flatMap { bytes in MediaProbe.jpegOrientation(of: bytes).flatMap { JPEGThumbnail.make(from: bytes, orientation: $0) } }
                : nil
            // Small media is encrypted in memory; anything larger goes to a file, so the upload
            // holds no blob and no serialized copy of the request beside the plaintext.
            if source == nil, plaintext.count <= MediaFileCrypto.chunkSize {
                let (blob, digests) = try MediaEncryptor.encrypt(plaintext, mediaKey: key, kind: kind)
                return Sealed(key: key, digests: digests, blob: blob, file: nil, facts: facts, thumbnail: thumbnail)
            }
            let path = MediaSpoolFile.freshPath("media-blob")
            let digests =
                if let source {
                    try MediaFileCrypto.encrypt(source: source.path, destination: path, mediaKey: key, kind: kind)
                } else {
                    try MediaFileCrypto.encrypt(plaintext, destination: path, mediaKey: key, kind: kind)
                }
            // PKCS#7 always pads, to the next whole block, and the MAC follows.
            let length = (Int(digests.fileLength) / 16 + 1) * 16 + MediaKeys.macSize
            return Sealed(
                key: key, digests: digests, blob: [], file: MediaSpoolFile(path: path, length: length), facts: facts,
                thumbnail: thumbnail)
        }
    }

    static func messageKind(_ kind: OutgoingMedia.Kind) -> MessageCodec.MediaMessageKind {
        switch kind {
        case .image: .image
        case .video: .video
        case .audio: .audio
        case .voice: .ptt
        case .document: .document
        case .sticker: .sticker
        }
    }

    /// OpenWA's `metadata.media` of a stored row. OpenWA's media object has no size or length;
    /// `width`, `height` and `seconds` are the message's own fields, added under the same object.
    static func metadata(_ attachment: MessageCodec.MediaAttachment) -> JSONValue {
        var media: JSONValue = [
            "mimetype": .string(attachment.mimetype), "sizeBytes": .number(Double(attachment.fileLength)),
            "kind": .string(attachment.kind.rawValue),
        ]
        if let fileName = attachment.fileName { media = media.setting("filename", .string(fileName)) }
        if let caption = attachment.caption { media = media.setting("caption", .string(caption)) }
        if let width = attachment.width, let height = attachment.height {
            media = media.setting("width", .number(Double(width))).setting("height", .number(Double(height)))
        }
        if let seconds = attachment.seconds { media = media.setting("seconds", .number(Double(seconds))) }
        if let isAnimated = attachment.isAnimated { media = media.setting("isAnimated", .bool(isAnimated)) }
        return ["media": media]
    }
}

extension NativeMediaTransfer {
    /// The content of a media send: uploaded first, so a failed upload stores nothing.
    static func content(
        _ media: OutgoingMedia, quote: MessageCodec.Quote?, mentions: [String], sessionID: String, link: LinkRef
    ) async throws -> NativeContent {
        let transfer: NativeMediaTransfer? = try await link.withLink { link, continuation in
            continuation.resume(returning: link.configuration.media)
        }
        guard let transfer else { throw EngineError.notSupported("Media is not configured for the native engine") }
        let attachment = try await transfer.upload(media, sessionID: sessionID, link: link)
        // OpenWA keeps no caption for a voice note.
        let body = attachment.kind == .ptt ? "" : (attachment.caption ?? "")
        var content = NativeContent(
            message: MessageCodec.media(attachment, quote: quote, mentions: mentions), stored: (attachment.kind.storedType, body))
        content.metadata = metadata(attachment)
        content.media = SentMedia(attachment: attachment, plaintext: media.bytes, file: media.file, transfer: transfer)
        return content
    }
}
