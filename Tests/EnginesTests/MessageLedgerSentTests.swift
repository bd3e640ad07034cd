import Engines
import Foundation
import Persistence
import Reactor
import Synchronization
import Testing
import TestSupport

/// Our sends' rows commit in groups (`MessageLedger+Sent.swift`): every send returns once its
/// row is stored, each new row publishes one `message.sent`, and a database that fails fails
/// every waiting send instead of leaving one hanging.
@Suite(.timeLimit(.minutes(1))) struct MessageLedgerSentTests {
    final class EventLog: Sendable {
        let events = Mutex<[GatewayEvent]>([])
        var all: [GatewayEvent] { events.withLock { $0 } }
    }

    private func ledger() async throws -> (MessageLedger, SQLiteDatabase, EventLog, URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ledger-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let database = try await SQLiteDatabase.open(
            path: directory.appendingPathComponent("data.sqlite").path, name: "data", pool: WorkerPool(size: 1))
        try await Migrator.migrate(database, DataSchema.migrations)
        let bus = EventBus()
        let events = EventLog()
        bus.subscribe { event in events.events.withLock { $0.append(event) } }
        return (MessageLedger(database: database, webhooks: nil, bus: bus), database, events, directory)
    }

    private static func message(_ index: Int) -> EngineMessage {
        EngineMessage(
            id: "3EB0\(index)", chatID: "15550001111@c.us", from: "15550002222@c.us", to: "15550001111@c.us", body: "n\(index)",
            type: "text", timestamp: 1_700_000_000 + index, fromMe: true)
    }

    @Test func concurrentSendsAllCommitPendingWithOneEventEach() async throws {
        let (ledger, database, events, directory) = try await ledger()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<300 { group.addTask { try await ledger.sent(sessionID: "s1", message: Self.message(index)) } }
            // The same id again (a retried send) is stored once.
            group.addTask { try await ledger.sent(sessionID: "s1", message: Self.message(0)) }
            try await group.waitForAll()
        }
        let rows = try await database.query(#"SELECT "status", COUNT(*) AS n FROM messages GROUP BY "status""#, [])
        #expect(rows.count == 1)
        #expect(rows.first?.string("status") == "pending")
        #expect(rows.first?.int("n") == 300)
        let sent = events.all.filter { $0.name == "message.sent" }
        #expect(sent.count == 300)
        #expect(Set(sent.compactMap { $0.data["id"]?.stringValue }).count == 300)
        await database.close()
    }

    @Test func aFailingDatabaseFailsEveryWaitingSend() async throws {
        let (ledger, database, _, directory) = try await ledger()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await database.execute("DROP TABLE messages", [])
        let failures = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<50 {
                group.addTask {
                    do {
                        try await ledger.sent(sessionID: "s1", message: Self.message(index))
                        return false
                    } catch {
                        return true
                    }
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(failures == 50)
        await database.close()
    }

    /// Status only moves forward, and a failure after delivery (an error ack of a resend) does
    /// not unmake the delivery.
    @Test func statusesAdvanceAndAFailureCannotUndoADelivery() async throws {
        let (ledger, _, events, directory) = try await ledger()
        defer { try? FileManager.default.removeItem(at: directory) }
        for index in 0..<2 { try await ledger.sent(sessionID: "s1", message: Self.message(index)) }
        let ids = ["3EB00", "3EB01"]
        try await ledger.acknowledged(sessionID: "s1", chatID: nil, messageIDs: [ids[0]], ack: 2)
        try await ledger.acknowledged(sessionID: "s1", chatID: nil, messageIDs: ids, ack: -1)
        try await ledger.acknowledged(sessionID: "s1", chatID: nil, messageIDs: ids, ack: 1)
        let rows = try await ledger.store.list(sessionID: "s1", query: MessageQuery(limit: 10, offset: 0))
        let status = Dictionary(uniqueKeysWithValues: rows.messages.compactMap { row in row.waMessageID.map { ($0, row.status) } })
        #expect(status == [ids[0]: "delivered", ids[1]: "failed"])
        #expect(events.all.filter { $0.name == "message.failed" }.count == 1)
    }
}
