/// The SQL flavour behind a database, for the few places where DDL or locking differs.
///
/// Statements are otherwise written once, in portable SQL with PostgreSQL-style `$1, $2`
/// placeholders and double-quoted camelCase column names.
package enum SQLDialect: Sendable, Equatable {
    case sqlite
    case postgres

    /// The column type for a boolean. SQLite has none and stores 0/1 integers.
    package var booleanType: String {
        switch self {
        case .sqlite: "INTEGER"
        case .postgres: "BOOLEAN"
        }
    }

    /// The column type for a 64-bit integer. SQLite's INTEGER already holds 64 bits.
    package var bigIntegerType: String {
        switch self {
        case .sqlite: "INTEGER"
        case .postgres: "BIGINT"
        }
    }

    /// The literal for `true` in a column default.
    package var trueLiteral: String {
        switch self {
        case .sqlite: "1"
        case .postgres: "true"
        }
    }

    /// The suffix that makes a `SELECT` inside a transaction lock the rows it reads.
    ///
    /// SQLite needs none: `BEGIN IMMEDIATE` already holds the database's single write lock, so
    /// no other writer can interleave. PostgreSQL locks per row and needs `FOR UPDATE`.
    package var lockForUpdateSuffix: String {
        switch self {
        case .sqlite: ""
        case .postgres: " FOR UPDATE"
        }
    }

    /// A statement that, run first inside a transaction, makes migrations of concurrently
    /// booting nodes take turns: PostgreSQL's transaction-scoped advisory lock, released by
    /// COMMIT or ROLLBACK. SQLite needs none, as `BEGIN IMMEDIATE` already excludes other writers.
    package var migrationLockStatement: String? {
        switch self {
        case .sqlite: nil
        // The key is an arbitrary constant ("openwa" in ASCII) shared by every openwa build.
        case .postgres: "SELECT pg_advisory_xact_lock(111542236354401)"
        }
    }
}

/// A logical database ("main" or "data") that runs statements asynchronously.
///
/// Implementations serialize or pool connections as their driver needs; callers only see async
/// calls. Every statement uses `$N` placeholders bound from `binds` in order (`$1` is `binds[0]`).
package protocol SQLDatabase: Sendable {
    /// The logical name, "main" or "data", used in errors and health reports.
    var name: String { get }

    /// Which SQL flavour this database speaks.
    var dialect: SQLDialect { get }

    /// Runs a statement and returns all its rows.
    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow]

    /// Runs a statement and returns how many rows it inserted, updated or deleted.
    @discardableResult
    func execute(_ sql: String, _ binds: [SQLValue]) async throws -> Int

    /// Runs `body` inside one transaction on a connection reserved for it: committed when the
    /// body returns, rolled back when it throws.
    ///
    /// The body may await (PostgreSQL statements are network round trips on the reactor), so it
    /// gets an `AsyncSQLTransaction`. Inside the body, use only that transaction: a statement on
    /// the database itself would wait for a second connection (PostgreSQL) or for the transaction
    /// to end (SQLite, which refuses it rather than deadlock). The transaction is finished once
    /// the body returns, and every later call on it throws.
    func withTransaction<T: Sendable>(
        _ body: @escaping @Sendable (any AsyncSQLTransaction) async throws -> T
    ) async throws -> T

    /// Checks that the database answers (`SELECT 1`); throws `PersistenceError.unavailable` if not.
    func ping() async throws

    /// Releases the connection. Later calls throw `PersistenceError.unavailable`.
    func close() async

    /// Where a task that mostly talks to this database should run: SQLite's statements then run
    /// in place on the connection's lane instead of costing two thread switches each. Nil when
    /// the driver has no such thread (PostgreSQL's statements are network round trips).
    var preferredExecutor: (any TaskExecutor)? { get }
}

extension SQLDatabase {
    package var preferredExecutor: (any TaskExecutor)? { nil }
}

/// The statements available inside `SQLDatabase.withTransaction`, valid only inside its body.
///
/// Statements run one after another in the order they are awaited; issuing two at once from
/// child tasks is allowed but they still run in sequence on the one connection.
package protocol AsyncSQLTransaction: Sendable {
    /// Which SQL flavour the transaction's database speaks.
    var dialect: SQLDialect { get }

    /// Runs a statement and returns all its rows.
    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow]

    /// Runs a statement and returns how many rows it inserted, updated or deleted.
    @discardableResult
    func execute(_ sql: String, _ binds: [SQLValue]) async throws -> Int

    /// Runs several `;`-separated statements without binds (migrations).
    func executeScript(_ sql: String) async throws
}

/// The statements of a synchronous transaction body, for drivers whose connection lives on a
/// thread that may block (`SQLiteDatabase.transaction(_:)`). Valid only inside the body.
package protocol SQLTransaction {
    /// Which SQL flavour the transaction's database speaks.
    var dialect: SQLDialect { get }

    /// Runs a statement and returns all its rows.
    func query(_ sql: String, _ binds: [SQLValue]) throws -> [SQLRow]

    /// Runs a statement and returns how many rows it inserted, updated or deleted.
    @discardableResult
    func execute(_ sql: String, _ binds: [SQLValue]) throws -> Int

    /// Runs several `;`-separated statements without binds (migrations).
    func executeScript(_ sql: String) throws
}

extension SQLDatabase {
    /// Runs a statement without binds and returns all its rows.
    package func query(_ sql: String) async throws -> [SQLRow] {
        try await query(sql, [])
    }

    /// Runs a statement without binds and returns how many rows it changed.
    @discardableResult
    package func execute(_ sql: String) async throws -> Int {
        try await execute(sql, [])
    }
}

extension SQLTransaction {
    /// Runs a statement without binds and returns all its rows.
    package func query(_ sql: String) throws -> [SQLRow] {
        try query(sql, [])
    }

    /// Runs a statement without binds and returns how many rows it changed.
    @discardableResult
    package func execute(_ sql: String) throws -> Int {
        try execute(sql, [])
    }
}

extension AsyncSQLTransaction {
    /// Runs a statement without binds and returns all its rows.
    package func query(_ sql: String) async throws -> [SQLRow] {
        try await query(sql, [])
    }

    /// Runs a statement without binds and returns how many rows it changed.
    @discardableResult
    package func execute(_ sql: String) async throws -> Int {
        try await execute(sql, [])
    }
}
