import Foundation
import Persistence
import Testing
import TestSupport

/// `/api/health/ready` with the data database on PostgreSQL (the fault cluster), stopped and
/// started under a running gateway: no restart is needed for it to turn 200 again.
@Suite(
    "Readiness with PostgreSQL data",
    .enabled(if: PostgresTestEnvironment.current?.canInjectFaults == true), .timeLimit(.minutes(1)))
struct PostgresReadinessTests {
    private static let up = #"{"status":"ok","details":{"mainDatabase":{"status":"up"},"dataDatabase":{"status":"up"}}}"#
    private static let dataDown =
        #"{"status":"error","details":{"mainDatabase":{"status":"up"},"dataDatabase":{"status":"down"}}}"#

    @Test func readinessFollowsThePostgresDataDatabaseWithoutARestart() async throws {
        let environment = try #require(PostgresTestEnvironment.current)
        let faultPort = try #require(environment.faultPort)
        let configuration = PostgresConfiguration(
            host: environment.host, port: faultPort, username: environment.username, password: environment.password,
            database: environment.database, poolSize: 2, connectionTimeoutMilliseconds: 1_000)
        let probeTimeout = 1_500
        try await FaultClusterLock.shared.withLock {
            // Boot with the server down: the gateway starts anyway and reports the data database down.
            try await environment.stopFaultCluster()
            let gateway: TestGateway
            do {
                gateway = try await TestGateway.start(dataPostgres: configuration, readinessTimeoutMilliseconds: probeTimeout)
            } catch {
                try await environment.startFaultCluster()
                throw error
            }
            var ready = try await gateway.request("GET", "/api/health/ready", key: nil)
            #expect(ready.status == 503)
            #expect(ready.text == Self.dataDown)
            #expect(try await gateway.request("GET", "/api/health/live", key: nil).status == 200)
            #expect(try await gateway.request("GET", "/api/auth/api-keys").status == 200, "keys live in main")

            try await environment.startFaultCluster()
            ready = try await gateway.request("GET", "/api/health/ready", key: nil)
            #expect(ready.status == 200)
            #expect(ready.text == Self.up)

            // Down while running: 503 within the probe timeout, then 200 again once it is back.
            try await environment.stopFaultCluster()
            let started = Date()
            ready = try await gateway.request("GET", "/api/health/ready", key: nil)
            #expect(ready.status == 503)
            #expect(ready.text == Self.dataDown)
            // Bounded by the probe timeout, not the database's own timeouts (slack for a loaded machine).
            #expect(Date().timeIntervalSince(started) < Double(probeTimeout) / 1000 + 5)
            try await environment.startFaultCluster()
            ready = try await gateway.request("GET", "/api/health/ready", key: nil)
            #expect(ready.status == 200)
            await gateway.stop()
        }
    }
}
