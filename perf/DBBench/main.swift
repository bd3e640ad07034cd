// db-bench: message-row insert and query throughput through our database drivers.
//
// Run by perf/db-bench.sh, which also runs pgbench against the same PostgreSQL server as the
// anchor. Each line of output is `RESULT driver=… op=… count=… seconds=… per_second=…`.
//
// Usage: db-bench sqlite PATH ROWS QUERIES CONCURRENCY
//        db-bench postgres SCHEMA ROWS QUERIES CONCURRENCY   (server from OPENWA_PG_*)
//
// Inserts are single autocommitted statements, as an inbound message is stored on its own;
// queries fetch a chat's newest 20 messages, as the chat history route does. Both run with
// CONCURRENCY tasks in flight, like concurrent requests.
import Foundation
import Logging
import Persistence
import Reactor

let arguments = CommandLine.arguments
guard arguments.count == 6, let rows = Int(arguments[3]), let queries = Int(arguments[4]),
    let concurrency = Int(arguments[5])
else {
    FileHandle.standardError.write(Data("usage: db-bench sqlite|postgres PATH|SCHEMA ROWS QUERIES CONCURRENCY\n".utf8))
    exit(2)
}
let driver = arguments[1]
let target = arguments[2]

/// The workload's statements and parameters, and the measuring loop.
struct Bench: Sendable {
    let driver: String
    let concurrency: Int
    let insertSQL = """
        INSERT INTO messages ("id", "sessionId", "waMessageId", "chatId", "from", "to", "body", "type", \
        "direction", "timestamp", "status", "createdAt") VALUES ($1, $2, $3, $4, $5, $6, $7, 'text', 'incoming', $8, \
        'delivered', $9)
        """
    let querySQL = """
        SELECT * FROM messages WHERE "sessionId" = $1 AND "chatId" = $2 ORDER BY "createdAt" DESC LIMIT 20
        """
    let sessions = 4
    let chats = 50

    func insertBinds(_ n: Int) -> [SQLValue] {
        let session = "session-\(n % sessions)"
        let chat = "\(n % chats)@c.us"
        let created = ISOTimestamp.format(Date(timeIntervalSince1970: 1_790_000_000 + Double(n) / 1000))
        return [
            .text(UUID().uuidString.lowercased()), .text(session), .text("3EB0\(n)"), .text(chat), .text(chat),
            .text("me@c.us"), .text("message body number \(n), about as long as a chat line"),
            .integer(1_790_000_000 + Int64(n)), .text(created),
        ]
    }

    func queryBinds(_ n: Int) -> [SQLValue] {
        [.text("session-\(n % sessions)"), .text("\(n % chats)@c.us")]
    }

    /// Runs `total` operations with `concurrency` in flight; returns the elapsed seconds.
    func measure(_ total: Int, _ operation: @escaping @Sendable (Int) async throws -> Void) async throws -> Double {
        let started = DispatchTime.now().uptimeNanoseconds
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            for _ in 0..<min(concurrency, total) {
                let n = next
                next += 1
                group.addTask { try await operation(n) }
            }
            while try await group.next() != nil {
                if next < total {
                    let n = next
                    next += 1
                    group.addTask { try await operation(n) }
                }
            }
        }
        return Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
    }

    func report(_ op: String, _ count: Int, _ seconds: Double) {
        let line = String(
            format: "RESULT driver=%@ op=%@ count=%d seconds=%.3f per_second=%.0f\n", driver, op, count, seconds,
            Double(count) / seconds)
        FileHandle.standardOutput.write(Data(line.utf8))
    }
}

let bench = Bench(driver: driver, concurrency: concurrency)

let workers = WorkerPool(size: ProcessInfo.processInfo.activeProcessorCount)
let logger = Logger(label: "db-bench")
do {
    let handle = try ReactorThread.start(workers: workers, logger: logger)
    let database: any SQLDatabase
    switch driver {
    case "sqlite":
        database = try await SQLiteDatabase.open(path: target, name: "data", pool: workers)
    case "postgres":
        let environment = ProcessInfo.processInfo.environment
        let configuration = PostgresConfiguration(
            host: environment["OPENWA_PG_HOST"] ?? "127.0.0.1", port: Int(environment["OPENWA_PG_PORT"] ?? "") ?? 5432,
            username: environment["OPENWA_PG_USER"] ?? "openwa", password: environment["OPENWA_PG_PASSWORD"] ?? "",
            database: environment["OPENWA_PG_DB"] ?? "openwa", schema: target, poolSize: concurrency)
        database = try await PostgresDatabase.open(configuration, name: "data", handle: handle)
    default:
        throw PersistenceError.decoding("unknown driver \(driver)")
    }
    try await Migrator.migrate(database, DataSchema.migrations)
    // Warm-up: connections opened, statements prepared, caches primed.
    let warmUp = concurrency * 4
    _ = try await bench.measure(warmUp) { n in try await database.execute(bench.insertSQL, bench.insertBinds(rows + n)) }
    let insertSeconds = try await bench.measure(rows) { n in
        try await database.execute(bench.insertSQL, bench.insertBinds(n))
    }
    bench.report("insert", rows, insertSeconds)
    let querySeconds = try await bench.measure(queries) { n in
        let found = try await database.query(bench.querySQL, bench.queryBinds(n))
        precondition(!found.isEmpty, "query returned nothing")
    }
    bench.report("query", queries, querySeconds)
    await database.close()
    handle.stop()
    await handle.waitUntilStopped()
} catch {
    FileHandle.standardError.write(Data("db-bench: \(error)\n".utf8))
    exit(1)
}
