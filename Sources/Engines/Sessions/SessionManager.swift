import Foundation
import Logging
import Persistence
import Reactor

/// The registry of sessions and their live engines: lifecycle operations, status transitions
/// from engine events, persistence of what must survive a restart, and the events that
/// webhooks and the real-time channel deliver (reference section 3).
///
/// An actor on the reactor's executor: its state is only touched there, in order.
package actor SessionManager {
    /// One session's live part.
    struct Live {
        var engine: (any WhatsAppEngine)?
        var qr: String?
        var lastError: String?
        var events: Task<Void, Never>?
        /// The status as last set by this manager, and since when (the watchdog's view).
        var status = SessionStatus.initializing
        var statusSince = Date()
    }

    nonisolated let handle: ReactorHandle
    package nonisolated var unownedExecutor: UnownedSerialExecutor { handle.asUnownedSerialExecutor() }

    let store: any SessionStore
    let authState: any AuthStateStore
    let engines: (any WhatsAppEngineFactory)?
    /// The engine this gateway's sessions run; nil when this build cannot drive it.
    package nonisolated var engineType: EngineType? { engines?.engineType }
    let bus: EventBus
    let audit: (any AuditLogStore)?
    let maxConcurrentSessions: Int
    let logger: Logger
    let now: @Sendable () -> Date
    var live: [String: Live] = [:]
    var watchdog: Task<Void, Never>?

    /// - Parameters:
    ///   - engines: nil when this build cannot drive the configured engine type (starts get 501).
    ///   - maxConcurrentSessions: 0 = unlimited (`MAX_CONCURRENT_SESSIONS`).
    /// Where messages an engine reports as events (the browser engine) are stored; the native
    /// engine commits its own before acknowledging them.
    let messages: (any MessageSink)?

    package init(
        handle: ReactorHandle, store: any SessionStore, authState: any AuthStateStore, engines: (any WhatsAppEngineFactory)?,
        bus: EventBus, audit: (any AuditLogStore)?, maxConcurrentSessions: Int, logger: Logger,
        messages: (any MessageSink)? = nil, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.handle = handle
        self.messages = messages
        self.store = store
        self.authState = authState
        self.engines = engines
        self.bus = bus
        self.audit = audit
        self.maxConcurrentSessions = maxConcurrentSessions
        self.logger = logger
        self.now = now
    }

    // MARK: - Queries

    package func list(limit: Int, offset: Int, name: String?, allowed: [String]?) async throws -> [Session] {
        let records = try await guarded { try await self.store.list(limit: limit, offset: offset, name: name) }
        return records.filter { allowed == nil || allowed!.contains($0.id) }.map(view)
    }

    package func get(id: String) async throws -> Session {
        view(try await record(id))
    }

    /// Counts by status (OpenWA's `GET /api/sessions/stats/overview`).
    package func statistics(allowed: [String]?) async throws -> [SessionStatus: Int] {
        guard allowed == nil else {
            let sessions = try await list(limit: 1_000_000, offset: 0, name: nil, allowed: allowed)
            return sessions.reduce(into: [:]) { $0[$1.status, default: 0] += 1 }
        }
        // Unscoped: the database counts, so polling the overview stays cheap with many sessions.
        let counts = try await guarded { try await self.store.countByStatus() }
        return counts.reduce(into: [:]) { result, entry in
            if let status = SessionStatus(rawValue: entry.key) { result[status, default: 0] += entry.value }
        }
    }

    /// Sessions with an engine loaded on this node (their links are live or reconnecting).
    package func liveEngineCount() -> Int {
        live.values.reduce(0) { $0 + ($1.engine == nil ? 0 : 1) }
    }

    /// The current linking string, while one is shown.
    package func qr(id: String) async throws -> (qr: String, status: SessionStatus) {
        let session = try await get(id: id)
        guard let state = live[id], state.engine != nil else { throw EngineError.invalid("Session is not started") }
        if session.status == .ready || session.status == .authenticating {
            throw EngineError.invalid("Session is already authenticated")
        }
        guard let qr = state.qr, session.status == .qrReady else { throw EngineError.invalid("QR code is not ready yet") }
        return (qr, session.status)
    }

    // MARK: - Lifecycle

    package func create(name: String, config: SessionConfig, proxyUrl: String?) async throws -> Session {
        let timestamp = now()
        let record = SessionRecord(
            id: UUID().uuidString.lowercased(), name: name, config: JSONWriter.string(config.json), proxyUrl: proxyUrl,
            createdAt: timestamp, updatedAt: timestamp)
        do {
            try await guarded { try await self.store.insert(record) }
        } catch let error as EngineError where error.kind == .conflict {
            throw EngineError.conflict("Session with name '\(name)' already exists")
        }
        await audit("session_created", record)
        return view(record)
    }

    package func updateConfig(id: String, _ change: (inout SessionConfig) -> Void) async throws -> SessionConfig {
        var current = try await record(id)
        var config = SessionConfig(json: current.config)
        change(&config)
        current.config = JSONWriter.string(config.json)
        current.updatedAt = now()
        try await save(current)
        await audit("session_config_updated", current)
        return config
    }

    package func delete(id: String) async throws {
        let current = try await record(id)
        await teardown(id)
        try await guarded { try await self.authState.wipe(sessionID: id) }
        try await guarded { _ = try await self.store.delete(id: id) }
        live[id] = nil
        // Internal (not in the webhook catalogue): the session's webhooks and their outbox go too.
        publish("session.deleted", id, ["sessionId": .string(id)])
        await audit("session_deleted", current)
    }
}
