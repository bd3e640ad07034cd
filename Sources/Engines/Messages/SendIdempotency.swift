import Foundation
import Persistence
import Reactor

/// OpenWA's `Idempotency-Key` on single sends (reference 2.5): a retried send with the same key,
/// route and body gets the first response back instead of sending twice.
package struct SendIdempotency: Sendable {
    /// Keys are held this long.
    static let retention: TimeInterval = 24 * 3_600
    /// A send still `pending` after this long is reported as an unknown outcome.
    static let pendingLimit: TimeInterval = 600

    /// What a claim found.
    package enum Claim: Sendable, Equatable {
        /// The key is ours: run the send, then `finish` or `release`.
        case claimed
        /// The same send finished before: answer this again.
        case replay(status: Int, body: String)
        case inProgress
        case outcomeUnknown
        /// The key was used for another route or body.
        case reused
    }

    private let store: SQLIdempotencyStore
    private let now: @Sendable () -> Date

    package init(database: any SQLDatabase, now: @escaping @Sendable () -> Date = { Date() }) {
        store = SQLIdempotencyStore(database: database)
        self.now = now
    }

    package func claim(sessionID: String, key: String, route: String, body: [UInt8]) async throws -> Claim {
        let hash = Crypto.hex(Crypto.sha256(body))
        let record = IdempotencyRecord(state: "pending", route: route, bodyHash: hash, createdAt: now())
        for _ in 0..<2 {
            if try await store.claim(sessionID: sessionID, key: key, record: record) { return .claimed }
            guard let held = try await store.find(sessionID: sessionID, key: key) else { continue }
            if now().timeIntervalSince(held.createdAt) > Self.retention {
                try await store.release(sessionID: sessionID, key: key)
                continue
            }
            guard held.route == route, held.bodyHash == hash else { return .reused }
            switch held.state {
            case "done": return .replay(status: held.statusCode ?? 201, body: held.response ?? "{}")
            case "pending" where now().timeIntervalSince(held.createdAt) <= Self.pendingLimit: return .inProgress
            default: return .outcomeUnknown
            }
        }
        return .inProgress
    }

    /// The send succeeded: later retries replay `body`.
    package func finish(sessionID: String, key: String, status: Int, body: String) async throws {
        try await store.finish(sessionID: sessionID, key: key, state: "done", statusCode: status, response: body)
    }

    /// The send failed after the engine was called: whether it went out is unknown.
    package func markUnknown(sessionID: String, key: String) async throws {
        try await store.finish(sessionID: sessionID, key: key, state: "unknown", statusCode: nil, response: nil)
    }

    /// The send was refused before anything went out: the key is free again.
    package func release(sessionID: String, key: String) async throws {
        try await store.release(sessionID: sessionID, key: key)
    }

    /// Forgets keys past their 24 hours.
    package func purgeExpired() async throws {
        try await store.purge(before: now().addingTimeInterval(-Self.retention))
    }
}
