import Foundation
import Reactor
import Simulator
import Testing
import TestSupport

/// Sessions through the real binary: a SIGKILL while linked (the next process on the same data
/// directory logs back in from the stored credentials, without a QR) and `openwa qr`.
@Suite(.timeLimit(.minutes(2))) struct GatewaySessionTests {
    static let key = "owa_k1_" + String(repeating: "cd", count: 32)
    static let phone = "15550002001"

    private func environment(_ simulator: Simulator, dataDirectory: String? = nil) -> [String: String] {
        GatewayProcess.simulatorEnvironment(simulator, key: Self.key, dataDirectory: dataDirectory)
    }

    private func waitForSession(
        _ gateway: GatewayProcess, port: Int, _ id: String, _ what: String, _ condition: ([String: Any]) -> Bool
    ) async throws -> [String: Any] {
        var last: [String: Any] = [:]
        for _ in 0..<1_000 {
            if let response = try await gateway.request("GET", "/api/sessions/\(id)", port: port, key: Self.key) {
                last = response.object
                if condition(last) { return last }
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("session never reached \(what); last: \(last)\n\(gateway.stderr)")
        throw GatewayProcessError.notReady(stdout: gateway.stdout, stderr: gateway.stderr)
    }

    @Test func sigkilledGatewayLogsTheSessionBackInWithoutAQR() async throws {
        var configuration = Simulator.Configuration()
        configuration.logger = quietLogger
        let simulator = try Simulator.start(configuration: configuration)
        _ = try await simulator.createPhone(Self.phone, pushName: "Carol")

        let first = try GatewayProcess(environment: environment(simulator))
        defer { first.cleanUp() }
        let port = try await first.waitForPort()
        let created = try #require(try await first.request("POST", "/api/sessions", port: port, key: Self.key, body: #"{"name":"crash"}"#))
        let id = try #require(created.object["id"] as? String, "\(created.text)")
        #expect(try await first.request("POST", "/api/sessions/\(id)/start", port: port, key: Self.key)?.status == 200)
        _ = try await waitForSession(first, port: port, id, "qr_ready") { $0["status"] as? String == "qr_ready" }
        let qr = try #require(try await first.request("GET", "/api/sessions/\(id)/qr?format=raw", port: port, key: Self.key))
        _ = try await simulator.scan(qr: try #require(qr.object["qr"] as? String, "\(qr.text)"), by: Self.phone)
        _ = try await waitForSession(first, port: port, id, "ready") { $0["status"] as? String == "ready" }

        first.signal(SIGKILL)
        #expect(try await first.waitForExit() == SIGKILL)

        let dataDirectory = first.directory.appendingPathComponent("data").path
        let second = try GatewayProcess(environment: environment(simulator, dataDirectory: dataDirectory))
        defer { second.cleanUp() }
        let secondPort = try await second.waitForPort()
        let ready = try await waitForSession(second, port: secondPort, id, "ready after the restart") {
            $0["status"] as? String == "ready"
        }
        #expect(ready["phone"] as? String == Self.phone)
        #expect(try await simulator.companions(of: Self.phone).count == 1, "the same device, not a new link")

        second.signal(SIGTERM)
        #expect(try await second.waitForExit() == 0)
        await simulator.stop()
    }

    @Test func qrCommandDrawsTheCodeAndExitsOnceLinked() async throws {
        var configuration = Simulator.Configuration()
        configuration.logger = quietLogger
        let simulator = try Simulator.start(configuration: configuration)
        _ = try await simulator.createPhone(Self.phone, pushName: "Carol")
        let gateway = try GatewayProcess(environment: environment(simulator))
        defer { gateway.cleanUp() }
        let port = try await gateway.waitForPort()
        _ = try await gateway.request("POST", "/api/sessions", port: port, key: Self.key, body: #"{"name":"terminal"}"#)

        let arguments = ["qr", "terminal", "--env-file", "none", "--url", "http://127.0.0.1:\(port)", "--api-key", Self.key]
        let notStarted = try GatewayProcess(arguments: arguments, environment: [:])
        defer { notStarted.cleanUp() }
        #expect(try await notStarted.waitForExit() == 1)
        #expect(notStarted.stderr.contains("not started"))

        let watcher = try GatewayProcess(arguments: arguments + ["--start"], environment: [:])
        defer { watcher.cleanUp() }
        var drawn = false
        for _ in 0..<1_000 where !drawn {
            drawn = watcher.stdout.contains("Linked devices")
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(drawn && watcher.stdout.contains("▀"), "\(watcher.stdout)\n\(watcher.stderr)")
        let listed = try #require(try await gateway.request("GET", "/api/sessions", port: port, key: Self.key))
        let id = try #require(listed.array.first?["id"] as? String)
        let qr = try #require(try await gateway.request("GET", "/api/sessions/\(id)/qr?format=raw", port: port, key: Self.key))
        _ = try await simulator.scan(qr: try #require(qr.object["qr"] as? String), by: Self.phone)
        // Generous: on a loaded 2-core machine the watcher's next poll can come late.
        #expect(try await watcher.waitForExit(seconds: 90) == 0, "\(watcher.stderr)")
        #expect(watcher.stdout.contains("Linked: session terminal is ready as +\(Self.phone)"))

        let wrongKey = try GatewayProcess(
            arguments: ["qr", "terminal", "--env-file", "none", "--url", "http://127.0.0.1:\(port)", "--api-key", "nope"],
            environment: [:])
        defer { wrongKey.cleanUp() }
        #expect(try await wrongKey.waitForExit() == 1)
        #expect(wrongKey.stderr.contains("HTTP 401"), "\(wrongKey.stderr)")
        await simulator.stop()
    }

    @Test func webhookDeliveriesInTheOutboxSurviveASIGKILL() async throws {
        let receiver = try await WebhookReceiver.start()
        receiver.behave(.status(503))
        // Nothing listens on WA_SERVER_URL: a start produces status events, then backs off.
        let environment = [
            "API_MASTER_KEY": Self.key, "WA_SERVER_URL": "ws://127.0.0.1:9/ws/chat", "WEBHOOK_SSRF_PROTECT": "false",
            "WEBHOOK_RETRY_DELAY": "600000",
        ]
        let first = try GatewayProcess(environment: environment)
        defer { first.cleanUp() }
        let port = try await first.waitForPort()
        let created = try #require(try await first.request("POST", "/api/sessions", port: port, key: Self.key, body: #"{"name":"hooked"}"#))
        let id = try #require(created.object["id"] as? String)
        let hook = try #require(try await first.request(
            "POST", "/api/sessions/\(id)/webhooks", port: port, key: Self.key,
            body: #"{"url":"\#(receiver.url)","events":["session.status"],"retryCount":5}"#))
        #expect(hook.status == 201, "\(hook.text)")
        _ = try await first.request("POST", "/api/sessions/\(id)/start", port: port, key: Self.key)
        let refused = try await receiver.wait("a first, refused attempt") { !$0.isEmpty }
        let key = try #require(refused.first?.header("X-OpenWA-Idempotency-Key"))

        first.signal(SIGKILL)
        #expect(try await first.waitForExit() == SIGKILL)
        receiver.behave(.status(200))
        let dataDirectory = first.directory.appendingPathComponent("data").path
        var restartEnvironment = environment
        restartEnvironment["DATA_DIR"] = dataDirectory
        let second = try GatewayProcess(environment: restartEnvironment)
        defer { second.cleanUp() }
        _ = try await second.waitForPort()
        let after = try await receiver.wait("the pending delivery after the restart") { deliveries in
            deliveries.filter { $0.header("X-OpenWA-Idempotency-Key") == key }.count >= 2
        }
        let redelivered = try #require(after.last { $0.header("X-OpenWA-Idempotency-Key") == key })
        // 1 when the refused attempt was written down before the kill; 0 when the kill came
        // between the receiver taking the request and the gateway reading its 503 (a loaded
        // machine widens that window). Either way it is the same delivery, sent again.
        #expect(["0", "1"].contains(redelivered.header("X-OpenWA-Retry-Count") ?? ""))
        #expect(redelivered.header("X-OpenWA-Delivery-Id") == refused.first?.header("X-OpenWA-Delivery-Id"))
        #expect(redelivered.body == refused.first?.body, "the same bytes, so the same signature")
        second.signal(SIGTERM)
        #expect(try await second.waitForExit() == 0)
        await receiver.stop()
    }
}
