import Engines
import Foundation
import Logging
import Persistence
import Reactor
import Testing
import TestSupport

/// A restart with more pending outbox rows than one recovery page: every row goes out, in order
/// per chat, each once.
@Suite(.timeLimit(.minutes(1))) struct WebhookRecoveryTests {
    @Test func aBacklogLongerThanOnePageIsDeliveredWhole() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("openwa-recovery-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let workers = WorkerPool(size: 2)
        let handle = try ReactorThread.start(workers: workers, logger: quietLogger)
        let database = try await SQLiteDatabase.open(path: directory.appendingPathComponent("data.sqlite").path, name: "data", pool: workers)
        try await Migrator.migrate(database, DataSchema.migrations)
        let receiver = try await WebhookReceiver.start()
        var settings = WebhookSettings()
        settings.urlPolicy = WebhookURLPolicy(protect: false)

        // The first run writes the rows and stops before delivering any (a crash, as far as the outbox knows).
        let first = try await WebhookService(handle: handle, workers: workers, database: database, settings: settings, logger: quietLogger)
        var draft = WebhookDraft()
        draft.url = receiver.url
        _ = try await first.create(sessionId: "s1", draft)
        let total = 5_300  // more than the 5,000 rows of one recovery page
        var rows: [OutboxRow] = []
        for number in 0..<total {
            rows += await first.outboxRows(for: WebhookDeliveryTests.message("s1", chat: "chat\(number % 7)@c.us", number: number))
        }
        try await SQLWebhookOutboxStore(database: database).insert(rows)
        await first.shutdown()

        let second = try await WebhookService(handle: handle, workers: workers, database: database, settings: settings, logger: quietLogger)
        try await second.start(bus: EventBus())
        let delivered = try await receiver.wait("the whole backlog", seconds: 45) { $0.count >= total }
        #expect(delivered.count == total)
        #expect(Set(delivered.map { $0.header("X-OpenWA-Idempotency-Key") ?? "" }).count == total)
        for chat in 0..<7 {
            let numbers = delivered.filter { $0.data["chatId"] as? String == "chat\(chat)@c.us" }.compactMap {
                ($0.data["body"] as? String).flatMap { Int($0.dropFirst("hello ".count)) }
            }
            #expect(numbers == numbers.sorted(), "chat \(chat) in order")
        }
        await second.shutdown()
        await receiver.stop()
        await database.close()
        handle.stop()
        await handle.waitUntilStopped()
    }
}
