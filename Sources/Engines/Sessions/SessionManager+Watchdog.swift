import Foundation
import Logging

/// When the watchdog steps in (`SESSION_WATCHDOG_*`).
package struct SessionWatchdogPolicy: Sendable, Equatable {
    /// How often live sessions are checked; 0 turns the watchdog off.
    package var intervalMilliseconds: Int
    /// A `ready` link on which nothing arrived for this long is wedged: the engine's keepalive
    /// (a ping every 25 s, answered by the server) should never leave it this quiet.
    package var silenceMilliseconds: Int
    /// A session still `initializing` or `authenticating` after this long is stuck; every step
    /// of those phases has its own shorter timeout, so only a lost callback gets here.
    package var stuckMilliseconds: Int

    package init(intervalMilliseconds: Int = 30_000, silenceMilliseconds: Int = 120_000, stuckMilliseconds: Int = 180_000) {
        self.intervalMilliseconds = intervalMilliseconds
        self.silenceMilliseconds = silenceMilliseconds
        self.stuckMilliseconds = stuckMilliseconds
    }
}

/// The watchdog: the safety net under each engine's own timers. A link that is wedged (no
/// traffic while `ready`) or a start that never finishes is recycled: the engine is stopped and
/// started again with the stored credentials, so the phone need not relink.
extension SessionManager {
    /// Starts the periodic sweep (replacing a running one).
    package func startWatchdog(_ policy: SessionWatchdogPolicy) {
        watchdog?.cancel()
        watchdog = nil
        guard policy.intervalMilliseconds > 0 else { return }
        watchdog = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(policy.intervalMilliseconds))
                guard !Task.isCancelled, let self else { return }
                await self.watchdogSweep(policy)
            }
        }
    }

    /// One pass over the live sessions; returns the ids it recycled.
    @discardableResult
    package func watchdogSweep(_ policy: SessionWatchdogPolicy) async -> [String] {
        let candidates = live.compactMap { id, state in state.engine.map { (id, $0, state.status, state.statusSince) } }
        var recycled: [String] = []
        for (id, engine, status, since) in candidates {
            let reason: String
            switch status {
            case .ready:
                let health = await engine.health()
                guard let silent = health.silentMilliseconds, silent >= policy.silenceMilliseconds else { continue }
                reason = "nothing arrived on the ready link for \(silent) ms"
            case .initializing, .authenticating:
                let elapsed = Int(now().timeIntervalSince(since) * 1_000)
                guard elapsed >= policy.stuckMilliseconds else { continue }
                reason = "stuck in \(status.rawValue) for \(elapsed) ms"
            default:
                continue
            }
            // The sweep awaited: skip a session that was stopped or restarted meanwhile.
            guard let current = live[id]?.engine, current as AnyObject === engine as AnyObject else { continue }
            await recycle(id, reason: reason)
            recycled.append(id)
        }
        return recycled
    }

    private func recycle(_ id: String, reason: String) async {
        logger.warning("watchdog recycles a session", metadata: ["session.id": "\(id)", "reason": "\(reason)"])
        await teardown(id)
        do {
            _ = try await start(id: id)
            live[id]?.lastError = "watchdog restarted the link: \(reason)"
        } catch {
            logger.error("watchdog restart failed", metadata: ["session.id": "\(id)", "error": "\(error)"])
        }
        if let current = try? await record(id) { await audit("session_watchdog_restart", current) }
    }
}
