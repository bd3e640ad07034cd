import Foundation
import Logging
import Persistence

/// OpenWA's message reaper (reference 4.5): an outgoing message still `pending` long after it was
/// stored never got WhatsApp's answer (the process stopped between storing it and the server's
/// ack) and never will, so it is marked `failed`, with `message.ack` and `message.failed`, rather
/// than left pending for ever. Every `MESSAGE_REAPER_INTERVAL_MS`, in batches of
/// `MESSAGE_REAPER_BATCH_SIZE`, rows older than `MESSAGE_REAPER_GRACE_MS`.
package final class MessageReaper: Sendable {
    package struct Settings: Sendable {
        /// 0 turns the reaper off.
        package var intervalMilliseconds = 600_000
        package var graceMilliseconds = 3_600_000
        package var batchSize = 50

        package init() {}
    }

    private let ledger: MessageLedger
    private let settings: Settings
    private let logger: Logger

    package init(ledger: MessageLedger, settings: Settings, logger: Logger) {
        self.ledger = ledger
        self.settings = settings
        self.logger = logger
    }

    /// Runs until the task is cancelled; the first sweep comes one interval after the start.
    package func start() -> Task<Void, Never>? {
        guard settings.intervalMilliseconds > 0 else { return nil }
        return Task { [self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(settings.intervalMilliseconds))
                if Task.isCancelled { return }
                do { _ = try await sweep() } catch {
                    logger.warning("message reaper sweep failed", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    /// Marks every stuck pending row failed, a batch at a time; returns how many.
    @discardableResult
    package func sweep(now: Date = Date()) async throws -> Int {
        let cutoff = now.addingTimeInterval(-Double(settings.graceMilliseconds) / 1_000)
        var total = 0
        // Bounded: a row that would not change must not keep one sweep going for ever.
        for _ in 0..<1_000 {
            let stuck = try await ledger.store.stuckPending(before: cutoff, limit: settings.batchSize)
            for row in stuck {
                try await ledger.acknowledged(sessionID: row.sessionID, chatID: row.chatID, messageIDs: [row.waMessageID], ack: -1)
            }
            total += stuck.count
            if stuck.count < settings.batchSize { break }
        }
        if total > 0 { logger.info("message reaper marked stuck sends failed", metadata: ["count": "\(total)"]) }
        return total
    }
}
