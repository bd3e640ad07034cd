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

extension GatewayObservability {
    /// The webhook series: outbox depth, deliveries and dead letters, and the commit-to-delivery
    /// latency histogram (OpenWA's `openwa_webhook_delivery_failures_total` among them).
    func registerWebhookMetrics(_ webhooks: WebhookService) {
        let latency = registry.histogram(
            "openwa_webhook_delivery_latency_seconds", help: "Time from outbox commit to the receiver's 2xx.", labelNames: []
        ).labels()
        Task { await webhooks.observeDeliveries { latency.observe(Double($0.components.attoseconds) / 1e18 + Double($0.components.seconds)) } }
        registry.collect("openwa_webhook_outbox_pending", help: "Webhook deliveries waiting in the outbox.") {
            [MetricSample(Double((try? await webhooks.pendingCount()) ?? 0))]
        }
        registry.collect("openwa_webhook_deliveries_total", help: "Webhook deliveries answered 2xx.", kind: .counter) {
            [MetricSample(Double(await webhooks.deliveredCount))]
        }
        registry.collect(
            "openwa_webhook_delivery_failures_total", help: "Webhook deliveries dead-lettered after their attempts.", kind: .counter
        ) { [MetricSample(Double(await webhooks.deadCount))] }
    }
}
