import Foundation
import Persistence
import Testing

/// `withTransaction` on SQLite: the body awaits between statements, so the gate must keep every
/// other statement (from this handle or another on the same file) out of the open transaction.
@Suite("SQLite async transactions", .timeLimit(.minutes(1)))
struct SQLiteAsyncTransactionTests {
    @Test func aStatementArrivingMidTransactionWaitsAndSurvivesItsRollback() async throws {
        try await withDatabase { database, _ async throws in
            try await database.execute("CREATE TABLE t (x INTEGER)")
            let (inside, reachedInside) = AsyncStream.makeStream(of: Void.self)
            let (release, releaseTransaction) = AsyncStream.makeStream(of: Void.self)
            let transaction = Task {
                try await database.withTransaction { transaction in
                    try await transaction.execute("INSERT INTO t (x) VALUES (1)")
                    reachedInside.yield()
                    for await _ in release { break }
                    throw DeliberateFailure()
                }
            }
            for await _ in inside { break }
            // Issued while the transaction is open: it must not run inside it.
            let outsider = Task { try await database.execute("INSERT INTO t (x) VALUES (2)") }
            try await Task.sleep(for: .milliseconds(50))
            releaseTransaction.yield()
            await #expect(throws: DeliberateFailure.self) { try await transaction.value }
            #expect(try await outsider.value == 1)
            #expect(try await database.query("SELECT x FROM t").map { $0.int("x") } == [2])
        }
    }

    @Test func aSecondHandleOnTheSameFileWaitsForTheTransaction() async throws {
        try await withScratch { scratch async throws in
            let path = scratch.path("shared.sqlite")
            let first = try await SQLiteDatabase.open(path: path, name: "data", pool: scratch.pool)
            let second = try await SQLiteDatabase.open(path: path, name: "data", pool: scratch.pool)
            try await first.execute("CREATE TABLE t (x INTEGER)")
            // Both take turns through the file's gate instead of one blocking the shared lane in
            // SQLite's busy wait while the other's transaction waits behind it.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, database) in [first, second, first, second].enumerated() {
                    group.addTask {
                        try await database.withTransaction { transaction in
                            let count = try await transaction.query("SELECT COUNT(*) AS n FROM t").first?.int("n") ?? -1
                            try await transaction.execute("INSERT INTO t (x) VALUES ($1)", [.integer(count * 10 + Int64(index))])
                        }
                    }
                }
                try await group.waitForAll()
            }
            let values = try await first.query("SELECT x FROM t").compactMap { $0.int("x") }
            #expect(values.map { $0 / 10 }.sorted() == [0, 1, 2, 3], "each transaction saw the ones before it")
            await first.close()
            await second.close()
        }
    }

    @Test func usingTheDatabaseInsideItsOwnTransactionIsRefusedNotDeadlocked() async throws {
        try await withDatabase { database, _ async throws in
            let error = await #expect(throws: PersistenceError.self) {
                try await database.withTransaction { _ in try await database.query("SELECT 1") }
            }
            #expect(error?.message.contains("use the transaction") == true)
            await #expect(throws: PersistenceError.self) {
                try await database.withTransaction { _ in try await database.withTransaction { _ in 1 } }
            }
            #expect(try await database.query("SELECT 1 AS one").first?.int("one") == 1)
        }
    }
}
