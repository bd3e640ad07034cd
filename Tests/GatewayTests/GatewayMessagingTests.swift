import Foundation
import Reactor
import Simulator
import Testing
import TestSupport

/// Messages through the real binary: a phone streams messages at the gateway, the gateway is
/// SIGKILLed mid-stream and started again, and the stored set must equal the sent set.
@Suite(.timeLimit(.minutes(3))) struct GatewayMessagingTests {
    static let key = "owa_k1_" + String(repeating: "ef", count: 32)
    static let alice = "15550003001"
    static let bob = "15550003002"

    private func environment(_ simulator: Simulator, dataDirectory: String? = nil) -> [String: String] {
        GatewayProcess.simulatorEnvironment(simulator, key: Self.key, dataDirectory: dataDirectory)
    }

    private func status(_ gateway: GatewayProcess, port: Int, _ id: String) async throws -> String? {
        try await gateway.request("GET", "/api/sessions/\(id)", port: port, key: Self.key)?.object["status"] as? String
    }

    private func wait(_ what: String, _ condition: () async throws -> Bool) async throws {
        for _ in 0..<2_000 {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw GatewayProcessError.notReady(stdout: "", stderr: "timed out waiting for \(what)")
    }

    /// Every stored WhatsApp message id of the session, page by page.
    private func storedIDs(_ gateway: GatewayProcess, port: Int, _ id: String) async throws -> [String] {
        var ids: [String] = []
        while true {
            let page = try #require(
                try await gateway.request("GET", "/api/sessions/\(id)/messages?limit=100&offset=\(ids.count)", port: port, key: Self.key))
            let rows = page.object["messages"] as? [[String: Any]] ?? []
            ids += rows.compactMap { $0["waMessageId"] as? String }
            if rows.count < 100 { return ids }
        }
    }

    @Test func aSIGKILLMidStreamLosesNothingAndStoresNothingTwice() async throws {
        var configuration = Simulator.Configuration()
        configuration.logger = quietLogger
        let simulator = try Simulator.start(configuration: configuration)
        _ = try await simulator.createPhone(Self.alice, pushName: "Alice")
        _ = try await simulator.createPhone(Self.bob, pushName: "Bob")

        let first = try GatewayProcess(environment: environment(simulator))
        defer { first.cleanUp() }
        let port = try await first.waitForPort()
        let created = try #require(try await first.request("POST", "/api/sessions", port: port, key: Self.key, body: #"{"name":"stream"}"#))
        let id = try #require(created.object["id"] as? String, "\(created.text)")
        #expect(try await first.request("POST", "/api/sessions/\(id)/start", port: port, key: Self.key)?.status == 200)
        try await wait("qr_ready") { try await status(first, port: port, id) == "qr_ready" }
        let qr = try #require(try await first.request("GET", "/api/sessions/\(id)/qr?format=raw", port: port, key: Self.key))
        _ = try await simulator.scan(qr: try #require(qr.object["qr"] as? String, "\(qr.text)"), by: Self.alice)
        try await wait("ready") { try await status(first, port: port, id) == "ready" }
        try await wait("prekeys on the server") { (try await simulator.companions(of: Self.alice).first?.preKeyCount ?? 0) > 0 }

        // A steady stream; the gateway dies a third of the way in and the phone keeps sending.
        var sent: [String] = []
        for index in 0..<150 {
            if index == 50 {
                first.signal(SIGKILL)
                #expect(try await first.waitForExit() == SIGKILL)
            }
            sent.append(try await simulator.sendMessage(from: Self.bob, to: Self.alice, text: "stream \(index)").id)
            try await Task.sleep(for: .milliseconds(2))
        }

        let dataDirectory = first.directory.appendingPathComponent("data").path
        let second = try GatewayProcess(environment: environment(simulator, dataDirectory: dataDirectory))
        defer { second.cleanUp() }
        let secondPort = try await second.waitForPort()
        try await wait("ready after the restart") { try await status(second, port: secondPort, id) == "ready" }
        try await wait("every queued message confirmed") {
            try await simulator.companions(of: Self.alice).first?.pendingMessages == 0
        }
        let stored = try await storedIDs(second, port: secondPort, id)
        #expect(stored.count == sent.count, "stored \(stored.count) of \(sent.count)")
        #expect(Set(stored) == Set(sent))
        #expect(Set(stored).count == stored.count, "a message was stored twice")

        second.signal(SIGTERM)
        #expect(try await second.waitForExit() == 0)
        await simulator.stop()
    }
}
