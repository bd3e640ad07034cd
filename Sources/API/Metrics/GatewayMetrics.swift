import Engines
import Foundation
import Reactor
import Synchronization

/// The gateway's standard series: OpenWA's names (reference 8.4) where we have the quantity,
/// plus the reactor's own (loop lag, worker backlog, live links). Registered once at wiring;
/// other features add theirs to the same registry.
package enum GatewayMetrics {
    package struct Sources: Sendable {
        package var workers: WorkerPool
        package var loopLag: LoopLagProbe
        package var sessions: SessionManager?
        /// How long the session counts (a database read) are reused (`STATS_CACHE_TTL_MS`).
        package var statsCacheMilliseconds: Int
        package var startedAt: Date

        package init(
            workers: WorkerPool, loopLag: LoopLagProbe, sessions: SessionManager?, statsCacheMilliseconds: Int = 30_000,
            startedAt: Date = Date()
        ) {
            self.workers = workers
            self.loopLag = loopLag
            self.sessions = sessions
            self.statsCacheMilliseconds = statsCacheMilliseconds
            self.startedAt = startedAt
        }
    }

    package static func register(in registry: MetricsRegistry, _ sources: Sources) {
        registry.gauge("openwa_up", help: "1 while the gateway is serving.") { 1 }
        let startedAt = sources.startedAt
        registry.gauge("openwa_process_uptime_seconds", help: "Seconds since the gateway started.") {
            Date().timeIntervalSince(startedAt)
        }
        registry.gauge("openwa_process_resident_memory_bytes", help: "Resident set size of the process.") {
            Double(ProcessMemory.residentBytes())
        }
        let lag = sources.loopLag
        registry.gauge(
            "openwa_event_loop_delay_p99_seconds", help: "99th percentile of the reactor's timer lateness over the last minute."
        ) { lag.p99Seconds }
        registry.gauge(
            "openwa_event_loop_delay_max_seconds", help: "Largest reactor timer lateness over the last minute."
        ) { lag.maxSeconds }
        registry.gauge("openwa_reactor_loop_lag_seconds", help: "Lateness of the reactor's most recent lag probe.") {
            lag.lastSeconds
        }
        let workers = sources.workers
        registry.gauge("openwa_worker_threads", help: "Lanes of the worker pool.") { Double(workers.size) }
        registry.gauge(
            "openwa_worker_queue_depth", help: "Work items submitted to the worker pool and not finished (queued or running)."
        ) { Double(workers.outstanding) }
        guard let sessions = sources.sessions else { return }
        registerSessions(in: registry, sessions, cacheMilliseconds: sources.statsCacheMilliseconds)
    }

    private static func registerSessions(in registry: MetricsRegistry, _ sessions: SessionManager, cacheMilliseconds: Int) {
        registry.collect("openwa_live_links", help: "Sessions with an engine loaded on this node.") {
            [MetricSample(Double(await sessions.liveEngineCount()))]
        }
        let counts = SessionCountCache(sessions: sessions, ttlMilliseconds: cacheMilliseconds)
        registry.collect("openwa_stats_available", help: "1 when the database-derived series below could be read.") {
            [MetricSample(await counts.current() == nil ? 0 : 1)]
        }
        registry.collect("openwa_sessions_total", help: "Sessions known to the data database.") {
            guard let byStatus = await counts.current() else { return [] }
            return [MetricSample(Double(byStatus.values.reduce(0, +)))]
        }
        registry.collect("openwa_sessions_active", help: "Sessions in a state where an engine should be running.") {
            guard let byStatus = await counts.current() else { return [] }
            return [MetricSample(Double(byStatus.filter { $0.key.isActive }.values.reduce(0, +)))]
        }
        registry.collect("openwa_sessions", help: "Sessions by status.", labelNames: ["status"]) {
            guard let byStatus = await counts.current() else { return [] }
            return SessionStatus.allCases.map { MetricSample(labels: [$0.rawValue], Double(byStatus[$0] ?? 0)) }
        }
    }
}

/// Session counts by status, read from the database at most once per TTL (OpenWA memoizes its
/// database-derived series for `STATS_CACHE_TTL_MS`); nil when the database cannot be read.
private final class SessionCountCache: Sendable {
    private let sessions: SessionManager
    private let ttlMilliseconds: Int
    private let cached = Mutex<(at: Date, counts: [SessionStatus: Int])?>(nil)

    init(sessions: SessionManager, ttlMilliseconds: Int) {
        self.sessions = sessions
        self.ttlMilliseconds = ttlMilliseconds
    }

    func current() async -> [SessionStatus: Int]? {
        let now = Date()
        let ttl = Double(ttlMilliseconds) / 1_000
        if let hit = cached.withLock({ $0 }), now.timeIntervalSince(hit.at) < ttl { return hit.counts }
        guard let counts = try? await sessions.statistics(allowed: nil) else { return nil }
        cached.withLock { $0 = (now, counts) }
        return counts
    }
}
