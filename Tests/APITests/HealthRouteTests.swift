import Foundation
import Testing
import Engines
import TestSupport

@Suite(.timeLimit(.minutes(1))) struct HealthRouteTests {
    @Test func healthIsPublicAndShowsTheVersionOnlyToKeyHolders() async throws {
        let gateway = try await TestGateway.start()
        let anonymous = try await gateway.request("GET", "/api/health", key: nil)
        #expect(anonymous.status == 200)
        #expect(anonymous.object["status"] as? String == "ok")
        #expect(anonymous.object["timestamp"] as? String != nil)
        #expect(anonymous.object["version"] == nil)
        let keyed = try await gateway.request("GET", "/api/health")
        #expect(keyed.object["version"] as? String == "0.1.0")
        let badKey = try await gateway.request("GET", "/api/health", key: "owa_k1_nope")
        #expect(badKey.status == 200)
        #expect(badKey.object["version"] == nil)
        await gateway.stop()
    }

    @Test func liveAlwaysAnswersOk() async throws {
        let gateway = try await TestGateway.start()
        let response = try await gateway.request("GET", "/api/health/live", key: nil)
        #expect(response.status == 200)
        #expect(response.text == #"{"status":"ok"}"#)
        await gateway.stop()
    }

    @Test func readyReportsBothDatabasesUp() async throws {
        let gateway = try await TestGateway.start()
        let response = try await gateway.request("GET", "/api/health/ready", key: nil)
        #expect(response.status == 200)
        #expect(response.text == #"{"status":"ok","details":{"mainDatabase":{"status":"up"},"dataDatabase":{"status":"up"}}}"#)
        await gateway.stop()
    }

    @Test func aDataDatabaseThatCannotBeOpenedMakesReadiness503() async throws {
        // A directory where the database file should be: SQLite cannot open it.
        let blocker = FileManager.default.temporaryDirectory.appendingPathComponent("openwa-blocked-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: blocker, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: blocker) }
        let gateway = try await TestGateway.start(dataPath: blocker.path)
        let response = try await gateway.request("GET", "/api/health/ready", key: nil)
        #expect(response.status == 503)
        #expect(response.text == #"{"status":"error","details":{"mainDatabase":{"status":"up"},"dataDatabase":{"status":"down"}}}"#)
        // Liveness does not depend on databases.
        #expect(try await gateway.request("GET", "/api/health/live", key: nil).status == 200)
        await gateway.stop()
    }

    @Test func drainingMakesReadiness503WithTheShutdownDetail() async throws {
        let gateway = try await TestGateway.start()
        gateway.readiness.service?.beginDraining()
        let response = try await gateway.request("GET", "/api/health/ready", key: nil)
        #expect(response.status == 503)
        #expect(response.text == #"{"status":"error","details":{"shutdown":{"status":"draining"}}}"#)
        await gateway.stop()
    }
}
