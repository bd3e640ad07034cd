import API
import Engines
import Logging
import Persistence
import Reactor

/// The gateway's rate limiter, metrics and audit log, built from the configuration: the
/// throttler counts live in Redis when `REDIS_ENABLED=true` (fail-open) and in memory otherwise.
struct GatewayObservability: Sendable {
    let audit: AuditService
    let registry: MetricsRegistry
    let loopLag: LoopLagProbe
    let metrics: HTTPMetrics
    let rateLimiter: RateLimiter
    /// Set when the throttler counts live in Redis; closed at shutdown.
    let redis: RedisClient?

    init(
        configuration: GatewayConfiguration, main: any SQLDatabase, workers: WorkerPool, handle: ReactorHandle,
        logger: Logger
    ) {
        audit = AuditService(store: SQLAuditLogStore(database: main), logger: logger)
        registry = MetricsRegistry()
        loopLag = LoopLagProbe()
        metrics = HTTPMetrics(registry: registry, handle: handle)
        let windows = configuration.observability.rateLimits
        let clock = WallClock.milliseconds
        if let redisConfiguration = configuration.redis {
            let client = RedisClient(configuration: redisConfiguration, handle: handle, logger: logger)
            let counter = RedisRateLimitCounter(client: client, clock: clock, logger: logger)
            redis = client
            rateLimiter = RateLimiter(
                windows: windows,
                storage: .shared { key, window in
                    let hit = await counter.increment(key: key, windowMilliseconds: window)
                    return RateLimitCount(count: hit.count, resetAtMilliseconds: hit.resetAtMilliseconds)
                }, clock: clock)
        } else {
            let counter = InMemoryRateLimitCounter(clock: clock)
            redis = nil
            rateLimiter = RateLimiter(
                windows: windows,
                storage: .local { key, window in
                    let hit = counter.incrementNow(key: key, windowMilliseconds: window)
                    return RateLimitCount(count: hit.count, resetAtMilliseconds: hit.resetAtMilliseconds)
                }, clock: clock)
        }
    }

    /// Registers the standard series; call once the session manager exists.
    func registerStandardMetrics(workers: WorkerPool, sessions: SessionManager, statsCacheMilliseconds: Int) {
        GatewayMetrics.register(
            in: registry,
            GatewayMetrics.Sources(
                workers: workers, loopLag: loopLag, sessions: sessions, statsCacheMilliseconds: statsCacheMilliseconds))
    }
}
