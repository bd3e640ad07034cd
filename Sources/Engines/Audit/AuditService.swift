import Foundation
import Logging
import Persistence
import Reactor
import Synchronization

/// The audit log (reference 7.3/7.4): best-effort writes from anywhere, sampled writes for
/// actions an attacker could otherwise use to flood the table, paged reads for `GET /api/audit`,
/// and the retention sweep.
package final class AuditService: Sendable {
    private let store: any AuditLogStore
    private let logger: Logger
    private let now: @Sendable () -> Date
    private let sampler = Mutex<[String: SampleWindow]>([:])

    private struct SampleWindow {
        var start: Date
        var written: Int
    }

    package init(store: any AuditLogStore, logger: Logger, now: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.logger = logger
        self.now = now
    }

    // MARK: - Writing

    /// Writes `record` and waits for it. A failing write is logged, never thrown: no operation
    /// fails because its audit row could not be written.
    package func write(_ record: AuditRecord) async {
        do {
            try await store.append(record.entry)
        } catch {
            logger.warning("audit write failed", metadata: ["audit.action": "\(record.action)", "error": "\(error)"])
        }
    }

    /// Writes `record` in the background (the request path does not wait for the database).
    package func record(_ record: AuditRecord) {
        Task { await self.write(record) }
    }

    /// Writes `record` unless `sampleKey` already had `perMinute` rows written in the current
    /// minute (OpenWA: at most 10 `api_key_auth_failed` rows per IP per minute; one
    /// `rate_limit_exceeded` row per client and minute). Returns whether it was written.
    @discardableResult
    package func recordSampled(_ record: AuditRecord, sampleKey: String, perMinute: Int) -> Bool {
        let current = now()
        let admitted = sampler.withLock { windows -> Bool in
            // Bounded: an address sweep must not grow the table without limit.
            if windows.count >= 10_000 { windows = windows.filter { current.timeIntervalSince($0.value.start) < 60 } }
            var window = windows[sampleKey] ?? SampleWindow(start: current, written: 0)
            if current.timeIntervalSince(window.start) >= 60 { window = SampleWindow(start: current, written: 0) }
            guard window.written < perMinute else { return false }
            window.written += 1
            windows[sampleKey] = window
            return true
        }
        if admitted { self.record(record) }
        return admitted
    }

    // MARK: - Reading

    /// One page of rows, newest first, and how many match in all.
    package func list(_ query: AuditQuery, limit: Int, offset: Int) async throws -> (records: [AuditRecord], total: Int) {
        do {
            async let entries = store.list(query.filter, limit: limit, offset: offset)
            async let total = store.count(query.filter)
            return (try await entries.map(AuditRecord.init), try await total)
        } catch let error as PersistenceError where error.isUnavailable {
            throw EngineError.unavailable("Main database is unavailable")
        }
    }

    // MARK: - Retention

    /// Deletes rows older than `days` days; returns how many went (0 when the sweep failed,
    /// which is logged: the next sweep tries again).
    @discardableResult
    package func prune(olderThanDays days: Int) async -> Int {
        let cutoff = now().addingTimeInterval(-Double(days) * 86_400)
        do {
            let removed = try await store.prune(olderThan: cutoff)
            if removed > 0 { logger.info("audit retention", metadata: ["audit.removed": "\(removed)", "audit.days": "\(days)"]) }
            return removed
        } catch {
            logger.warning("audit retention sweep failed", metadata: ["error": "\(error)"])
            return 0
        }
    }

    /// OpenWA's retention (`AUDIT_RETENTION_DAYS`, ≤0 disables): one sweep now, then one every
    /// `intervalMilliseconds` on the reactor's clock (so tests drive it with a manual clock).
    /// Returns once the first sweep ran and the next is armed. `onSweep` sees each later sweep's
    /// count, after the one following it is armed.
    package func startRetention(
        days: Int, handle: ReactorHandle, intervalMilliseconds: Int = 86_400_000,
        onSweep: @escaping @Sendable (Int) -> Void = { _ in }
    ) async {
        guard days > 0 else { return }
        await prune(olderThanDays: days)
        await arm(days: days, handle: handle, intervalMilliseconds: intervalMilliseconds, onSweep: onSweep)
    }

    private func arm(
        days: Int, handle: ReactorHandle, intervalMilliseconds: Int, onSweep: @escaping @Sendable (Int) -> Void
    ) async {
        _ = try? await handle.submit { reactor in
            reactor.schedule(afterMilliseconds: intervalMilliseconds) {
                Task(executorPreference: handle) {
                    let removed = await self.prune(olderThanDays: days)
                    await self.arm(days: days, handle: handle, intervalMilliseconds: intervalMilliseconds, onSweep: onSweep)
                    onSweep(removed)
                }
            }
        }
    }
}
