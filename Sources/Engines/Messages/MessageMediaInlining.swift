import Foundation
import Persistence
import Reactor

/// Message media for webhook payloads (reference 5.2): OpenWA puts a message's media into
/// `message.received` and `message.sent` as base64 `data` up to `WEBHOOK_MEDIA_INLINE_MAX_BYTES`
/// and sends the omitted marker above it. Our events are committed with their messages, before
/// any download, so they carry the marker; a delivery asks here for the bytes: from media storage,
/// or downloaded through the session's engine (one transfer per message, shared with the automatic
/// download and the media route).
///
/// The real-time channel keeps the marker: it has no outbox row per listener, so it would fetch
/// (and maybe download) every media message's bytes whether or not any socket listens.
package struct MessageMediaSource: Sendable {
    let archive: MediaArchive
    let fetcher: @Sendable (_ sessionID: String) async -> (any MediaFetchingEngine)?

    package init(archive: MediaArchive, fetcher: @escaping @Sendable (_ sessionID: String) async -> (any MediaFetchingEngine)?) {
        self.archive = archive
        self.fetcher = fetcher
    }

    /// The events whose media may be put in.
    static let events: Set<String> = ["message.received", "message.sent"]

    /// Whether `event` is a message event whose media was left out.
    static func carriesOmittedMedia(_ event: GatewayEvent) -> Bool {
        events.contains(event.name) && event.data["media"]?["omitted"]?.boolValue == true
    }

    /// A message event's `data` with `media {mimetype, filename?, data, sizeBytes}` in place of
    /// the marker; nil when the media is over `limit` or cannot be had (downloads off, expired,
    /// a failed download). Nonisolated and async: the base64 runs on the global executor.
    func inlined(_ data: JSONValue, sessionID: String, limit: Int) async -> JSONValue? {
        guard limit > 0, let media = data["media"], media["omitted"]?.boolValue == true, let messageID = data["id"]?.stringValue
        else { return nil }
        if let size = media["sizeBytes"]?.intValue, size > limit { return nil }
        guard let stored = await archive.inlineBytes(
            sessionID: sessionID, messageID: messageID, maxBytes: limit, fetcher: await fetcher(sessionID))
        else { return nil }
        var inline: JSONValue = ["mimetype": media["mimetype"] ?? .string(stored.mimetype)]
        if let filename = media["filename"] { inline = inline.setting("filename", filename) }
        inline = inline.setting("data", .string(Data(stored.bytes).base64EncodedString()))
        inline = inline.setting("sizeBytes", .number(Double(stored.bytes.count)))
        return data.setting("media", inline)
    }
}

extension MediaArchive {
    /// A listed row with its inline bytes taken out again (marked omitted).
    static func withoutInlineMedia(_ row: JSONValue) -> JSONValue {
        guard let metadata = row["metadata"], let media = metadata["media"], media["data"] != nil,
            case .object(let fields) = media
        else { return row }
        let marked = JSONValue.object(fields.filter { $0.0 != "data" }).setting("omitted", true)
        return row.setting("metadata", metadata.setting("media", marked))
    }
}

/// Message media in webhook bodies (see `MessageMediaSource`): the outbox row holds the event
/// with the omitted marker; the bytes go in when the row is delivered, and only into the body
/// sent (the row keeps the marker, so a restart or a retry reads the media again).
enum WebhookMediaInlining {
    private static let marker = Array(#""omitted":true"#.utf8)

    /// Whether a row may get its media put in; cheap enough for the reactor thread (only message
    /// events are searched, from the end, where the marker is). A marker inside a text cannot
    /// match: its quotes are escaped there.
    static func wants(_ row: OutboxRow, limit: Int) -> Bool {
        limit > 0 && MessageMediaSource.events.contains(row.event)
            && row.body.utf8.withContiguousStorageIfAvailable { contains($0, marker) } ?? false
    }

    /// The row's body with the media's bytes put in; the body as it is when the media is over
    /// `limit`, cannot be had (not stored and downloads are off, expired, a failed download), or
    /// the body would grow past `maxPayloadBytes` (OpenWA sheds media then). Nonisolated and
    /// async, so it runs on the global executor: the parsing and base64 stay off the reactor.
    static func body(of row: OutboxRow, source: MessageMediaSource, limit: Int, maxPayloadBytes: Int) async -> String {
        // Base64 grows the bytes by a third: media that could not fit the payload is not fetched at all.
        let room = max(0, maxPayloadBytes - row.body.utf8.count) / 4 * 3
        guard let envelope = try? JSONParser.parse(Array(row.body.utf8)), let data = envelope["data"],
            let inlined = await source.inlined(data, sessionID: row.sessionId, limit: min(limit, room))
        else { return row.body }
        let body = JSONWriter.string(envelope.setting("data", inlined))
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

/// The message list's side (`GET …/messages?inlineMedia`, reference 2.5): OpenWA hands out the
/// stored media of the listed rows as base64 `metadata.media.data`, newest first, until the
/// response's `MESSAGE_LIST_INLINE_MEDIA_BUDGET_BYTES` is spent; the media of the other rows
/// (and of all rows with `inlineMedia=false`) is marked `omitted: true`. Only rows whose bytes
/// are in media storage (`mediaPath`) are touched: the list stays a read of what is stored.
extension MediaArchive {
    /// The list with media inline or marked; with any bytes inline it comes serialized as well,
    /// by a worker: a response of megabytes is too much JSON writing for the reactor.
    package func inliningMedia(of list: JSONValue, inline: Bool) async -> (value: JSONValue, serialized: [UInt8]?) {
        guard case .array(var messages)? = list["messages"] else { return (list, nil) }
        var inlined = false
        var budget = inline ? settings.listInlineBudgetBytes : 0
        for index in messages.indices {
            guard let path = messages[index]["mediaPath"]?.stringValue, let metadata = messages[index]["metadata"],
                let media = metadata["media"]
            else { continue }
            var bytes: [UInt8]?
            // Without a recorded size the object is not read at all: it could be anything up to the media cap.
            if budget > 0, let size = media["sizeBytes"]?.intValue, size <= budget, let read = try? await storage.getBytes(key: path),
                read.count <= budget
            {
                bytes = read
            }
            let updated: JSONValue
            if let bytes {
                budget -= bytes.count
                inlined = true
                // The base64 of megabytes is work for a worker, not for the reactor this route runs on.
                let encoded = (try? await workers.anyLane().run { Data(bytes).base64EncodedString() }) ?? ""
                updated = media.setting("data", .string(encoded))
            } else {
                updated = media.setting("omitted", true)
            }
            messages[index] = messages[index].setting("metadata", metadata.setting("media", updated))
        }
        let value = list.setting("messages", .array(messages))
        guard inlined else { return (value, nil) }
        // A worker that cannot take the job means shutdown: the bytes go, rather than megabytes of JSON on the reactor.
        guard let serialized = try? await workers.anyLane().run({ JSONWriter.bytes(value) }) else {
            return (list.setting("messages", .array(messages.map(Self.withoutInlineMedia))), nil)
        }
        return (value, serialized)
    }
}
