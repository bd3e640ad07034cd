import Foundation
import Persistence
import Reactor
import Testing

@Suite("SQLite database")
struct SQLiteDatabaseTests {
    @Test func createsPrivateDirectoryAndFileInWALMode() async throws {
        try await withScratch { scratch async throws in
            let path = scratch.path("nested/data/main.sqlite")
            let database = try await SQLiteDatabase.open(path: path, name: "main", pool: scratch.pool)
            try await database.execute("CREATE TABLE t (x INTEGER)")
            try await database.execute("INSERT INTO t (x) VALUES ($1)", [.integer(1)])

            #expect(try permissions(of: path) == 0o600)
            #expect(try permissions(of: path + "-wal") == 0o600)
            #expect(try permissions(of: scratch.path("nested/data")) == 0o700)
            #expect(try permissions(of: scratch.path("nested")) == 0o700)

            #expect(try await database.query("PRAGMA journal_mode").first?.string("journal_mode") == "wal")
            #expect(try await database.query("PRAGMA synchronous").first?.int("synchronous") == 1)  // NORMAL
            // Small checkpoints: each one stalls the writer for less (SQLiteConnection.configure).
            #expect(try await database.query("PRAGMA wal_autocheckpoint").first?.int("wal_autocheckpoint") == 256)
            #expect(try await database.query("PRAGMA foreign_keys").first?.int("foreign_keys") == 1)
            #expect(try await database.query("PRAGMA busy_timeout").first?.int("timeout") == 5000)
            #expect(database.path == path)
            #expect(database.name == "main")
            #expect(database.dialect == .sqlite)
            await database.close()
        }
    }

    @Test func tightensTheModeOfAnExistingFile() async throws {
        try await withScratch { scratch async throws in
            let path = scratch.path("restored.sqlite")
            #expect(FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o644]))
            let database = try await SQLiteDatabase.open(path: path, name: "data", pool: scratch.pool)
            #expect(try permissions(of: path) == 0o600)
            try await database.ping()
            await database.close()
        }
    }

    @Test func aDirectoryPathIsUnavailable() async throws {
        try await withScratch { scratch async throws in
            let path = scratch.path("is-a-directory")
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
            let error = await #expect(throws: PersistenceError.self) {
                _ = try await SQLiteDatabase.open(path: path, name: "main", pool: scratch.pool)
            }
            #expect(error?.isUnavailable == true)
            #expect(error?.database == "main")
            #expect(try permissions(of: path) != 0o600, "a directory must not be chmod-ed like a database file")
        }
    }

    @Test func aParentThatIsAFileIsUnavailable() async throws {
        try await withScratch { scratch async throws in
            let blocker = scratch.path("plain-file")
            #expect(FileManager.default.createFile(atPath: blocker, contents: Data("x".utf8)))
            let error = await #expect(throws: PersistenceError.self) {
                _ = try await SQLiteDatabase.open(path: blocker + "/main.sqlite", name: "main", pool: scratch.pool)
            }
            #expect(error?.isUnavailable == true)
        }
    }

    @Test func aFileThatIsNotADatabaseIsUnavailable() async throws {
        try await withScratch { scratch async throws in
            let path = scratch.path("garbage.sqlite")
            let garbage = Data(String(repeating: "not a database ", count: 100).utf8)
            #expect(FileManager.default.createFile(atPath: path, contents: garbage))
            let error = await #expect(throws: PersistenceError.self) {
                _ = try await SQLiteDatabase.open(path: path, name: "data", pool: scratch.pool)
            }
            #expect(error?.isUnavailable == true)
        }
    }

    @Test func everyCallAfterCloseIsUnavailable() async throws {
        try await withScratch { scratch async throws in
            let database = try await SQLiteDatabase.open(
                path: scratch.path("main.sqlite"), name: "main", pool: scratch.pool)
            try await database.ping()
            await database.close()
            await database.close()  // closing twice is harmless

            let queryError = await #expect(throws: PersistenceError.self) { _ = try await database.query("SELECT 1") }
            #expect(queryError?.isUnavailable == true)
            let executeError = await #expect(throws: PersistenceError.self) {
                try await database.execute("CREATE TABLE t (x)")
            }
            #expect(executeError?.isUnavailable == true)
            let pingError = await #expect(throws: PersistenceError.self) { try await database.ping() }
            #expect(pingError?.isUnavailable == true)
            let transactionError = await #expect(throws: PersistenceError.self) {
                try await database.transaction { _ in 1 }
            }
            #expect(transactionError?.isUnavailable == true)
        }
    }

    @Test func readOnlyOpenReadsButRefusesWrites() async throws {
        try await withScratch { scratch async throws in
            let path = scratch.path("main.sqlite")
            let writer = try await SQLiteDatabase.open(path: path, name: "main", pool: scratch.pool)
            try await writer.execute("CREATE TABLE t (x INTEGER)")
            try await writer.execute("INSERT INTO t (x) VALUES (7)")
            await writer.close()

            let reader = try await SQLiteDatabase.open(path: path, name: "main", pool: scratch.pool, readOnly: true)
            #expect(try await reader.query("SELECT x FROM t").first?.int("x") == 7)
            let error = await #expect(throws: PersistenceError.self) {
                try await reader.execute("INSERT INTO t (x) VALUES (8)")
            }
            #expect(error?.isUnavailable == true)
            await reader.close()

            let missing = await #expect(throws: PersistenceError.self) {
                _ = try await SQLiteDatabase.open(
                    path: scratch.path("absent.sqlite"), name: "main", pool: scratch.pool, readOnly: true)
            }
            #expect(missing?.isUnavailable == true)
            #expect(!FileManager.default.fileExists(atPath: scratch.path("absent.sqlite")))
        }
    }

    @Test func transactionCommitsAndReturnsItsValue() async throws {
        try await withDatabase { database, _ async throws in
            try await database.execute("CREATE TABLE t (x INTEGER)")
            let inserted = try await database.transaction { transaction in
                try transaction.execute("INSERT INTO t (x) VALUES ($1), ($2)", [.integer(1), .integer(2)])
            }
            #expect(inserted == 2)
            #expect(try await database.query("SELECT COUNT(*) AS n FROM t").first?.int("n") == 2)
        }
    }

    @Test func aThrowingTransactionLeavesNoRows() async throws {
        try await withDatabase { database, _ async throws in
            try await database.execute("CREATE TABLE t (x INTEGER)")
            await #expect(throws: DeliberateFailure.self) {
                try await database.transaction { transaction in
                    for value in 1...3 {
                        try transaction.execute("INSERT INTO t (x) VALUES ($1)", [.integer(Int64(value))])
                    }
                    #expect(try transaction.query("SELECT COUNT(*) AS n FROM t").first?.int("n") == 3)
                    throw DeliberateFailure()
                }
            }
            #expect(try await database.query("SELECT COUNT(*) AS n FROM t").first?.int("n") == 0)
            // The connection is usable again, outside any transaction.
            try await database.transaction { try $0.execute("INSERT INTO t (x) VALUES (9)") }
            #expect(try await database.query("SELECT x FROM t").map { $0.int("x") } == [9])
        }
    }

    @Test func aFailingStatementRollsBackTheWholeTransaction() async throws {
        try await withDatabase { database, _ async throws in
            try await database.execute("CREATE TABLE t (x INTEGER UNIQUE)")
            let error = await #expect(throws: PersistenceError.self) {
                try await database.transaction { transaction in
                    try transaction.execute("INSERT INTO t (x) VALUES (1)")
                    try transaction.execute("INSERT INTO t (x) VALUES (1)")
                }
            }
            #expect(error?.isConstraintViolation == true)
            #expect(try await database.query("SELECT COUNT(*) AS n FROM t").first?.int("n") == 0)
        }
    }

    @Test func uniqueViolationsAreConstraintErrors() async throws {
        try await withDatabase { database, _ async throws in
            try await database.execute("CREATE TABLE t (x TEXT UNIQUE)")
            try await database.execute("INSERT INTO t (x) VALUES ($1)", [.text("a")])
            let error = await #expect(throws: PersistenceError.self) {
                try await database.execute("INSERT INTO t (x) VALUES ($1)", [.text("a")])
            }
            #expect(error?.isConstraintViolation == true)
            #expect(error?.isUnavailable == false)
            #expect(error?.description.contains("UNIQUE") == true)
        }
    }

    @Test func executeReportsChangedRows() async throws {
        try await withDatabase { database, _ async throws in
            try await database.execute("CREATE TABLE t (x INTEGER)")
            #expect(try await database.execute("INSERT INTO t (x) VALUES (1), (2), (3)") == 3)
            #expect(try await database.execute("UPDATE t SET x = x + 10 WHERE x >= $1", [.integer(2)]) == 2)
            #expect(try await database.execute("DELETE FROM t WHERE x = $1", [.integer(99)]) == 0)
        }
    }

    @Test func concurrentCallersAreSerialized() async throws {
        try await withDatabase { database, _ async throws in
            try await database.execute("CREATE TABLE items (n INTEGER NOT NULL UNIQUE)")
            try await database.execute("CREATE TABLE counter (value INTEGER NOT NULL)")
            try await database.execute("INSERT INTO counter (value) VALUES (0)")

            try await withThrowingTaskGroup(of: Void.self) { group in
                for n in 0..<200 {
                    group.addTask {
                        try await database.execute("INSERT INTO items (n) VALUES ($1)", [.integer(Int64(n))])
                    }
                    // A read-modify-write per task: any interleaving would lose increments.
                    group.addTask {
                        try await database.transaction { transaction in
                            let value = try transaction.query("SELECT value FROM counter").first?.int("value") ?? -1
                            try transaction.execute("UPDATE counter SET value = $1", [.integer(value + 1)])
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await database.query("SELECT COUNT(*) AS n FROM items").first?.int("n") == 200)
            #expect(try await database.query("SELECT MAX(n) AS top FROM items").first?.int("top") == 199)
            #expect(try await database.query("SELECT value FROM counter").first?.int("value") == 200)
        }
    }
}
