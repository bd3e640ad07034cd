import Foundation
import Logging
import Reactor
import WAProtocol

/// Receiving media (section 5.5): the blob is fetched from the host the message names, checked
/// (length, `fileEncSHA256`, MAC, padding, `fileSHA256`) and decrypted on a worker, then stored.
/// Downloads run after the message is committed and acknowledged, in tasks of their own, at most
/// `INBOUND_MEDIA_CONCURRENCY` at once: a slow, large or broken blob never holds a message back.
extension NativeMediaTransfer {
    /// Starts the downloads of freshly committed messages when `MEDIA_DOWNLOAD_ENABLED`.
    /// A blob the host no longer has is asked for again over `link` (section 5.7).
    func scheduleDownloads(sessionID: String, _ items: [Download], link: LinkRef) {
        guard let archive, archive.settings.downloadEnabled, !items.isEmpty else { return }
        for item in items {
            Task {
                await self.downloadAndStore(
                    item.attachment, sessionID: sessionID, messageID: item.messageID, reupload: (item.origin, link))
            }
        }
    }

    /// Downloads, checks and stores one message's media; a failure is noted on the row and logged.
    /// With `reupload`, a blob the host no longer has is asked for once from the phone, and the
    /// record then names its new path. True when the media is stored.
    @discardableResult
    func downloadAndStore(
        _ attachment: MessageCodec.MediaAttachment, sessionID: String, messageID: String,
        reupload: (origin: MediaOrigin, link: LinkRef)? = nil
    ) async -> Bool {
        guard let archive else { return false }
        // The automatic download and an on-demand one (the media route, a webhook putting the
        // bytes in its body) may ask for the same message at once: one transfer serves both.
        return await archive.coalesced(sessionID: sessionID, messageID: messageID) {
            await self.downloadAndStoreAlone(attachment, archive: archive, sessionID: sessionID, messageID: messageID, reupload: reupload)
        }
    }

    private func downloadAndStoreAlone(
        _ attachment: MessageCodec.MediaAttachment, archive: MediaArchive, sessionID: String, messageID: String,
        reupload: (origin: MediaOrigin, link: LinkRef)?
    ) async -> Bool {
        do {
            guard let expired = try await fetchAndSave(attachment, archive: archive, sessionID: sessionID, messageID: messageID)
            else { return true }
            guard let reupload else { throw expired }
            // Outside the download limit: the phone may take a while to answer.
            logger.info("media expired on the host, asking the phone to upload it again", metadata: ["message.id": "\(messageID)"])
            let fresh = try await reuploaded(attachment, messageID: messageID, origin: reupload.origin, link: reupload.link)
            if let again = try await fetchAndSave(fresh, archive: archive, sessionID: sessionID, messageID: messageID) {
                throw EngineError.notFound("the re-uploaded media is not there either: \(again.message)")
            }
            // Later on-demand downloads go to the new path.
            if let record = Self.record(fresh) { try? await reupload.link.writeSignalRecords([Self.recordKey(messageID): record]) }
            return true
        } catch {
            await archive.failed(sessionID: sessionID, messageID: messageID, reason: Self.reason(error))
            return false
        }
    }

    /// Downloads and stores within the download limit; the host's refusal when it no longer has
    /// the blob (404 or 410), nil once stored.
    private func fetchAndSave(
        _ attachment: MessageCodec.MediaAttachment, archive: MediaArchive, sessionID: String, messageID: String
    ) async throws -> EngineError? {
        try await archive.limited {
            let plaintext: MediaSpoolFile
            do {
                plaintext = try await self.download(attachment)
            } catch let error as EngineError where error.kind == .notFound {
                return error
            }
            try await archive.save(
                sessionID: sessionID, messageID: messageID, mimetype: attachment.mimetype, file: plaintext,
                workers: try await self.tools().workers)
            return nil
        }
    }

    /// The checked plaintext of an attachment, in a spool file. The blob is spooled as it
    /// arrives (under the cap, the socket not read while the disk is behind), then checked and
    /// decrypted file to file on a worker; both files go when their last reference does.
    func download(_ attachment: MessageCodec.MediaAttachment) async throws -> MediaSpoolFile {
        let maxBytes = archive?.settings.maxBytes ?? 52_428_800
        guard attachment.fileLength <= UInt64(maxBytes) else {
            throw EngineError.tooLarge("media of \(attachment.fileLength) bytes is over MEDIA_DOWNLOAD_MAX_BYTES (\(maxBytes))")
        }
        let (client, workers) = try await tools()
        var request = try Self.downloadRequest(attachment)
        let blobPath = MediaSpoolFile.freshPath("media-download")
        request.responseBodyPath = blobPath
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeoutMilliseconds: timeoutMilliseconds)  // MEDIA_DOWNLOAD_TIMEOUT_MS
        } catch let error as ReactorError where error.operation.hasPrefix("response body exceeds") {
            throw EngineError.tooLarge("media blob is over MEDIA_DOWNLOAD_MAX_BYTES (\(maxBytes))")
        }
        let blob = MediaSpoolFile(path: blobPath, length: response.bodyLength)
        if response.status == 404 || response.status == 410 {
            // The sender's upload expired: a re-upload by the phone can bring it back (5.7).
            throw EngineError.notFound("media host answered HTTP \(response.status)")
        }
        guard (200..<300).contains(response.status) else {
            throw EngineError.unavailable("media host answered HTTP \(response.status)")
        }
        return try await workers.anyLane().run {
            let path = MediaSpoolFile.freshPath("media-plain")
            let digests = try MediaFileCrypto.decrypt(
                source: blob.path, destination: path, mediaKey: attachment.mediaKey, kind: attachment.kind.mediaKind,
                expectedFileEncSHA256: attachment.fileEncSHA256.isEmpty ? nil : attachment.fileEncSHA256,
                expectedFileSHA256: attachment.fileSHA256.isEmpty ? nil : attachment.fileSHA256)
            return MediaSpoolFile(path: path, length: Int(digests.fileLength))
        }
    }

    /// `https://<host><directPath>&hash=…&mms-type=…&__wa-mms=` (whatsmeow's form); the host is
    /// the one of the message's URL, else WhatsApp's default media host.
    static func downloadRequest(_ attachment: MessageCodec.MediaAttachment) throws -> HTTPClientRequest {
        let fromURL = HTTPClientRequest(method: "GET", url: attachment.url)
        var target = attachment.directPath.isEmpty ? (fromURL?.target ?? "") : attachment.directPath
        guard target.hasPrefix("/") else { throw EngineError.invalid("media message without a usable path") }
        let host = fromURL.flatMap { $0.isSecure ? ($0.host, $0.port) : nil } ?? ("mmg.whatsapp.net", 443)
        target += (target.contains("?") ? "&" : "?") + "hash=\(base64URL(attachment.fileEncSHA256))"
        target += "&mms-type=\(attachment.kind.mediaKind.uploadPath ?? "image")&__wa-mms="
        return HTTPClientRequest(
            method: "GET", host: host.0, port: host.1, target: target,
            headers: HTTPHeaders([("origin", "https://web.whatsapp.com")]), isSecure: true)
    }

    /// A short reason for the row and the log line.
    static func reason(_ error: any Error) -> String {
        switch error {
        case let error as EngineError: error.message
        case let error as ProtocolError: "media did not verify: \(error)"
        default: "\(error)"
        }
    }
}
