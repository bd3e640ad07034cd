import Foundation
import Persistence
import Reactor
import Testing
import TestSupport

/// The database drivers the store suites run against: SQLite always, PostgreSQL when the test
/// clusters are configured (see `PostgresTestEnvironment`).
enum TestDriver: String, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    /// The drivers available in this run, for `@Test(arguments:)`.
    static var available: [TestDriver] {
        if PostgresTestEnvironment.isAvailable { return [.sqlite, .postgres] }
        print(PostgresTestEnvironment.missingMessage)
        return [.sqlite]
    }
}

/// One test's database: a fresh SQLite file, or a fresh schema in the PostgreSQL test cluster
/// (so parallel tests never see each other's rows), with a way to open further handles on it.
struct TestDatabase {
    let scratch: Scratch
    /// Opens another handle on the same database (a "restart", or a second node).
    let reopen: () async throws -> any SQLDatabase
}

extension PostgresTestEnvironment {
    /// A pool configuration for this cluster with small, test-friendly limits.
    func configuration(
        schema: String = "public", port: Int? = nil, poolSize: Int = 4, statementTimeout: Int = 30_000,
        idleTimeout: Int = 30_000, connectionTimeout: Int = 10_000
    ) -> PostgresConfiguration {
        PostgresConfiguration(
            host: host, port: port ?? self.port, username: username, password: password, database: database,
            schema: schema, poolSize: poolSize, statementTimeoutMilliseconds: statementTimeout,
            idleTimeoutMilliseconds: idleTimeout, connectionTimeoutMilliseconds: connectionTimeout)
    }
}

/// Runs `body` with a reactor thread of its own, then stops it and checks that nothing was left
/// registered on it (every connection closed).
func withReactor<T>(
    clock: any ReactorClock = MonotonicReactorClock(), workers: WorkerPool = WorkerPool(size: 2),
    _ body: (ReactorHandle) async throws -> T
) async throws -> T {
    let handle = try ReactorThread.start(clock: clock, workers: workers, logger: quietLogger)
    do {
        let result = try await body(handle)
        let left = try await handle.submit { $0.registrationCount }
        #expect(left == 0, "descriptors left registered on the reactor")
        handle.stop()
        await handle.waitUntilStopped()
        return result
    } catch {
        handle.stop()
        await handle.waitUntilStopped()
        throw error
    }
}

/// Runs `body` with a fresh schema in the PostgreSQL test cluster, dropped afterwards.
func withPostgresSchema<T>(
    on handle: ReactorHandle, port: Int? = nil, _ body: (PostgresTestEnvironment, String) async throws -> T
) async throws -> T {
    let environment = try #require(PostgresTestEnvironment.current)
    let schema = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    let admin = try await PostgresDatabase.open(
        environment.configuration(port: port, poolSize: 1), name: "admin", handle: handle)
    try await admin.execute("CREATE SCHEMA \(schema)")
    do {
        let result = try await body(environment, schema)
        try await admin.execute("DROP SCHEMA \(schema) CASCADE")
        await admin.close()
        return result
    } catch {
        _ = try? await admin.execute("DROP SCHEMA \(schema) CASCADE")
        await admin.close()
        throw error
    }
}

/// Runs `body` with a fresh database of `driver`, migrated with `migrations`, closed afterwards.
func withDatabase<T>(
    _ driver: TestDriver, named name: String = "main", migrations: [Migration] = [],
    _ body: (any SQLDatabase, TestDatabase) async throws -> T
) async throws -> T {
    switch driver {
    case .sqlite:
        return try await withScratch { scratch async throws in
            let path = scratch.path("db/\(name).sqlite")
            let context = TestDatabase(scratch: scratch) {
                try await SQLiteDatabase.open(path: path, name: name, pool: scratch.pool)
            }
            return try await run(try await context.reopen(), context, migrations, body)
        }
    case .postgres:
        return try await withScratch { scratch async throws in
            try await withReactor(workers: scratch.pool) { handle async throws in
                try await withPostgresSchema(on: handle) { environment, schema async throws in
                    let context = TestDatabase(scratch: scratch) {
                        try await PostgresDatabase.open(
                            environment.configuration(schema: schema), name: name, handle: handle)
                    }
                    return try await run(try await context.reopen(), context, migrations, body)
                }
            }
        }
    }
}

private func run<T>(
    _ database: any SQLDatabase, _ context: TestDatabase, _ migrations: [Migration],
    _ body: (any SQLDatabase, TestDatabase) async throws -> T
) async throws -> T {
    do {
        try await Migrator.migrate(database, migrations)
        let result = try await body(database, context)
        await database.close()
        return result
    } catch {
        await database.close()
        throw error
    }
}

/// Catalogue queries that differ between the dialects, for the schema tests.
enum Catalogue {
    static func tableNames(_ database: any SQLDatabase) async throws -> Set<String> {
        let sql =
            database.dialect == .sqlite
            ? "SELECT name FROM sqlite_master WHERE type = 'table'"
            : "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()"
        return Set(try await database.query(sql).compactMap { $0.string("name") })
    }

    static func columnNames(_ database: any SQLDatabase, table: String) async throws -> [String] {
        let sql =
            database.dialect == .sqlite
            ? "PRAGMA table_info(\(table))"
            : """
            SELECT column_name AS name FROM information_schema.columns \
            WHERE table_schema = current_schema() AND table_name = '\(table)' ORDER BY ordinal_position
            """
        return try await database.query(sql).compactMap { $0.string("name") }
    }

    /// Indexes created by migrations (not those SQLite or PostgreSQL make for keys).
    static func indexNames(_ database: any SQLDatabase, table: String) async throws -> Set<String> {
        let sql =
            database.dialect == .sqlite
            ? "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = '\(table)' AND sql IS NOT NULL"
            : """
            SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema() \
            AND tablename = '\(table)' AND indexname LIKE 'IDX%'
            """
        return Set(try await database.query(sql).compactMap { $0.string("name") })
    }
}

/// Records a failure when the run promised its services but PostgreSQL is not configured, and
/// says loudly that PostgreSQL suites were skipped otherwise.
@Suite("Test services")
struct PostgresServiceCheck {
    @Test func postgresIsConfiguredWhenServicesAreRequired() {
        guard !PostgresTestEnvironment.isAvailable else { return }
        print(PostgresTestEnvironment.missingMessage)
        if PostgresTestEnvironment.servicesRequired {
            Issue.record("OPENWA_TEST_SERVICES=1 but PostgreSQL is not configured: \(PostgresTestEnvironment.missingMessage)")
        }
    }
}
