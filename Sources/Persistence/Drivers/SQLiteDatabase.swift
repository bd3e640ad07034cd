internal import CSQLite3
import Dispatch
import Foundation
import Glibc
import Reactor
import Synchronization

/// A SQLite database file behind one connection confined to one worker lane.
///
/// Every statement, transaction and the final close run on that lane, one after another, so the
/// connection never needs SQLite's own mutexes and async callers are serialized in arrival order.
/// SQLite allows one writer at a time anyway, so a single connection loses nothing for writes.
///
/// Async transactions (`withTransaction`) send their statements to the lane one at a time, so a
/// gate keeps every other statement off the lane while one is open (`SQLiteGate`).
///
/// `@unchecked Sendable`: the only mutable state is inside `connection`, and `connection` is
/// touched only inside `onLane`/`onLaneReserved`, whose work runs on `lane`, a serial queue.
package final class SQLiteDatabase: SQLDatabase, @unchecked Sendable {
    /// The logical name, "main" or "data".
    package let name: String
    /// The absolute path of the database file.
    package let path: String
    /// Always `.sqlite`.
    package var dialect: SQLDialect { .sqlite }

    private let lane: WorkerLane
    private let connection: SQLiteConnection
    private let gate: SQLiteGate

    /// The gate (database file) whose async transaction the current task is running, to refuse
    /// statements that would otherwise wait for that very transaction to end.
    @TaskLocal private static var transactionOwner: ObjectIdentifier?

    private init(name: String, path: String, lane: WorkerLane, connection: SQLiteConnection) {
        self.name = name
        self.path = path
        self.lane = lane
        self.connection = connection
        self.gate = SQLiteGate.shared(forPath: path)
    }

    /// Opens the database file at `path`, creating it and its parent directory when needed.
    ///
    /// A created parent directory gets mode 0700 and the file is always tightened to 0600 (its
    /// `-wal` and `-shm` files inherit that mode from it). The connection is checked with
    /// `SELECT 1` before this returns.
    ///
    /// - Parameters:
    ///   - name: the logical name ("main" or "data") used in errors.
    ///   - pool: the worker pool; the lane is chosen from the path, so two handles on one file
    ///     share a lane.
    ///   - readOnly: open without write access; the file must exist.
    /// - Throws: `PersistenceError.unavailable` when the file cannot be created or opened.
    package static func open(
        path: String, name: String, pool: WorkerPool, readOnly: Bool = false
    ) async throws -> SQLiteDatabase {
        let absolutePath = URL(fileURLWithPath: path).standardizedFileURL.path
        let lane = pool.lane(for: laneKey(for: absolutePath))
        // File creation blocks, so it runs on the lane too, never on the caller's thread.
        return try await lane.run {
            if !readOnly {
                try SQLiteFiles.prepare(path: absolutePath, databaseName: name)
            }
            let connection = try SQLiteConnection(
                path: absolutePath, databaseName: name, mode: readOnly ? .readOnly : .readWrite)
            _ = try connection.query("SELECT 1", [])
            return SQLiteDatabase(name: name, path: absolutePath, lane: lane, connection: connection)
        }
    }

    /// A stable lane key for a path (FNV-1a), the same in every run so lane placement is
    /// reproducible when debugging.
    private static func laneKey(for path: String) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in path.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return Int(truncatingIfNeeded: hash)
    }

    /// Runs `work` on the lane as ordinary (shared) work: it waits while an async transaction
    /// holds the connection.
    private func onLane<T: Sendable>(_ work: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        if Self.transactionOwner == ObjectIdentifier(gate) {
            throw PersistenceError.sqlite(
                code: SQLITE_MISUSE,
                message: "statement on the database inside its own transaction; use the transaction", sql: nil)
        }
        await gate.enterShared()
        defer { gate.leaveShared() }
        return try await onLaneReserved(work)
    }

    /// Runs `work` on the lane without the gate: for the statements of the transaction that
    /// holds it.
    private func onLaneReserved<T: Sendable>(
        _ work: @escaping @Sendable (SQLiteConnection) throws -> T
    ) async throws -> T {
        try await lane.run {
            dispatchPrecondition(condition: .onQueue(self.lane.queue))
            return try work(self.connection)
        }
    }

    /// Runs one statement on the lane and returns all its rows.
    package func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        try await onLane { try $0.query(sql, binds) }
    }

    /// Runs one statement on the lane and returns SQLite's count of changed rows.
    @discardableResult
    package func execute(_ sql: String, _ binds: [SQLValue]) async throws -> Int {
        try await onLane { try $0.execute(sql, binds) }
    }

    /// Runs `body` between `BEGIN IMMEDIATE` and `COMMIT`, rolling back when anything throws.
    ///
    /// IMMEDIATE takes the write lock up front: a transaction that reads and then writes cannot
    /// fail half-way with SQLITE_BUSY because another process wrote in between, which is what
    /// makes read-check-write sequences (the last-admin guard) atomic.
    @discardableResult
    package func transaction<T: Sendable>(
        _ body: @escaping @Sendable (any SQLTransaction) throws -> T
    ) async throws -> T {
        try await onLane { connection in
            try connection.execute("BEGIN IMMEDIATE", [])
            let transaction = SQLiteTransaction(connection: connection)
            defer { transaction.finish() }
            do {
                let result = try body(transaction)
                try connection.execute("COMMIT", [])
                return result
            } catch {
                // A failed statement only undoes itself, and a failed COMMIT (busy) leaves the
                // transaction open; either way the whole transaction must go.
                if connection.isInTransaction {
                    _ = try? connection.execute("ROLLBACK", [])
                }
                throw error
            }
        }
    }

    /// Runs `body` between `BEGIN IMMEDIATE` and `COMMIT` with the connection reserved for it,
    /// rolling back when anything throws. The body runs on the lane (its task prefers the lane's
    /// executor), so its statements run in place; when it awaits something else the lane is free
    /// for other files' work, and the gate keeps this file's other statements from slipping in.
    package func withTransaction<T: Sendable>(
        _ body: @escaping @Sendable (any AsyncSQLTransaction) async throws -> T
    ) async throws -> T {
        if Self.transactionOwner == ObjectIdentifier(gate) {
            throw PersistenceError.sqlite(code: SQLITE_MISUSE, message: "transactions do not nest", sql: nil)
        }
        await gate.enterExclusive()
        defer { gate.leaveExclusive() }
        // One hop in and one out for the whole transaction instead of two per statement.
        return try await withTaskExecutorPreference(lane.executor) {
            try await self.runTransaction(body)
        }
    }

    private func runTransaction<T: Sendable>(
        _ body: @escaping @Sendable (any AsyncSQLTransaction) async throws -> T
    ) async throws -> T {
        _ = try await onLaneReserved { try $0.execute("BEGIN IMMEDIATE", []) }
        let transaction = SQLiteAsyncTransaction(database: self)
        do {
            let result = try await Self.$transactionOwner.withValue(ObjectIdentifier(gate)) {
                try await body(transaction)
            }
            transaction.finish()
            _ = try await onLaneReserved { try $0.execute("COMMIT", []) }
            return result
        } catch {
            transaction.finish()
            // As in `transaction(_:)`: a failed statement or COMMIT may leave it open.
            _ = try? await onLaneReserved { connection in
                if connection.isInTransaction { try connection.execute("ROLLBACK", []) }
            }
            throw error
        }
    }

    /// Runs one statement of an async transaction; only `SQLiteAsyncTransaction` calls it.
    fileprivate func reserved<T: Sendable>(
        _ work: @escaping @Sendable (SQLiteConnection) throws -> T
    ) async throws -> T {
        try await onLaneReserved(work)
    }

    package var preferredExecutor: (any TaskExecutor)? { lane.executor }

    /// Runs `SELECT 1` on the lane: it waits behind queued work, so it also shows a stalled lane.
    package func ping() async throws {
        _ = try await query("SELECT 1", [])
    }

    /// Closes the connection once the work queued before it has run; later calls throw
    /// `PersistenceError.unavailable`. Closing twice is harmless.
    package func close() async {
        _ = try? await onLane { $0.close() }
    }
}

/// The statements of one open async SQLite transaction; every call after the body returned
/// throws, so a transaction smuggled out of its body cannot write outside of it.
private final class SQLiteAsyncTransaction: AsyncSQLTransaction {
    private let database: SQLiteDatabase
    private let finished = Atomic<Bool>(false)

    init(database: SQLiteDatabase) {
        self.database = database
    }

    var dialect: SQLDialect { .sqlite }

    func finish() { finished.store(true, ordering: .relaxed) }

    private func checkActive() throws {
        guard !finished.load(ordering: .relaxed) else {
            throw PersistenceError.sqlite(code: SQLITE_MISUSE, message: "transaction used after it ended", sql: nil)
        }
    }

    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        try checkActive()
        return try await database.reserved { try $0.query(sql, binds) }
    }

    @discardableResult
    func execute(_ sql: String, _ binds: [SQLValue]) async throws -> Int {
        try checkActive()
        return try await database.reserved { try $0.execute(sql, binds) }
    }

    func executeScript(_ sql: String) async throws {
        try checkActive()
        try await database.reserved { try $0.executeScript(sql) }
    }
}

/// The statements of one open SQLite transaction.
///
/// Valid only inside the transaction's body: once the body returns it is finished and every call
/// throws, so a transaction smuggled out of the body cannot write outside of it.
private final class SQLiteTransaction: SQLTransaction {
    private let connection: SQLiteConnection
    private var isFinished = false

    init(connection: SQLiteConnection) {
        self.connection = connection
    }

    var dialect: SQLDialect { .sqlite }

    func finish() { isFinished = true }

    private func checkActive() throws {
        guard !isFinished else {
            throw PersistenceError.sqlite(code: SQLITE_MISUSE, message: "transaction used after it ended", sql: nil)
        }
    }

    func query(_ sql: String, _ binds: [SQLValue]) throws -> [SQLRow] {
        try checkActive()
        return try connection.query(sql, binds)
    }

    @discardableResult
    func execute(_ sql: String, _ binds: [SQLValue]) throws -> Int {
        try checkActive()
        return try connection.execute(sql, binds)
    }

    func executeScript(_ sql: String) throws {
        try checkActive()
        try connection.executeScript(sql)
    }
}
