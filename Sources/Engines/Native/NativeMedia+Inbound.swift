import Foundation
import Reactor
import SwiftProtobuf
import WAProtocol

/// Inbound media messages: the stored row gets `metadata.media`, the session's auth state keeps
/// what a later download needs (`media.<id>`), and the download is queued for after the commit.
extension NativeMediaTransfer {
    typealias Download = (messageID: String, attachment: MessageCodec.MediaAttachment, origin: MediaOrigin)

    /// The auth-state key of a message's media record.
    static func recordKey(_ messageID: String) -> String { "media.\(messageID)" }

    /// A media message as its record: the message itself, serialized (it holds key, path and hashes).
    static func record(_ attachment: MessageCodec.MediaAttachment) -> [UInt8]? {
        try? Array(MessageCodec.media(attachment).serializedBytes() as Data)
    }

    static func attachment(record bytes: [UInt8]) -> MessageCodec.MediaAttachment? {
        (try? Waproto_Message(serializedBytes: bytes)).flatMap(MessageCodec.mediaAttachment(of:))
    }
}

extension NativeLink {
    /// `entry` with its media facts when `decoded` carries media; the record and the download go
    /// with the batch.
    static func withMedia(
        of decoded: Waproto_Message, _ entry: InboundItem, source: MessageSource, pending: inout NativeSignal.Changes,
        downloads: inout [NativeMediaTransfer.Download]
    ) -> InboundItem {
        guard case .message(var message) = entry, let attachment = MessageCodec.mediaAttachment(of: decoded) else { return entry }
        var metadata = message.metadata ?? .object([])
        if case .object(let members) = NativeMediaTransfer.metadata(attachment) {
            for (key, value) in members { metadata = metadata.setting(key, value) }
        }
        message.metadata = metadata
        if attachment.kind == .ptt { message.body = "" }
        pending[NativeMediaTransfer.recordKey(message.id)] = NativeMediaTransfer.record(attachment)
        downloads.append((message.id, attachment, .init(chat: source.chat, sender: source.sender.bare, fromMe: source.fromMe)))
        return .message(message)
    }
}

/// The media route's on-demand download: a stored message whose media is not in storage yet is
/// fetched with the record kept when it arrived; a blob the host no longer has is asked of the
/// phone again, with the chat and sender the stored row names.
extension NativeEngine: MediaFetchingEngine {
    package func fetchMedia(messageID: String) async throws -> Bool {
        let (ref, transfer, sessionID, sink): (LinkRef, NativeMediaTransfer?, String, any MessageSink) = try await reactor.submit {
            [link] reactor in
            link.value.attach(reactor)
            return (LinkRef(link.value), link.value.configuration.media, link.value.sessionID, link.value.messages)
        }
        guard let transfer, transfer.archive != nil else { return false }
        guard let bytes = try await ref.loadSignalRecord(NativeMediaTransfer.recordKey(messageID)),
            let attachment = NativeMediaTransfer.attachment(record: bytes)
        else { return false }
        let origin = try await sink.stored(sessionID: sessionID, messageID: messageID).flatMap(Self.mediaOrigin)
        return await transfer.downloadAndStore(attachment, sessionID: sessionID, messageID: messageID, reupload: origin.map { ($0, ref) })
    }

    /// Where a stored message came from, as a media retry receipt names it.
    static func mediaOrigin(of row: EngineMessage) -> NativeMediaTransfer.MediaOrigin? {
        guard let chat = try? NativeLink.recipient(of: row.chatID), let sender = try? NativeLink.recipient(of: row.author ?? row.from)
        else { return nil }
        return NativeMediaTransfer.MediaOrigin(chat: chat, sender: sender, fromMe: row.fromMe)
    }
}

extension LinkRef {
    /// One record of the session's Signal state (through its cache).
    func loadSignalRecord(_ key: String) async throws -> [UInt8]? {
        let signal: NativeSignal = try await withLink { link, continuation in
            guard let signal = link.signalContext() else {
                return continuation.resume(throwing: EngineError.unavailable("the device is not paired"))
            }
            continuation.resume(returning: signal)
        }
        return try await signal.load(key)
    }
}
