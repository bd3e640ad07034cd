import Foundation
import Simulator
import Testing
import TestSupport

/// The gateway binary with one session linked to a simulator phone, for the media suites.
struct LinkedGateway {
    let gateway: GatewayProcess
    let port: Int
    let sessionID: String
    let key: String

    /// Starts the binary against `simulator` with `environment` added, and links a session to the
    /// phone `account` (which must exist) by scanning its QR code.
    static func start(
        simulator: Simulator, account: String, key: String, environment extra: [String: String]
    ) async throws -> LinkedGateway {
        var environment = GatewayProcess.simulatorEnvironment(simulator, key: key)
        environment.merge(extra) { $1 }
        let gateway = try GatewayProcess(environment: environment)
        do {
            let port = try await gateway.waitForPort()
            var linked = LinkedGateway(gateway: gateway, port: port, sessionID: "", key: key)
            let created = try await linked.request("POST", "/api/sessions", #"{"name":"media"}"#)
            let id = try #require(created.object["id"] as? String)
            linked = LinkedGateway(gateway: gateway, port: port, sessionID: id, key: key)
            #expect(try await linked.request("POST", "/api/sessions/\(id)/start").status == 200)
            try await wait("qr_ready") { try await linked.status() == "qr_ready" }
            let qr = try await linked.request("GET", "/api/sessions/\(id)/qr?format=raw")
            _ = try await simulator.scan(qr: try #require(qr.object["qr"] as? String), by: account)
            try await wait("ready") { try await linked.status() == "ready" }
            try await wait("prekeys") { (try await simulator.companions(of: account).first?.preKeyCount ?? 0) > 0 }
            return linked
        } catch {
            gateway.cleanUp()
            throw error
        }
    }

    func request(_ method: String, _ path: String, _ body: String? = nil) async throws -> TestResponse {
        try #require(try await gateway.request(method, path, port: port, key: key, body: body))
    }

    func status() async throws -> String? {
        try await request("GET", "/api/sessions/\(sessionID)").object["status"] as? String
    }

    /// Polls `condition` every 40 ms for up to two minutes.
    static func wait(_ what: String, _ condition: () async throws -> Bool) async throws {
        for _ in 0..<3_000 {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(40))
        }
        Issue.record("timed out waiting for \(what)")
        throw CancellationError()
    }

    /// Stops the binary with SIGTERM and removes its directory.
    func stop() async throws {
        gateway.signal(SIGTERM)
        _ = try await gateway.waitForExit()
        gateway.cleanUp()
    }
}
