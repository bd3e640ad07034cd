import Engines
import Foundation
import Persistence
import Reactor
import Synchronization
import Testing
import TestSupport

/// The message reaper (reference 4.5) on both data databases: outgoing rows still `pending` past
/// the grace period become `failed` with `message.ack` and `message.failed`, a batch at a time;
/// recent pending rows and rows WhatsApp answered are left alone.
@Suite(.timeLimit(.minutes(1))) struct MessageReaperTests {
    @Test(arguments: DataBackend.available)
    func stuckPendingSendsBecomeFailed(_ backend: DataBackend) async throws {
        let world = try await LinkWorld.start(backend, phones: [])
        let gateway = world.gateway
        let created = try await gateway.request("POST", "/api/sessions", body: #"{"name":"reaped"}"#)
        let id = try #require(created.object["id"] as? String, "\(created.text)")
        let old = Date().addingTimeInterval(-7_200)
        let rows: [(String, String, Date)] = [
            ("3EB0OLD1", "pending", old), ("3EB0OLD2", "pending", old.addingTimeInterval(1)), ("3EB0OLD3", "pending", old.addingTimeInterval(2)),
            ("3EB0NEW", "pending", Date()), ("3EB0SENT", "sent", old),
        ]
        try await gateway.data.withTransaction { transaction in
            for (waID, status, createdAt) in rows {
                _ = try await SQLMessageStore.insert(
                    MessageRecord(
                        sessionID: id, waMessageID: waID, chatID: "15550209999@c.us", from: "me", to: "15550209999@c.us",
                        body: "x", type: "text", direction: "outgoing", timestamp: Int64(createdAt.timeIntervalSince1970),
                        status: status, createdAt: createdAt),
                    in: transaction)
            }
        }
        let failedEvents = Mutex<[String]>([])
        let token = gateway.events.subscribe { event in
            if event.name == "message.failed", let id = event.data["messageId"]?.stringValue { failedEvents.withLock { $0.append(id) } }
        }
        var settings = MessageReaper.Settings()
        settings.batchSize = 2
        let ledger = MessageLedger(database: gateway.data, webhooks: nil, bus: gateway.events)
        let reaped = try await MessageReaper(ledger: ledger, settings: settings, logger: quietLogger).sweep()
        #expect(reaped == 3)
        #expect(failedEvents.withLock { $0 }.sorted() == ["3EB0OLD1", "3EB0OLD2", "3EB0OLD3"])
        gateway.events.unsubscribe(token)

        let listed = try await gateway.request("GET", "/api/sessions/\(id)/messages?limit=100")
        let statuses = Dictionary(
            uniqueKeysWithValues: (listed.object["messages"] as? [[String: Any]] ?? []).compactMap { row -> (String, String)? in
                guard let waID = row["waMessageId"] as? String, let status = row["status"] as? String else { return nil }
                return (waID, status)
            })
        #expect(statuses == ["3EB0OLD1": "failed", "3EB0OLD2": "failed", "3EB0OLD3": "failed", "3EB0NEW": "pending", "3EB0SENT": "sent"])
        #expect(try await MessageReaper(ledger: ledger, settings: settings, logger: quietLogger).sweep() == 0, "nothing left to reap")
        await world.stop()
    }
}
