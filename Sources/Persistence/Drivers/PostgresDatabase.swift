import Reactor
import Synchronization

/// A PostgreSQL database behind a pool of non-blocking libpq connections on the reactor.
///
/// Every libpq call happens on the reactor thread: the async methods post their command to the
/// reactor and are resumed from there when its results have arrived, so no thread ever blocks
/// on the network (the one exception, a timed-out statement's cancel request, runs on a worker
/// lane). Connections open lazily; a database that is down makes calls fail fast as
/// `unavailable`, and the next call after it is back up gets a fresh connection.
package final class PostgresDatabase: SQLDatabase {
    /// The logical name, "main" or "data".
    package let name: String
    /// Always `.postgres`.
    package var dialect: SQLDialect { .postgres }

    private let handle: ReactorHandle
    private let pool: ReactorBound<PostgresPool>

    private init(name: String, handle: ReactorHandle, pool: ReactorBound<PostgresPool>) {
        self.name = name
        self.handle = handle
        self.pool = pool
    }

    /// Creates the pool on `handle`'s reactor. Nothing connects yet: the first statement opens
    /// the first connection (call `ping()` to check the server at once).
    package static func open(
        _ configuration: PostgresConfiguration, name: String, handle: ReactorHandle
    ) async throws -> PostgresDatabase {
        let pool = try await handle.submit { reactor in
            ReactorBound(
                handle: reactor.handle,
                PostgresPool(reactor: reactor, configuration: configuration, databaseName: name))
        }
        return PostgresDatabase(name: name, handle: handle, pool: pool)
    }

    /// Runs one statement on a pooled connection and returns all its rows.
    package func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        try await perform(.statement(sql, binds)).rows
    }

    /// Runs one statement and returns how many rows it inserted, updated or deleted.
    @discardableResult
    package func execute(_ sql: String, _ binds: [SQLValue]) async throws -> Int {
        try await perform(.statement(sql, binds)).affectedRows
    }

    /// Leases one connection for the whole of `body`, between `BEGIN` and `COMMIT` (or
    /// `ROLLBACK` when anything throws). A connection that comes back still inside a transaction
    /// (its `ROLLBACK` failed) is closed rather than reused.
    package func withTransaction<T: Sendable>(
        _ body: @escaping @Sendable (any AsyncSQLTransaction) async throws -> T
    ) async throws -> T {
        let lease = try await onReactor { pool, done in
            pool.acquire { leased in done(leased.map { ReactorBound(handle: pool.reactor.handle, $0) }) }
        }
        let transaction = PostgresTransaction(database: self, lease: lease)
        do {
            _ = try await run(.script("BEGIN"), on: lease)
            let result = try await body(transaction)
            transaction.finish()
            _ = try await run(.script("COMMIT"), on: lease)
            await release(lease)
            return result
        } catch {
            transaction.finish()
            _ = try? await run(.script("ROLLBACK"), on: lease)
            await release(lease)
            throw error
        }
    }

    /// Runs `SELECT 1`; fails as unavailable when no connection can be had.
    package func ping() async throws {
        _ = try await query("SELECT 1", [])
    }

    /// Closes every connection; later calls throw `PersistenceError.unavailable`. Harmless after
    /// the reactor stopped, which closed the pool already.
    package func close() async {
        _ = try? await onReactor { pool, done in
            pool.close()
            done(.success(()))
        }
    }

    /// What the pool holds right now, for tests and diagnostics.
    package func poolStatus() async throws -> PostgresPoolStatus {
        try await onReactor { pool, done in done(.success(pool.status)) }
    }

    /// How many connections are open, idle or leased.
    package func openConnectionCount() async throws -> Int {
        try await poolStatus().open
    }

    // MARK: - Reaching the reactor

    private func perform(_ kind: PostgresCommand.Kind) async throws -> PostgresOutcome {
        try await onReactor { pool, done in pool.perform(kind, done) }
    }

    /// Runs one command of a transaction on its leased connection.
    fileprivate func run(
        _ kind: PostgresCommand.Kind, on lease: ReactorBound<PostgresConnection>
    ) async throws -> PostgresOutcome {
        try await onReactor { _, done in lease.value.enqueue(PostgresCommand(kind: kind, completion: done)) }
    }

    private func release(_ lease: ReactorBound<PostgresConnection>) async {
        _ = try? await onReactor { pool, done in
            pool.release(lease.value)
            done(.success(()))
        }
    }

    /// Posts `body` to the reactor and suspends until it calls `done` there.
    private func onReactor<T: Sendable>(
        _ body: @escaping @Sendable (PostgresPool, @escaping (Result<T, PersistenceError>) -> Void) -> Void
    ) async throws -> T {
        let pool = self.pool
        let name = self.name
        return try await withCheckedThrowingContinuation { continuation in
            let posted = handle.post { _ in
                body(pool.value) { result in continuation.resume(with: result) }
            }
            if !posted {
                continuation.resume(throwing: PersistenceError.unavailable(database: name, reason: "the reactor has stopped"))
            }
        }
    }
}

/// The statements of one open PostgreSQL transaction, all on its leased connection. Every call
/// after the body returned throws, so a transaction smuggled out of its body cannot write.
private final class PostgresTransaction: AsyncSQLTransaction {
    private let database: PostgresDatabase
    private let lease: ReactorBound<PostgresConnection>
    private let finished = Atomic<Bool>(false)

    init(database: PostgresDatabase, lease: ReactorBound<PostgresConnection>) {
        self.database = database
        self.lease = lease
    }

    var dialect: SQLDialect { .postgres }

    func finish() { finished.store(true, ordering: .relaxed) }

    private func checkActive() throws {
        guard !finished.load(ordering: .relaxed) else {
            throw PersistenceError.postgres(sqlState: nil, message: "transaction used after it ended", sql: nil)
        }
    }

    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        try checkActive()
        return try await database.run(.statement(sql, binds), on: lease).rows
    }

    @discardableResult
    func execute(_ sql: String, _ binds: [SQLValue]) async throws -> Int {
        try checkActive()
        return try await database.run(.statement(sql, binds), on: lease).affectedRows
    }

    func executeScript(_ sql: String) async throws {
        try checkActive()
        _ = try await database.run(.script(sql), on: lease)
    }
}
