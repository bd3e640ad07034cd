import Engines
import Foundation
import Persistence
import Simulator
import Testing
import TestSupport

/// A bulk send while its PostgreSQL data database goes away and comes back (the fault cluster):
/// the batch waits, since no message goes out before its claim is stored, and then finishes
/// with every message sent exactly once.
@Suite(.enabled(if: PostgresTestEnvironment.current?.canInjectFaults == true), .timeLimit(.minutes(3)))
struct BulkOutageTests {
    static let alice = "15550200801"
    static let bob = "15550200802"

    @Test func aBatchWaitsOutADatabaseOutageAndLosesNothing() async throws {
        let environment = try #require(PostgresTestEnvironment.current)
        try await FaultClusterLock.shared.withLock {
            let world = try await LinkWorld.start(.postgres, phones: [Self.alice, Self.bob], onFaultCluster: true)
            let id = try await world.createAndStart("alice")
            try await world.link(id, phone: Self.alice)
            try await world.waitForPreKeys(of: Self.alice)
            let texts = (1...4).map { "outage \($0)" }
            let body = try JSONSerialization.data(withJSONObject: [
                "batchId": "through-an-outage",
                "messages": texts.map { ["chatId": Self.bob, "type": "text", "content": ["text": $0]] },
                "options": ["delayBetweenMessages": 1_000, "randomizeDelay": false],
            ])
            let submitted = try await world.gateway.request(
                "POST", "/api/sessions/\(id)/messages/send-bulk", body: String(decoding: body, as: UTF8.self))
            #expect(submitted.status == 202, "\(submitted.text)")
            let inbox = { try await world.simulator.inbox(of: Self.bob).filter { $0.body.hasPrefix("outage ") } }
            for _ in 0..<500 where try await inbox().isEmpty { try await Task.sleep(for: .milliseconds(10)) }

            try await environment.stopFaultCluster()
            // Meanwhile the data routes answer 503 with OpenWA's body, and the process keeps serving.
            let template = try await world.gateway.request(
                "POST", "/api/sessions/\(id)/templates", body: #"{"name":"later","body":"x"}"#)
            #expect(template.status == 503, "\(template.text)")
            #expect(template.object["statusCode"] as? Int == 503)
            let status = try await world.gateway.request("GET", "/api/sessions/\(id)/messages/batch/through-an-outage")
            #expect(status.status == 503, "\(status.text)")
            #expect(try await world.gateway.request("GET", "/api/health/live", key: nil).status == 200)
            try await Task.sleep(for: .seconds(3))
            let duringOutage = try await inbox().count
            try await environment.startFaultCluster()
            #expect(duringOutage <= 2, "at most the message already claimed went out while the database was down")

            var batch: [String: Any] = [:]
            for _ in 0..<600 {
                let response = try await world.gateway.request("GET", "/api/sessions/\(id)/messages/batch/through-an-outage")
                batch = response.object
                if ["completed", "failed", "cancelled"].contains(batch["status"] as? String ?? "") { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(batch["status"] as? String == "completed", "\(batch)")
            let results = batch["results"] as? [[String: Any]] ?? []
            #expect(results.map { $0["status"] as? String } == ["sent", "sent", "sent", "sent"], "\(results)")
            let received = try await inbox()
            #expect(received.map(\.body) == texts, "each message once, in order")
            #expect(Set(received.map(\.id)) == Set(results.compactMap { $0["messageId"] as? String }))
            await world.stop()
        }
    }
}
