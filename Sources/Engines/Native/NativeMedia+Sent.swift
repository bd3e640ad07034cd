import Foundation
import Reactor
import WAProtocol

/// Our own media sends, kept like received media: the blob's record (`media.<id>`, the message
/// itself with key, path and hashes) goes to the auth state before the stanza leaves, and the
/// plaintext goes to media storage once the server acked the message, so the media route serves
/// what we sent and a forward can reuse the uploaded blob.
///
/// Order, and why: the record is written before the send (a forward or an on-demand download may
/// follow at once, and a record costs one small write); the plaintext is stored after the ack, in
/// a task of its own, because the message has already gone out by then: a refused or failed send
/// stores no bytes, the 201 does not wait for storage (a disk write, or an S3 PUT of the whole
/// file), and a storage failure is only logged and noted on the row (`metadata.media.downloadError`,
/// as for a download that could not be stored). Such a row keeps its `metadata.media` and its
/// record, so the media route fetches the blob back from the media host on demand.
///
/// The media key and hashes stay in the auth state, as a received message's do, and not in the
/// row's `metadata`, which the list route and webhooks hand out.
extension NativeMediaTransfer {
    /// A media send's upload: what receivers get, and the plaintext until it is stored.
    struct SentMedia: Sendable {
        let attachment: MessageCodec.MediaAttachment
        let plaintext: [UInt8]
        /// The plaintext's spool file when it came as one (then `plaintext` is empty).
        let file: MediaSpoolFile?
        let transfer: NativeMediaTransfer
    }

    /// The auth-state record of a sent or forwarded message's media, keyed by its id.
    static func records(of media: SentMedia?, messageID: String) -> NativeSignal.Changes {
        guard let media, let record = record(media.attachment) else { return [:] }
        return [recordKey(messageID): record]
    }

    /// Reserves the storing of our message's plaintext before its row and `message.sent` are
    /// committed, so that an on-demand fetch (a webhook putting the bytes in its body, the media
    /// route) waits for it instead of downloading our own blob; `settle` says whether WhatsApp
    /// took the message, and only then are the bytes stored and the row pointed at them. A failure
    /// to store is logged and noted on the row and leaves the send as it was.
    func reserveSent(_ sent: SentMedia, sessionID: String, messageID: String) -> SentMediaStorage? {
        guard let archive, !sent.plaintext.isEmpty || (sent.file?.length ?? 0) > 0 else { return nil }
        let (acks, settle) = AsyncStream.makeStream(of: Bool.self, bufferingPolicy: .bufferingNewest(1))
        archive.transfer(sessionID: sessionID, messageID: messageID) {
            var acked = false
            for await value in acks {
                acked = value
                break
            }
            guard acked else { return false }
            do {
                if let file = sent.file {
                    try await archive.save(
                        sessionID: sessionID, messageID: messageID, mimetype: sent.attachment.mimetype, file: file,
                        workers: try await self.tools().workers)
                } else {
                    try await archive.save(
                        sessionID: sessionID, messageID: messageID, mimetype: sent.attachment.mimetype, bytes: sent.plaintext)
                }
                return true
            } catch {
                // Noted on the row like a download that could not be stored; the route retries.
                await archive.failed(sessionID: sessionID, messageID: messageID, reason: "sent media not stored: \(Self.reason(error))")
                return false
            }
        }
        return SentMediaStorage(settle: settle)
    }
}

/// A reserved store of a sent message's bytes, waiting for WhatsApp's answer to the send.
/// Dropped unsettled (a path that forgot it), it counts as refused: the reserved transfer and
/// whoever waits on it must not hang, and a stream whose continuation is gone never ends.
final class SentMediaStorage: Sendable {
    private let settle: AsyncStream<Bool>.Continuation

    init(settle: AsyncStream<Bool>.Continuation) { self.settle = settle }

    deinit { settle.finish() }

    /// `acked`: the server took the message, so its bytes are stored; otherwise nothing is.
    func settle(acked: Bool) {
        settle.yield(acked)
        settle.finish()
    }
}
