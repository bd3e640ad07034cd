import Synchronization

/// A database that may not be reachable yet: every call first makes sure it is open (opening
/// and migrating it on demand), so the gateway can boot and report the database `down` instead
/// of dying, and recovers by itself once the file or server is usable again.
package final class ReopeningDatabase: SQLDatabase {
    package typealias Opener = @Sendable () async throws -> any SQLDatabase

    package let name: String
    package let dialect: SQLDialect
    private let opener: Opener
    private let current = Mutex<(any SQLDatabase)?>(nil)
    private let closed = Atomic<Bool>(false)

    /// - Parameter opener: opens the database and brings its schema up to date.
    package init(name: String, dialect: SQLDialect, opener: @escaping Opener) {
        self.name = name
        self.dialect = dialect
        self.opener = opener
    }

    /// Tries to open now; returns the error when it cannot (the database stays closed).
    package func openNow() async -> (any Error)? {
        do {
            _ = try await database()
            return nil
        } catch {
            return error
        }
    }

    package func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        try await database().query(sql, binds)
    }

    @discardableResult
    package func execute(_ sql: String, _ binds: [SQLValue]) async throws -> Int {
        try await database().execute(sql, binds)
    }

    package func withTransaction<T: Sendable>(
        _ body: @escaping @Sendable (any AsyncSQLTransaction) async throws -> T
    ) async throws -> T {
        try await database().withTransaction(body)
    }

    package var preferredExecutor: (any TaskExecutor)? { current.withLock { $0?.preferredExecutor } }

    package func ping() async throws {
        try await database().ping()
    }

    package func close() async {
        closed.store(true, ordering: .relaxed)
        let open = current.withLock { database -> (any SQLDatabase)? in
            defer { database = nil }
            return database
        }
        await open?.close()
    }

    private func database() async throws -> any SQLDatabase {
        if let open = current.withLock({ $0 }) { return open }
        guard !closed.load(ordering: .relaxed) else {
            throw PersistenceError.unavailable(database: name, reason: "closed")
        }
        let opened: any SQLDatabase
        do {
            opened = try await opener()
        } catch let error as PersistenceError {
            throw error
        } catch {
            throw PersistenceError.unavailable(database: name, reason: "\(error)")
        }
        // Two callers may race to open; keep the first and close the spare.
        let (winner, spare) = current.withLock { slot -> (any SQLDatabase, (any SQLDatabase)?) in
            if let existing = slot { return (existing, opened) }
            slot = opened
            return (opened, nil)
        }
        if let spare { await spare.close() }
        return winner
    }
}
