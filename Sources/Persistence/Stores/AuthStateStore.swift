import Synchronization

/// A session's WhatsApp credentials and keys (Noise key, identity, registration id, prekeys,
/// Signal sessions, sender keys, app-state keys) as opaque values under string keys.
///
/// They live in the data database, never in files, so a session can move to another node
/// without a new QR scan. Writes are batched and atomic: a half-written key set would leave a
/// session that can neither log in nor re-link.
package protocol AuthStateStore: Sendable {
    /// Every stored value of a session.
    func load(sessionID: String) async throws -> [String: [UInt8]]
    func value(sessionID: String, key: String) async throws -> [UInt8]?
    /// Writes all `changes` or none; a nil value deletes that key.
    func apply(sessionID: String, changes: [String: [UInt8]?]) async throws
    /// Deletes everything of a session (logout, unlink, delete).
    func wipe(sessionID: String) async throws
    /// The values whose keys start with `prefix` (say, the app-state keys among thousands of
    /// Signal records).
    func load(sessionID: String, prefix: String) async throws -> [String: [UInt8]]
}

extension AuthStateStore {
    package func load(sessionID: String, prefix: String) async throws -> [String: [UInt8]] {
        try await load(sessionID: sessionID).filter { $0.key.hasPrefix(prefix) }
    }
}

/// An in-memory `AuthStateStore`, for tests and the embedded simulator's own phones.
package final class InMemoryAuthStateStore: AuthStateStore {
    private let sessions = Mutex<[String: [String: [UInt8]]]>([:])

    package init() {}

    package func load(sessionID: String) async throws -> [String: [UInt8]] {
        sessions.withLock { $0[sessionID] ?? [:] }
    }

    package func value(sessionID: String, key: String) async throws -> [UInt8]? {
        sessions.withLock { $0[sessionID]?[key] }
    }

    package func apply(sessionID: String, changes: [String: [UInt8]?]) async throws {
        sessions.withLock { table in
            var values = table[sessionID] ?? [:]
            for (key, value) in changes { values[key] = value }
            table[sessionID] = values.isEmpty ? nil : values
        }
    }

    package func wipe(sessionID: String) async throws {
        _ = sessions.withLock { $0.removeValue(forKey: sessionID) }
    }
}
