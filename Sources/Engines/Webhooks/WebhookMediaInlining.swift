import Foundation
import Persistence
import Reactor

/// Where a webhook delivery gets a message's media bytes: the media archive, downloading through
/// the session's engine when the bytes are not stored yet.
package struct WebhookMediaSource: Sendable {
    let archive: MediaArchive
    let fetcher: @Sendable (_ sessionID: String) async -> (any MediaFetchingEngine)?

    package init(archive: MediaArchive, fetcher: @escaping @Sendable (_ sessionID: String) async -> (any MediaFetchingEngine)?) {
        self.archive = archive
        self.fetcher = fetcher
    }

    func bytes(sessionID: String, messageID: String, maxBytes: Int) async -> MediaArchive.StoredMedia? {
        await archive.inlineBytes(sessionID: sessionID, messageID: messageID, maxBytes: maxBytes, fetcher: await fetcher(sessionID))
    }
}

/// Media in `message.received` and `message.sent` bodies (reference 5.2): OpenWA puts a
/// message's media in as base64 `data` up to `WEBHOOK_MEDIA_INLINE_MAX_BYTES` and sends the
/// omitted marker above it. The event is committed with its message, before any download, so the
/// outbox row holds the marker; the bytes go in when the row is delivered, and only into the body
/// sent (the row keeps the marker, so a restart or a retry reads the media again).
enum WebhookMediaInlining {
    private static let events: Set<String> = ["message.received", "message.sent"]
    private static let marker = Array(#""omitted":true"#.utf8)

    /// Whether a row may get its media put in; cheap enough for the reactor thread (only message
    /// events are searched, from the end, where the marker is). A marker inside a text cannot
    /// match: its quotes are escaped there.
    static func wants(_ row: OutboxRow, limit: Int) -> Bool {
        limit > 0 && events.contains(row.event)
            && row.body.utf8.withContiguousStorageIfAvailable { contains($0, marker) } ?? false
    }

    /// The row's body with the media's bytes put in; the body as it is when the media is over
    /// `limit`, cannot be had (not stored and downloads are off, expired, a failed download), or
    /// the body would grow past `maxPayloadBytes` (OpenWA sheds media then). Nonisolated and
    /// async, so it runs on the global executor: the parsing and base64 stay off the reactor.
    static func body(of row: OutboxRow, source: WebhookMediaSource, limit: Int, maxPayloadBytes: Int) async -> String {
        guard let envelope = try? JSONParser.parse(Array(row.body.utf8)), let data = envelope["data"],
            let media = data["media"], media["omitted"]?.boolValue == true, let messageID = data["id"]?.stringValue
        else { return row.body }
        if let size = media["sizeBytes"]?.intValue, size > limit { return row.body }
        guard let stored = await source.bytes(sessionID: row.sessionId, messageID: messageID, maxBytes: limit) else {
            return row.body
        }
        var inline: JSONValue = ["mimetype": media["mimetype"] ?? .string(stored.mimetype)]
        if let filename = media["filename"] { inline = inline.setting("filename", filename) }
        inline = inline.setting("data", .string(Data(stored.bytes).base64EncodedString()))
        inline = inline.setting("sizeBytes", .number(Double(stored.bytes.count)))
        let body = JSONWriter.string(envelope.setting("data", data.setting("media", inline)))
        return body.utf8.count <= maxPayloadBytes ? body : row.body
    }

    private static func contains(_ haystack: UnsafeBufferPointer<UInt8>, _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count, let first = needle.first else { return false }
        // The marker sits in the media object, after the message's fields: search from the end.
        var index = haystack.count - needle.count
        while index >= 0 {
            if haystack[index] == first, needle.indices.allSatisfy({ haystack[index + $0] == needle[$0] }) { return true }
            index -= 1
        }
        return false
    }
}
