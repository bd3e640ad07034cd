// webhook-bench: webhook deliveries per second from the outbox to a local receiver, and the
// commit-to-delivery latency at a steady event rate.
//
// Run by perf/webhook-bench.sh, which starts the receiver (nginx, `return 200`) and measures it
// with wrk in the same run as the anchor. Output lines: `RESULT key=value ...`.
//
// Usage: webhook-bench sqlite PATH RECEIVER-PORT EVENTS RATE SECONDS
//        webhook-bench postgres SCHEMA RECEIVER-PORT EVENTS RATE SECONDS   (server from OPENWA_PG_*)
//
// Events are `message.received` spread over 4 sessions × 64 chats (one webhook per session, so
// 256 ordered lanes), published on the event bus as the engines do.
import Engines
import Foundation
import Logging
import Persistence
import Reactor
import Synchronization

let arguments = CommandLine.arguments
guard arguments.count == 7, let receiverPort = Int(arguments[3]), let events = Int(arguments[4]),
    let rate = Int(arguments[5]), let seconds = Int(arguments[6])
else {
    FileHandle.standardError.write(Data("usage: webhook-bench sqlite|postgres PATH|SCHEMA PORT EVENTS RATE SECONDS\n".utf8))
    exit(2)
}
let driver = arguments[1]
let target = arguments[2]
let logger = Logger(label: "webhook-bench")

/// Latencies in nanoseconds, appended from the service's executor.
final class LatencyLog: Sendable {
    private let values = Mutex<[Int64]>([])
    func append(_ duration: Duration) {
        let nanos = duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
        values.withLock { $0.append(nanos) }
    }
    func drain() -> [Int64] { values.withLock { let all = $0; $0.removeAll(); return all } }
}

func percentile(_ sorted: [Int64], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    return Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]) / 1_000_000
}

func event(_ n: Int) -> GatewayEvent {
    let chat = "1555\(n % 64)@c.us"
    return GatewayEvent(
        name: "message.received", sessionID: "bench-\(n % 4)",
        data: .object([
            ("id", .string("3EB0\(n)")), ("chatId", .string(chat)), ("from", .string(chat)), ("to", "me@c.us"),
            ("body", .string("message body number \(n), about as long as a chat line")), ("type", "text"),
            ("timestamp", .number(1_790_000_000)), ("isGroup", .bool(false)), ("fromMe", .bool(false)),
        ]))
}

func waitForDelivered(_ service: WebhookService, _ count: Int) async throws {
    while await service.deliveredCount < count { try await Task.sleep(for: .milliseconds(1)) }
}

let workers = WorkerPool(size: 2)
let handle = try ReactorThread.start(workers: workers, logger: logger)
let finished = DispatchSemaphore(value: 0)
Task.detached {
    do {
        let database: any SQLDatabase
        if driver == "sqlite" {
            database = try await SQLiteDatabase.open(path: target, name: "data", pool: workers)
        } else {
            let environment = ProcessInfo.processInfo.environment
            database = try await PostgresDatabase.open(
                PostgresConfiguration(
                    host: environment["OPENWA_PG_HOST"] ?? "127.0.0.1", port: Int(environment["OPENWA_PG_PORT"] ?? "") ?? 5432,
                    username: environment["OPENWA_PG_USER"] ?? "openwa", password: environment["OPENWA_PG_PASSWORD"] ?? "",
                    database: environment["OPENWA_PG_DB"] ?? "openwa", schema: target, poolSize: 4),
                name: "data", handle: handle)
        }
        try await Migrator.migrate(database, DataSchema.migrations)
        var settings = WebhookSettings()
        settings.urlPolicy = WebhookURLPolicy(protect: false)
        let service = try await WebhookService(handle: handle, workers: workers, database: database, settings: settings, logger: logger)
        let bus = EventBus()
        try await service.start(bus: bus)
        for session in 0..<4 {
            var draft = WebhookDraft()
            draft.url = "http://127.0.0.1:\(receiverPort)/hook"
            draft.events = ["message.received"]
            draft.secret = "bench-secret-0123456789"
            _ = try await service.create(sessionId: "bench-\(session)", draft)
        }
        let latencies = LatencyLog()
        await service.observeDeliveries { latencies.append($0) }

        // Throughput: everything published at once; the clock stops when the last is delivered.
        let started = ContinuousClock.now
        for n in 0..<events { bus.publish(event(n)) }
        try await waitForDelivered(service, events)
        let elapsed = ContinuousClock.now - started
        let elapsedSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("RESULT phase=burst driver=\(driver) events=\(events) seconds=\(String(format: "%.3f", elapsedSeconds)) per_second=\(Int(Double(events) / elapsedSeconds))")
        _ = latencies.drain()

        // Latency: a steady `rate` events per second for `seconds`.
        let total = rate * seconds
        let interval = Duration.nanoseconds(1_000_000_000 / Int64(max(1, rate)))
        var next = ContinuousClock.now
        for n in 0..<total {
            bus.publish(event(events + n))
            next += interval
            try await Task.sleep(until: next, clock: .continuous)
        }
        try await waitForDelivered(service, events + total)
        let sorted = latencies.drain().sorted()
        print(
            "RESULT phase=steady driver=\(driver) rate=\(rate) events=\(sorted.count) p50_ms=\(String(format: "%.3f", percentile(sorted, 0.5))) p99_ms=\(String(format: "%.3f", percentile(sorted, 0.99))) max_ms=\(String(format: "%.3f", percentile(sorted, 1.0)))"
        )
        await service.shutdown()
        await database.close()
    } catch {
        FileHandle.standardError.write(Data("webhook-bench failed: \(error)\n".utf8))
        exit(1)
    }
    finished.signal()
}
finished.wait()
handle.stop()
