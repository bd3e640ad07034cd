import Foundation
import Persistence
import Reactor
import Synchronization

/// Our sends' `pending` rows, committed in groups: a send that arrives while the previous group's
/// transaction runs waits for the next one, which takes everything queued by then. At a low rate
/// each send commits at once as before; under load many sends share one transaction (and one
/// disk sync) instead of queueing one transaction each behind the database's single writer.
/// Each send still returns only once its row (and its `message.sent` outbox rows) is committed,
/// so no stanza leaves before its row exists.
final class SentRowQueue: Sendable {
    struct Entry: Sendable {
        let sessionID: String
        let message: EngineMessage
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var waiting: [Entry] = []
        var flushing = false
    }

    /// Rows per transaction at most (both databases cap the binds of one statement batch).
    static let batchLimit = 256
    private let state = Mutex(State())

    /// Queues `entry`; true when the caller must start the flush loop.
    func enqueue(_ entry: Entry) -> Bool {
        state.withLock { state in
            state.waiting.append(entry)
            guard !state.flushing else { return false }
            state.flushing = true
            return true
        }
    }

    /// The next group to commit; empty (and the loop ends) when nothing is waiting.
    func next() -> [Entry] {
        state.withLock { state in
            let batch = Array(state.waiting.prefix(Self.batchLimit))
            state.waiting.removeFirst(batch.count)
            if batch.isEmpty { state.flushing = false }
            return batch
        }
    }
}

extension MessageLedger {
    package func sent(sessionID: String, message: EngineMessage) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            if sentRows.enqueue(SentRowQueue.Entry(sessionID: sessionID, message: message, continuation: continuation)) {
                // On the database's own thread, when it has one: the group's statements run in place.
                Task(executorPreference: store.database.preferredExecutor) { await self.flushSentRows() }
            }
        }
    }

    private func flushSentRows() async {
        while true {
            let batch = sentRows.next()
            guard !batch.isEmpty else { return }
            do {
                let staged = webhooks != nil
                let webhooks = webhooks
                let (events, outbox) = try await store.database.withTransaction { transaction -> ([GatewayEvent], [OutboxRow]) in
                    var events: [GatewayEvent] = []
                    for entry in batch {
                        let row = Self.row(sessionID: entry.sessionID, message: entry.message, status: "pending")
                        // A repeat of a known id (a retried send) adds nothing.
                        guard try await SQLMessageStore.insert(row, in: transaction) else { continue }
                        events.append(
                            GatewayEvent(
                                name: "message.sent", sessionID: entry.sessionID, data: Self.json(entry.message), outboxStaged: staged))
                    }
                    return (events, try await webhooks?.stage(events, in: transaction) ?? [])
                }
                if let webhooks, !outbox.isEmpty { await webhooks.committed(outbox) }
                for event in events { bus.publish(event) }
                for entry in batch { entry.continuation.resume() }
            } catch {
                for entry in batch { entry.continuation.resume(throwing: error) }
            }
        }
    }
}
