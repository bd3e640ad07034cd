import API
import Engines
import Persistence
import Reactor
import Synchronization
import TestSupport

/// The rate-limit, metrics and audit options of a `TestGateway`. Everything is off by default,
/// so suites that do not test limits can send as many requests as they like.
struct TestLimits: Sendable {
    /// The throttler windows; nil turns rate limiting off.
    var rateLimits: [RateLimitWindow]? = nil
    /// Count in this Redis server instead of in memory.
    var redis: RedisConfiguration? = nil
    /// The clock of the counters (wall-clock milliseconds unless a test drives it).
    var clock = TestMilliseconds()
    /// `METRICS_TOKEN`; nil disables `GET /api/metrics`.
    var metricsToken: String? = nil
    var loopLagIntervalMilliseconds = 50
    /// `AUDIT_RETENTION_DAYS`; 0 runs no sweep.
    var auditRetentionDays = 0
    /// Rows written before the retention sweep of startup.
    var auditSeed: [AuditRecord] = []
    var onRetentionSweep: @Sendable (Int) -> Void = { _ in }
    /// The media cap, download deadline and SSRF policy of the send routes.
    var media = MediaDownloader.Settings()
    /// `TEMPLATE_RENDER_MAX_CHARS`.
    var templateRenderMaxCharacters = 65_536
    /// `BULK_MAX_CONCURRENT_BATCHES` and how long a batch waits for its session.
    var bulk = BulkSender.Settings()
    /// `SIMULATE_TYPING`: off here (OpenWA's default is on), so the suites' sends do not wait.
    var typing = TypingSimulation(enabled: false)

    func makeLimiter(_ windows: [RateLimitWindow], redis client: RedisClient?) -> RateLimiter {
        let clock = self.clock
        let now: MillisecondClock = { clock.now }
        if let client {
            let counter = RedisRateLimitCounter(
                client: client, keyPrefix: "openwa-test:\(UInt64.random(in: 0...UInt64.max)):", clock: now,
                logger: quietLogger)
            return RateLimiter(
                windows: windows,
                storage: .shared { key, window in
                    let hit = await counter.increment(key: key, windowMilliseconds: window)
                    return RateLimitCount(count: hit.count, resetAtMilliseconds: hit.resetAtMilliseconds)
                }, clock: now)
        }
        let counter = InMemoryRateLimitCounter(clock: now)
        return RateLimiter(
            windows: windows,
            storage: .local { key, window in
                let hit = counter.incrementNow(key: key, windowMilliseconds: window)
                return RateLimitCount(count: hit.count, resetAtMilliseconds: hit.resetAtMilliseconds)
            }, clock: now)
    }
}

/// A millisecond clock a test moves by hand; starts at an aligned second plus 100 ms, so a
/// test knows where the window boundaries are.
final class TestMilliseconds: Sendable {
    private let value = Mutex<Int64>(1_700_000_000_100)

    var now: Int64 { value.withLock { $0 } }

    func advance(_ milliseconds: Int64) {
        value.withLock { $0 += milliseconds }
    }
}
