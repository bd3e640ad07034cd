import Foundation
import Logging
import Persistence

/// Runs bulk sends (reference 2.5 `send-bulk`): each batch is a row of `message_batches`,
/// committed before the 202, and its messages go out one at a time with the batch's pause
/// between them. Progress is written after every message, so a batch survives a restart and
/// resumes where it stopped. An item is claimed (`current_index` advanced) before it goes out:
/// one that a crash interrupted mid-send is reported failed with `OUTCOME_UNKNOWN` and never
/// sent twice.
package actor BulkSender {
    package struct Settings: Sendable {
        /// `BULK_MAX_CONCURRENT_BATCHES`: batches pending or running at once in this process.
        package var maxConcurrentBatches = 50
        /// How long a message waits for its session to be ready (a reconnect, a boot) before it
        /// is tried anyway and fails.
        package var readyWaitMilliseconds = 60_000

        package init() {}
    }

    private let store: SQLBatchStore
    private let sessions: SessionManager
    private let media: MediaDownloader?
    private let settings: Settings
    private let logger: Logger
    private var running: [String: Task<Void, Never>] = [:]
    /// Every batch this process launched: a boot's resume never starts one of them again, even
    /// when its stored row was read before the batch finished.
    private var launched: Set<String> = []
    /// Submissions between their limit check and their launch (the insert is awaited between).
    private var reserved = 0
    private var sleepers: [String: Task<Void, Never>] = [:]
    private var cancelRequested: Set<String> = []
    private var stopping = false

    package init(store: SQLBatchStore, sessions: SessionManager, media: MediaDownloader?, settings: Settings, logger: Logger) {
        self.store = store
        self.sessions = sessions
        self.media = media
        self.settings = settings
        self.logger = logger
    }

    /// A deleted session's batches stop and go.
    nonisolated package func follow(_ bus: EventBus) {
        bus.subscribe { [weak self] event in
            guard event.name == "session.deleted", let self else { return }
            let session = event.sessionID
            Task { await self.forget(sessionId: session) }
        }
    }

    // MARK: - Routes

    package func submit(sessionId: String, batchId: String, items: [BulkItem], options: BulkOptions) async throws -> BulkBatch {
        guard running.count + reserved < settings.maxConcurrentBatches else {
            throw EngineError.tooMany("Too many bulk batches are running (BULK_MAX_CONCURRENT_BATCHES=\(settings.maxConcurrentBatches))")
        }
        reserved += 1
        defer { reserved -= 1 }
        var unique: [BulkItem] = []
        var seen: Set<BulkItem> = []
        for item in items where seen.insert(item).inserted { unique.append(item) }
        let stamp = Date()
        let state = BatchState(
            record: BatchRecord(
                id: UUID().uuidString.lowercased(), batchId: batchId, sessionId: sessionId, status: BulkBatch.Status.pending.rawValue,
                messages: "", options: "", progress: "", results: "[]", currentIndex: 0, createdAt: stamp, updatedAt: stamp),
            items: unique, options: options, progress: BulkProgress(total: unique.count), results: [])
        var record = try state.encoded()
        record.messages = try BatchState.json(unique)
        record.options = try BatchState.json(options)
        do {
            try await store.insert(record)
        } catch let error as PersistenceError where error.isConstraintViolation {
            throw EngineError.invalid("Batch with id '\(batchId)' already exists")
        } catch let error as PersistenceError where error.isUnavailable {
            throw EngineError.unavailable("Data database is unavailable")
        }
        state.record = record
        launch(state)
        return state.view
    }

    package func get(sessionId: String, batchId: String) async throws -> BulkBatch {
        try BatchState.decode(try await find(sessionId: sessionId, batchId: batchId)).view
    }

    /// Stops a batch before its next message; a message already on its way finishes first.
    package func cancel(sessionId: String, batchId: String) async throws -> BulkBatch {
        let key = Self.key(sessionId: sessionId, batchId: batchId)
        // Checked before any await: a batch that finishes meanwhile must not be overwritten.
        if let task = running[key] { return try await stop(task, key: key, sessionId: sessionId, batchId: batchId) }
        let record = try await find(sessionId: sessionId, batchId: batchId)
        if let task = running[key] { return try await stop(task, key: key, sessionId: sessionId, batchId: batchId) }
        let state = try BatchState.decode(record)
        guard !state.view.isTerminal else { throw EngineError.invalid("Batch '\(batchId)' is already \(record.status)") }
        // Unfinished but not running here (not resumed yet): never started again once cancelled.
        launched.insert(key)
        state.settleInterrupted()
        state.finish(.cancelled)
        do {
            try await save(state)
        } catch let error as PersistenceError where error.isUnavailable {
            throw EngineError.unavailable("Data database is unavailable")
        }
        return state.view
    }

    private func stop(_ task: Task<Void, Never>, key: String, sessionId: String, batchId: String) async throws -> BulkBatch {
        cancelRequested.insert(key)
        sleepers[key]?.cancel()
        await task.value
        return try await get(sessionId: sessionId, batchId: batchId)
    }

    // MARK: - Lifecycle

    /// Picks up the batches a previous run left unfinished.
    package func resumeUnfinished() async {
        let records: [BatchRecord]
        do {
            records = try await store.unfinished()
        } catch {
            return logger.error("bulk batches not resumed", metadata: ["error": "\(error)"])
        }
        for record in records where !launched.contains(Self.key(record)) {
            do {
                launch(try BatchState.decode(record))
            } catch {
                logger.error("bulk batch not resumed", metadata: ["batch": "\(record.batchId)", "error": "\(error)"])
            }
        }
    }

    /// Stops every batch between two messages and leaves it unfinished for the next boot.
    package func shutdown() async {
        stopping = true
        for sleeper in sleepers.values { sleeper.cancel() }
        for task in running.values { await task.value }
    }

    private func forget(sessionId: String) async {
        for (key, task) in running where key.hasPrefix(Self.key(sessionId: sessionId, batchId: "")) {
            cancelRequested.insert(key)
            sleepers[key]?.cancel()
            await task.value
        }
        try? await store.deleteAll(sessionId: sessionId)
    }

    private func find(sessionId: String, batchId: String) async throws -> BatchRecord {
        let record: BatchRecord?
        do {
            record = try await store.find(sessionId: sessionId, batchId: batchId)
        } catch let error as PersistenceError where error.isUnavailable {
            throw EngineError.unavailable("Data database is unavailable")
        }
        guard let record else { throw EngineError.notFound("Batch with id '\(batchId)' not found") }
        return record
    }

    /// A batch's name in this process: its session and its id, which is unique only per session.
    private static func key(sessionId: String, batchId: String) -> String { sessionId + "\u{0}" + batchId }
    private static func key(_ record: BatchRecord) -> String { key(sessionId: record.sessionId, batchId: record.batchId) }

    private func launch(_ state: BatchState) {
        let key = Self.key(state.record)
        launched.insert(key)
        running[key] = Task { await self.run(state, key: key) }
    }

    // MARK: - Running

    private func run(_ state: BatchState, key: String) async {
        defer {
            running[key] = nil
            sleepers[key] = nil
            cancelRequested.remove(key)
        }
        state.settleInterrupted()
        if state.record.startedAt == nil { state.start() }
        guard await persisted(state, key: key) else { return }
        while state.record.currentIndex < state.items.count {
            let index = state.record.currentIndex
            if index > 0 { await pause(state.options, key: key) }
            if stopping { return }
            if cancelRequested.contains(key) {
                state.finish(.cancelled)
                _ = await persisted(state, key: key)
                return
            }
            await waitUntilReady(state.record.sessionId, key: key)
            if stopping || cancelRequested.contains(key) { continue }
            // Claimed before it goes: a crash from here on leaves it counted without a result.
            state.record.currentIndex = index + 1
            guard await persisted(state, key: key) else { return }
            let result = await send(state.items[index], sessionId: state.record.sessionId)
            state.add(result)
            if result.status == "failed", state.options.stopOnError { state.finish(.failed) }
            guard await persisted(state, key: key) else { return }
            if state.view.isTerminal { return }
        }
        state.finish(.completed)
        _ = await persisted(state, key: key)
    }

    /// Writes the batch, retrying while the database is away; false when stopping first.
    private func persisted(_ state: BatchState, key: String) async -> Bool {
        var delay = 250
        while true {
            do {
                try await save(state)
                return true
            } catch {
                logger.warning("bulk batch progress not saved; retrying", metadata: ["batch": "\(state.record.batchId)", "error": "\(error)"])
            }
            if stopping { return false }
            // Not cut short by a cancel: that waits for this write like any other.
            await sleep(milliseconds: delay, key: key + "\u{1}retry")
            delay = min(delay * 2, 5_000)
        }
    }

    private func save(_ state: BatchState) async throws {
        var record = try state.encoded()
        record.updatedAt = Date()
        state.record.updatedAt = record.updatedAt
        try await store.update(record)
    }

    private func pause(_ options: BulkOptions, key: String) async {
        let extra = options.randomizeDelay ? Int.random(in: 0...BulkOptions.randomExtraMilliseconds) : 0
        await sleep(milliseconds: options.delayBetweenMessages + extra, key: key)
    }

    /// A sleep that `cancel` and `shutdown` cut short.
    private func sleep(milliseconds: Int, key: String) async {
        let sleeper = Task { _ = try? await Task.sleep(for: .milliseconds(milliseconds)) }
        sleepers[key] = sleeper
        if stopping || cancelRequested.contains(key) { sleeper.cancel() }
        await sleeper.value
        sleepers[key] = nil
    }

    /// Waits while the session is on its way to ready (connecting, logging in, reconnecting);
    /// a session that is stopped or needs its QR scanned is not waited for.
    private func waitUntilReady(_ sessionId: String, key: String) async {
        let deadline = ContinuousClock.now + .milliseconds(settings.readyWaitMilliseconds)
        let transitional: Set<SessionStatus> = [.initializing, .authenticating, .disconnected]
        while ContinuousClock.now < deadline, !stopping, !cancelRequested.contains(key) {
            guard let session = try? await sessions.get(id: sessionId), transitional.contains(session.status) else { return }
            await sleep(milliseconds: 250, key: key)
        }
    }

    private func send(_ item: BulkItem, sessionId: String) async -> BulkResult {
        do {
            let message = try await BulkMessageBuilder(media: media).message(for: item)
            let sent = try await sessions.send(id: sessionId, message)
            return BulkResult(chatId: item.chatId, status: "sent", messageId: sent.messageID, sentAt: Date())
        } catch let error as EngineError {
            return BulkResult(chatId: item.chatId, status: "failed", error: .init(code: Self.code(error.kind), message: error.message))
        } catch {
            return BulkResult(chatId: item.chatId, status: "failed", error: .init(code: "SEND_FAILED", message: "\(error)"))
        }
    }

    private static func code(_ kind: EngineError.Kind) -> String {
        switch kind {
        case .notFound: "NOT_FOUND"
        case .conflict: "CONFLICT"
        case .invalid: "BAD_REQUEST"
        case .forbidden: "FORBIDDEN"
        case .unavailable: "UNAVAILABLE"
        case .notSupported: "NOT_SUPPORTED"
        case .tooLarge: "PAYLOAD_TOO_LARGE"
        case .tooMany: "TOO_MANY_REQUESTS"
        }
    }
}
