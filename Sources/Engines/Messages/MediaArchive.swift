import Foundation
import Logging
import Persistence
import Reactor
import Synchronization

/// The media of stored messages (reference 4.5): the downloaded bytes go to the configured media
/// storage (local files or S3) under `<session>/<message id><ext>`, and the message row gets
/// `mediaPath`/`mediaMimetype`. Inbound downloads share one gate of `INBOUND_MEDIA_CONCURRENCY`.
package final class MediaArchive: Sendable {
    package struct Settings: Sendable {
        /// `MEDIA_DOWNLOAD_ENABLED`: download inbound media as it arrives.
        package var downloadEnabled = true
        /// `MEDIA_DOWNLOAD_MAX_BYTES`: larger media is not downloaded.
        package var maxBytes = 52_428_800
        /// `MEDIA_DOWNLOAD_TIMEOUT_MS`.
        package var timeoutMilliseconds = 30_000
        /// `INBOUND_MEDIA_CONCURRENCY`: downloads in flight at once, across sessions.
        package var concurrency = 4
        /// `MESSAGE_LIST_INLINE_MEDIA_BUDGET_BYTES`: stored media bytes one message list response
        /// may carry inline (base64); the rest is marked omitted.
        package var listInlineBudgetBytes = 8 << 20

        package init() {}
    }

    /// A message's stored media, read back for the media route.
    package struct StoredMedia: Sendable {
        package var bytes: [UInt8]
        package var mimetype: String
        package var filename: String?
    }

    package let settings: Settings
    package let storage: any MediaStorage
    let store: SQLMessageStore
    let gate: AsyncGate
    let logger: Logger
    /// Runs the file I/O of media served from a storage without files of its own (S3).
    let workers: WorkerPool
    /// Transfers into storage in flight (downloads, our own sends' bytes), by session and message
    /// id, each with the token that lets only its own task remove it.
    let transfers = Mutex<(next: UInt64, running: [String: (token: UInt64, task: Task<Bool, Never>)])>((0, [:]))

    package init(database: any SQLDatabase, storage: any MediaStorage, settings: Settings, workers: WorkerPool, logger: Logger) {
        self.store = SQLMessageStore(database: database)
        self.storage = storage
        self.settings = settings
        self.workers = workers
        self.gate = AsyncGate(limit: max(1, settings.concurrency))
        self.logger = logger
    }

    /// Runs a download while holding one of the `INBOUND_MEDIA_CONCURRENCY` slots.
    package func limited<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        await gate.enter()
        do {
            let value = try await body()
            await gate.leave()
            return value
        } catch {
            await gate.leave()
            throw error
        }
    }

    /// Starts `work` (a transfer of the message's media into storage, true once stored) unless
    /// one for the same message is in flight already, and returns the running transfer: two of
    /// one message would fetch it twice and write the same key at once. Registered before this
    /// returns, so a later caller always finds it.
    @discardableResult
    package func transfer(sessionID: String, messageID: String, _ work: @escaping @Sendable () async -> Bool) -> Task<Bool, Never> {
        let key = sessionID + "\u{0}" + messageID
        return transfers.withLock { state in
            if let existing = state.running[key] { return existing.task }
            state.next += 1
            let token = state.next
            // The task's own removal waits for this lock, so it always finds its entry in place.
            let task = Task {
                let stored = await work()
                self.transfers.withLock { state in
                    if state.running[key]?.token == token { state.running[key] = nil }
                }
                return stored
            }
            state.running[key] = (token, task)
            return task
        }
    }

    /// `transfer`, waited for.
    package func coalesced(sessionID: String, messageID: String, _ work: @escaping @Sendable () async -> Bool) async -> Bool {
        await transfer(sessionID: sessionID, messageID: messageID, work).value
    }

    /// Stores a message's decrypted media and points its row at it; returns the storage key.
    @discardableResult
    package func save(sessionID: String, messageID: String, mimetype: String, bytes: [UInt8]) async throws -> String {
        try await save(sessionID: sessionID, messageID: messageID, mimetype: mimetype) { key in
            try await self.storage.put(key: key, contentType: mimetype, bytes: bytes)
        }
    }

    /// Stores through `put` under the message's key, then points the row at it.
    func save(
        sessionID: String, messageID: String, mimetype: String, put: (String) async throws -> Void
    ) async throws -> String {
        let key = Self.key(sessionID: sessionID, messageID: messageID, mimetype: mimetype)
        try await put(key)
        guard try await store.setMedia(sessionID: sessionID, waMessageID: messageID, path: key, mimetype: mimetype) else {
            // The message went meanwhile (chat deleted): its media must not linger.
            try? await storage.delete(key: key)
            return key
        }
        return key
    }

    /// Notes on the row why the media is absent; the message itself stays as it is.
    /// Removes stored media whose rows are gone; a key that cannot be removed is logged and left.
    package func discard(_ keys: [String]) async {
        for key in Set(keys) {
            do {
                try await storage.delete(key: key)
            } catch {
                logger.warning("stored media not removed", metadata: ["key": "\(key)", "error": "\(error)"])
            }
        }
    }

    package func failed(sessionID: String, messageID: String, reason: String) async {
        logger.warning("media not stored", metadata: ["session.id": "\(sessionID)", "message.id": "\(messageID)", "reason": "\(reason)"])
        _ = try? await store.setMediaFailure(sessionID: sessionID, waMessageID: messageID, reason: reason)
    }

    /// The row's media facts; nil when the session has no such message.
    package func row(sessionID: String, messageID: String) async throws -> SQLMessageStore.MediaRow? {
        try await store.mediaRow(sessionID: sessionID, waMessageID: messageID)
    }

    /// The stored bytes of a row that has them.
    package func read(_ row: SQLMessageStore.MediaRow) async throws -> StoredMedia? {
        guard let path = row.mediaPath else { return nil }
        let bytes: [UInt8]
        do { bytes = try await storage.getBytes(key: path) } catch let error as PersistenceError where error.resultCode == 404 {
            return nil
        }
        return StoredMedia(
            bytes: bytes, mimetype: row.mediaMimetype ?? "application/octet-stream",
            filename: row.metadata?["media"]?["filename"]?.stringValue)
    }

    /// A message's stored media as the media route serves it: a file streamed from disk (local
    /// storage's own file, or an S3 object spooled to a file a range at a time).
    package struct ServedMedia: Sendable {
        package var file: HTTPResponseFile
        package var mimetype: String
        package var filename: String?
    }

    /// A message's media for the media route: from storage, or fetched on demand through the
    /// session's engine when the row has media facts but no bytes yet. Nil when the message is
    /// not in that chat or has no media to give.
    package func media(
        sessionID: String, chatID: String, messageID: String, fetcher: (any MediaFetchingEngine)?
    ) async throws -> ServedMedia? {
        guard let row = try await row(sessionID: sessionID, messageID: messageID), row.chatID == chatID else { return nil }
        if let stored = try await serve(row) { return stored }
        guard row.metadata?["media"] != nil, row.type != "revoked", let fetcher,
            (try? await fetcher.fetchMedia(messageID: messageID)) == true,
            let fetched = try await self.row(sessionID: sessionID, messageID: messageID)
        else { return nil }
        return try await serve(fetched)
    }

    /// A message's media bytes for an event body (a webhook's `media.data`), when they are at
    /// most `maxBytes`: from storage, or downloaded first while downloads are on. Nil otherwise,
    /// and for messages without media or revoked ones.
    package func inlineBytes(
        sessionID: String, messageID: String, maxBytes: Int, fetcher: (any MediaFetchingEngine)?
    ) async -> StoredMedia? {
        guard var row = try? await row(sessionID: sessionID, messageID: messageID), let media = row.metadata?["media"],
            row.type != "revoked"
        else { return nil }
        if let size = media["sizeBytes"]?.intValue, size > maxBytes { return nil }
        // A download that failed is not tried again for an event body (the media route still
        // does): an expired blob would cost a re-upload request per webhook and per retry.
        if row.mediaPath == nil, media["downloadError"] != nil { return nil }
        if row.mediaPath == nil {
            guard settings.downloadEnabled, let fetcher, (try? await fetcher.fetchMedia(messageID: messageID)) == true,
                let fetched = try? await self.row(sessionID: sessionID, messageID: messageID)
            else { return nil }
            row = fetched
        }
        guard let stored = try? await read(row), stored.bytes.count <= maxBytes else { return nil }
        return stored
    }

    /// The stored media of a row that has it, as a file: the storage's own, or a spooled copy.
    private func serve(_ row: SQLMessageStore.MediaRow) async throws -> ServedMedia? {
        guard let path = row.mediaPath else { return nil }
        let mimetype = row.mediaMimetype ?? "application/octet-stream"
        let filename = row.metadata?["media"]?["filename"]?.stringValue
        let file: HTTPResponseFile
        do {
            if let own = try await storage.servingFile(key: path) { file = own } else { file = try await spooled(key: path) }
        } catch let error as PersistenceError where error.resultCode == 404 {
            return nil
        }
        return ServedMedia(file: file, mimetype: mimetype, filename: filename)
    }

    /// `<session>/<message id><ext>`, with anything but letters, digits, `-` and `_` dropped from
    /// the id so a key can never leave the session's folder.
    static func key(sessionID: String, messageID: String, mimetype: String) -> String {
        let safe: (String) -> String = { String($0.unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) && $0.isASCII || $0 == "-" || $0 == "_" }) }
        let id = safe(messageID)
        return "\(safe(sessionID))/\(id.isEmpty ? "media" : id)\(Self.fileExtension(mimetype))"
    }

    static func fileExtension(_ mimetype: String) -> String {
        let base = mimetype.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        let known: [String: String] = [
            "image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "image/gif": ".gif", "video/mp4": ".mp4",
            "video/3gpp": ".3gp", "audio/ogg": ".ogg", "audio/mpeg": ".mp3", "audio/mp4": ".m4a", "audio/aac": ".aac",
            "application/pdf": ".pdf", "text/plain": ".txt",
        ]
        return known[base] ?? ".bin"
    }
}

/// At most `limit` holders at once; the others wait in order.
actor AsyncGate {
    private let limit: Int
    private var holders = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) { self.limit = limit }

    func enter() async {
        if holders < limit {
            holders += 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func leave() {
        if waiting.isEmpty {
            holders -= 1
        } else {
            waiting.removeFirst().resume()  // the slot passes straight to the next waiter
        }
    }
}
