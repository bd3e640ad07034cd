import Foundation
import Logging
import Synchronization

/// Milliseconds on a wall clock; the rate limiter and the work queue take one so tests can
/// drive them with a manual clock.
package typealias MillisecondClock = @Sendable () -> Int64

package enum WallClock {
    /// Milliseconds since 1970 (CLOCK_REALTIME), the default `MillisecondClock`.
    package static let milliseconds: MillisecondClock = {
        Int64((Date().timeIntervalSince1970 * 1_000).rounded(.down))
    }
}

/// Tracks whether a Redis-backed service is running on its in-memory fallback, so an outage logs
/// one warning (not one per call) and the recovery one line.
package final class RedisOutageNotice: Sendable {
    private let degraded = Mutex(false)
    private let service: String
    private let logger: Logger

    package init(service: String, logger: Logger) {
        self.service = service
        self.logger = logger
    }

    /// True while the service runs on its fallback.
    package var isDegraded: Bool { degraded.withLock { $0 } }

    func failed(_ error: any Error) {
        let first = degraded.withLock { degraded -> Bool in
            defer { degraded = true }
            return !degraded
        }
        if first {
            logger.warning(
                "Redis unavailable, \(service) falls back to in-memory", metadata: ["error": "\(error)"])
        }
    }

    func succeeded() {
        let wasDegraded = degraded.withLock { degraded -> Bool in
            defer { degraded = false }
            return degraded
        }
        if wasDegraded { logger.info("Redis is back, \(service) uses it again") }
    }
}
