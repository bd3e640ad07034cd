import Foundation
import Logging
import Persistence
import Reactor

extension SessionManager {
    /// Stops the engine (bounded) and forgets it; credentials stay.
    func teardown(_ id: String) async {
        guard let engine = live[id]?.engine else { return }
        live[id]?.engine = nil
        live[id]?.qr = nil
        live[id]?.events?.cancel()
        live[id]?.events = nil
        _ = await handle.withDeadline(milliseconds: 10_000) { await engine.stop() }
    }

    func record(_ id: String) async throws -> SessionRecord {
        guard let record = try await guarded({ try await self.store.find(id: id) }) else {
            throw EngineError.notFound("Session with id '\(id)' not found")
        }
        return record
    }

    func save(_ record: SessionRecord) async throws {
        try await guarded { _ = try await self.store.update(record) }
    }

    func transition(_ id: String, to status: SessionStatus) async throws {
        var current = try await record(id)
        guard current.status != status.rawValue else { return }
        current.status = status.rawValue
        current.updatedAt = now()
        try await save(current)
        noteStatus(id, status)
        publish("session.status", id, ["sessionId": .string(id), "status": .string(status.rawValue)])
    }

    /// Remembers a live session's status and when it began, for the watchdog.
    func noteStatus(_ id: String, _ status: SessionStatus) {
        guard live[id] != nil, live[id]?.status != status else { return }
        live[id]?.status = status
        live[id]?.statusSince = now()
    }

    func view(_ record: SessionRecord) -> Session {
        Session(record, lastError: live[record.id]?.lastError, engineLoaded: live[record.id]?.engine != nil)
    }

    func publish(_ name: String, _ id: String, _ data: JSONValue) {
        bus.publish(GatewayEvent(name: name, sessionID: id, data: data, timestamp: now()))
    }

    /// Audit rows are best effort: a failing audit write is logged, never fails the operation.
    func audit(_ action: String, _ session: SessionRecord) async {
        guard let audit else { return }
        let entry = AuditEntry(
            id: UUID().uuidString.lowercased(), action: action, severity: "info", sessionId: session.id,
            sessionName: session.name, createdAt: now())
        do { try await audit.append(entry) } catch {
            logger.warning("audit write failed", metadata: ["action": "\(action)", "error": "\(error)"])
        }
    }

    /// Store failures as domain errors: constraint -> 409, unreachable database -> 503.
    func guarded<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as PersistenceError {
            if error.isConstraintViolation { throw EngineError.conflict("A session with these values already exists") }
            if error.isUnavailable { throw EngineError.unavailable("Data database is unavailable") }
            throw error
        }
    }
}

/// Renders linking strings as OpenWA does: a PNG data URL.
package enum QRImage {
    package static func dataURL(_ text: String) -> String {
        guard let code = try? QRCode.encode(text) else { return "" }
        return PNGWriter.dataURL(for: code)
    }
}
