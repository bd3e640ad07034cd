import Foundation
import Persistence
import Reactor
import Testing
import TestSupport

/// PostgreSQL going away and coming back, on the fault cluster that only these tests touch
/// (`pg_ctl stop -m fast`, then start on the same port and data directory).
@Suite(
    "PostgreSQL outage",
    .enabled(if: PostgresTestEnvironment.current?.canInjectFaults == true), .timeLimit(.minutes(1)))
struct PostgresOutageTests {
    @Test func queriesFailFastWhileTheServerIsDownAndRecoverWithoutReopening() async throws {
        let environment = try #require(PostgresTestEnvironment.current)
        let faultPort = try #require(environment.faultPort)
        try await FaultClusterLock.shared.withLock {
            try await withReactor { handle async throws in
                try await withPostgresSchema(on: handle, port: faultPort) { _, schema async throws in
                    let database = try await PostgresDatabase.open(
                        environment.configuration(schema: schema, port: faultPort, poolSize: 2, connectionTimeout: 2_000),
                        name: "data", handle: handle)
                    try await Migrator.migrate(database, MainSchema.migrations)
                    let store = SQLApiKeyStore(database: database)
                    let key = makeKey("survivor", role: "admin")
                    try await store.insert(key)

                    try await environment.stopFaultCluster()
                    do {
                        for _ in 0..<3 {
                            let started = Date()
                            let error = await #expect(throws: PersistenceError.self) { _ = try await store.find(id: key.id) }
                            #expect(error?.isUnavailable == true)
                            // Bounded by the 2 s connect timeout (a server shutting down may still take the
                            // connection and never answer it), never by the query: slack for a loaded machine.
                            #expect(Date().timeIntervalSince(started) < 10, "an outage must fail fast, not hang")
                        }
                        let pingError = await #expect(throws: PersistenceError.self) { try await database.ping() }
                        #expect(pingError?.isUnavailable == true)
                        #expect(try await database.openConnectionCount() == 0, "broken connections are discarded")
                    } catch {
                        try await environment.startFaultCluster()
                        throw error
                    }
                    try await environment.startFaultCluster()

                    // Same handle, no reopening: the next use connects afresh; nothing committed is lost.
                    try await database.ping()
                    #expect(try await store.find(id: key.id) == key)
                    let second = makeKey("after-restart")
                    try await store.insert(second)
                    #expect(try await store.count() == 2)
                    await database.close()
                }
            }
        }
    }
}
