import Foundation
import Glibc
import Persistence
import Reactor
import Testing
import TestSupport

/// The PostgreSQL driver itself: value mapping, errors, the statement cache, timeouts and the
/// pool, against the test cluster. Time-dependent behaviour runs on a manual clock.
@Suite("PostgreSQL database", .enabled(if: PostgresTestEnvironment.isAvailable), .timeLimit(.minutes(1)))
struct PostgresDatabaseTests {
    /// Runs `body` with a database on a fresh schema, closed and dropped afterwards.
    private func withPostgres(
        clock: any ReactorClock = MonotonicReactorClock(), poolSize: Int = 4, statementTimeout: Int = 30_000,
        idleTimeout: Int = 30_000, connectionTimeout: Int = 10_000,
        _ body: (PostgresDatabase, ReactorHandle) async throws -> Void
    ) async throws {
        try await withReactor(clock: clock) { handle async throws in
            try await withPostgresSchema(on: handle) { environment, schema async throws in
                let configuration = environment.configuration(
                    schema: schema, poolSize: poolSize, statementTimeout: statementTimeout, idleTimeout: idleTimeout,
                    connectionTimeout: connectionTimeout)
                let database = try await PostgresDatabase.open(configuration, name: "data", handle: handle)
                do {
                    try await body(database, handle)
                    await database.close()
                } catch {
                    await database.close()
                    throw error
                }
            }
        }
    }

    @Test func valuesReadLikeSQLiteRows() async throws {
        try await withPostgres { database, _ async throws in
            let row = try #require(
                try await database.query(
                    """
                    SELECT $1::int8 AS big, 7::int2 AS small, $2::float8 AS real, 1.25::numeric AS num, $3::text AS text,
                    $4::bytea AS blob, true AS yes, false AS no, NULL::text AS nothing, '2026-01-02'::date AS day
                    """,
                    [.integer(-42), .real(2.5), .text("héllo 'quoted' \\ back"), .blob([0, 1, 0x7f, 0xfe, 0xff])]
                ).first)
            #expect(row["big"] == .integer(-42))
            #expect(row["small"] == .integer(7))
            #expect(row["real"] == .real(2.5))
            #expect(row["num"] == .real(1.25))
            #expect(row["text"] == .text("héllo 'quoted' \\ back"))
            #expect(row["blob"] == .blob([0, 1, 0x7f, 0xfe, 0xff]))
            #expect(row["yes"] == .integer(1))
            #expect(row["no"] == .integer(0))
            #expect(row.bool("yes") == true)
            #expect(row["nothing"] == .null)
            #expect(row["day"] == .text("2026-01-02"))

            // Booleans and blobs bound as SQLValue land in typed columns and read back the same.
            try await database.execute("CREATE TABLE flags (on_ BOOLEAN NOT NULL, data BYTEA, n BIGINT)")
            try await database.execute(
                "INSERT INTO flags (on_, data, n) VALUES ($1, $2, $3)", [SQLValue(true), .blob([]), .null])
            let stored = try #require(try await database.query("SELECT * FROM flags").first)
            #expect(stored["on_"] == .integer(1))
            #expect(stored["data"] == .blob([]))
            #expect(stored["n"] == .null)
            #expect(try await database.execute("UPDATE flags SET n = $1", [.integer(5)]) == 1)
        }
    }

    @Test func errorsAreClassifiedBySQLState() async throws {
        try await withPostgres(poolSize: 1) { database, _ async throws in
            try await database.execute("CREATE TABLE u (k TEXT PRIMARY KEY)")
            try await database.execute("INSERT INTO u (k) VALUES ($1)", [.text("a")])
            let duplicate = await #expect(throws: PersistenceError.self) {
                try await database.execute("INSERT INTO u (k) VALUES ($1)", [.text("a")])
            }
            #expect(duplicate?.isConstraintViolation == true)
            #expect(duplicate?.sqlState == "23505")

            let syntax = await #expect(throws: PersistenceError.self) { try await database.query("SELEC 1") }
            #expect(syntax?.sqlState == "42601")
            #expect(syntax?.isUnavailable == false)
            // The connection survives statement errors.
            #expect(try await database.query("SELECT 1 AS one").first?.int("one") == 1)
            #expect(try await database.openConnectionCount() == 1)
        }
    }

    @Test func statementsArePreparedOncePerConnection() async throws {
        try await withPostgres(poolSize: 1) { database, _ async throws in
            let sql = "SELECT $1::int8 + 1 AS next"
            for value in 0..<3 {
                #expect(try await database.query(sql, [.integer(Int64(value))]).first?.int("next") == Int64(value + 1))
            }
            let prepared = try await database.query(
                "SELECT count(*) AS n FROM pg_prepared_statements WHERE statement = $1", [.text(sql)])
            #expect(prepared.first?.int("n") == 1)
        }
    }

    @Test func transactionsCommitOrRollBackAsAWhole() async throws {
        try await withPostgres { database, _ async throws in
            try await database.execute("CREATE TABLE t (x INTEGER)")
            await #expect(throws: DeliberateFailure.self) {
                try await database.withTransaction { transaction in
                    try await transaction.execute("INSERT INTO t (x) VALUES ($1)", [.integer(1)])
                    throw DeliberateFailure()
                }
            }
            let inserted = try await database.withTransaction { transaction in
                try await transaction.execute("INSERT INTO t (x) VALUES (2), (3)")
            }
            #expect(inserted == 2)
            #expect(try await database.query("SELECT x FROM t ORDER BY x").map { $0.int("x") } == [2, 3])
        }
    }

    @Test func theServerCancelsAStatementPastItsTimeoutAndTheConnectionStays() async throws {
        try await withPostgres(poolSize: 1, statementTimeout: 200) { database, _ async throws in
            let error = await #expect(throws: PersistenceError.self) { try await database.query("SELECT pg_sleep(5)") }
            #expect(error?.isUnavailable == true)
            #expect(error?.sqlState == "57014")
            #expect(try await database.query("SELECT 1 AS one").first?.int("one") == 1)
            #expect(try await database.openConnectionCount() == 1)
        }
    }

    @Test func theReactorAbandonsAStatementTheServerNeverEnds() async throws {
        let clock = ManualReactorClock()
        try await withPostgres(clock: clock, poolSize: 2, statementTimeout: 60_000) { database, _ async throws in
            let marker = "owa_backstop_\(UUID().uuidString.prefix(8))"
            let sleeper = Task { try await database.query("SELECT pg_sleep(30) AS \(marker)") }
            try await waitUntil { try await runningStatements(like: marker, on: database) == 1 }
            // Past the server's own timeout plus the grace the reactor gives it.
            clock.advance(milliseconds: 61_001)
            let error = await #expect(throws: PersistenceError.self) { _ = try await sleeper.value }
            #expect(error?.isUnavailable == true)
            // The abandoned connection was closed and the cancel request reached the server.
            try await waitUntil { try await runningStatements(like: marker, on: database) == 0 }
        }
    }

    @Test func waitersTimeOutWhenEveryConnectionIsBusy() async throws {
        let clock = ManualReactorClock()
        try await withPostgres(clock: clock, poolSize: 1, connectionTimeout: 5_000) { database, _ async throws in
            let (gate, open) = AsyncStream.makeStream(of: Void.self)
            let holder = Task {
                try await database.withTransaction { transaction in
                    try await transaction.execute("SELECT 1")
                    for await _ in gate { break }
                }
            }
            try await waitUntil { try await database.openConnectionCount() == 1 }
            let waiter = Task { try await database.query("SELECT 2 AS two") }
            try await waitUntil { try await database.poolStatus().waiting == 1 }
            clock.advance(milliseconds: 5_001)
            let error = await #expect(throws: PersistenceError.self) { _ = try await waiter.value }
            #expect(error?.isUnavailable == true)
            open.yield()
            _ = try await holder.value
            #expect(try await database.query("SELECT 2 AS two").first?.int("two") == 2)
        }
    }

    @Test func idleConnectionsCloseAfterTheIdleTimeout() async throws {
        let clock = ManualReactorClock()
        try await withPostgres(clock: clock, idleTimeout: 1_000) { database, _ async throws in
            try await database.ping()
            #expect(try await database.openConnectionCount() == 1)
            clock.advance(milliseconds: 999)
            #expect(try await database.openConnectionCount() == 1)
            clock.advance(milliseconds: 2)
            #expect(try await database.openConnectionCount() == 0)
            try await database.ping()  // and the next use opens a new one
            #expect(try await database.openConnectionCount() == 1)
        }
    }

    @Test func aKilledBackendIsReplacedOnTheNextUse() async throws {
        try await withPostgres(poolSize: 1) { database, handle async throws in
            let pid = try #require(try await database.query("SELECT pg_backend_pid() AS pid").first?.int("pid"))
            let environment = try #require(PostgresTestEnvironment.current)
            let admin = try await PostgresDatabase.open(environment.configuration(poolSize: 1), name: "admin", handle: handle)
            _ = try await admin.query("SELECT pg_terminate_backend($1::int)", [.integer(pid)])
            await admin.close()
            // The pool notices the closed socket (or the next statement does, and fails once).
            var newPid: Int64?
            for _ in 0..<2 where newPid == nil {
                newPid = try? await database.query("SELECT pg_backend_pid() AS pid").first?.int("pid")
            }
            #expect(newPid != nil && newPid != pid)
        }
    }

    @Test func aRefusedConnectionFailsFastAsUnavailable() async throws {
        let port = try unusedPort()
        try await withReactor { handle async throws in
            let environment = try #require(PostgresTestEnvironment.current)
            let database = try await PostgresDatabase.open(
                environment.configuration(port: port), name: "data", handle: handle)
            let started = Date()
            let error = await #expect(throws: PersistenceError.self) { try await database.ping() }
            #expect(error?.isUnavailable == true)
            #expect(error?.database == "data")
            // Refused at once, not after the 10 s connection timeout (the margin absorbs a loaded host).
            #expect(Date().timeIntervalSince(started) < 8)
            await database.close()
        }
    }

    @Test func aServerThatNeverAnswersTimesOutTheConnect() async throws {
        let silent = try SilentListener()
        defer { silent.close() }
        let clock = ManualReactorClock()
        try await withReactor(clock: clock) { handle async throws in
            let environment = try #require(PostgresTestEnvironment.current)
            let database = try await PostgresDatabase.open(
                environment.configuration(port: silent.port, connectionTimeout: 3_000), name: "data", handle: handle)
            let ping = Task { try await database.ping() }
            try await waitUntil { try await database.poolStatus().connecting == 1 }
            clock.advance(milliseconds: 3_001)
            let error = await #expect(throws: PersistenceError.self) { try await ping.value }
            #expect(error?.isUnavailable == true)
            await database.close()
        }
    }
}

// MARK: - Helpers

/// How many statements containing `marker` are running on the server (a second connection of
/// the same pool asks).
private func runningStatements(like marker: String, on database: PostgresDatabase) async throws -> Int64 {
    let rows = try await database.query(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE $1 AND pid <> pg_backend_pid()",
        [.text("%\(marker)%")])
    return rows.first?.int("n") ?? -1
}

/// Polls `condition` (an external process's state) every 20 ms for up to 10 s.
func waitUntil(_ condition: () async throws -> Bool) async throws {
    for _ in 0..<500 {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("condition not reached within 10 s")
}

/// A loopback port with nothing listening on it.
private func unusedPort() throws -> Int {
    let listener = try SilentListener()
    listener.close()
    return listener.port
}

/// A listening socket that never accepts: connects complete in the kernel, then nothing answers.
private final class SilentListener: Sendable {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, __CONST_SOCKADDR_ARG(__sockaddr__: $0), length) }
        }
        guard bound == 0, listen(fd, 16) == 0 else { throw DeliberateFailure() }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, __SOCKADDR_ARG(__sockaddr__: $0), &length) }
        }
        self.fd = fd
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { _ = Glibc.close(fd) }
}
