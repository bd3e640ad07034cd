import Engines
import Foundation
import Persistence
import Reactor
import Simulator
import Testing
import TestSupport

/// Sessions through the REST API, linked to the WhatsApp simulator by the native engine over
/// TLS and the real protocol, with credentials in the SQL auth-state store.
@Suite(.timeLimit(.minutes(1))) struct SessionLinkTests {
    static let phone = "15557654321"

    private func world() async throws -> (Simulator, TestGateway, SQLiteDatabase) {
        var configuration = Simulator.Configuration()
        configuration.logger = quietLogger
        let simulator = try Simulator.start(configuration: configuration)
        _ = try await simulator.createPhone(Self.phone, pushName: "Bob")
        // The auth state lives in its own SQLite file here so it survives a second gateway.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("openwa-link-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let authDatabase = try await SQLiteDatabase.open(
            path: directory.appendingPathComponent("auth.sqlite").path, name: "data", pool: WorkerPool(size: 1))
        try await Migrator.migrate(authDatabase, DataSchema.migrations)
        let gateway = try await TestGateway.start(
            engines: { handle in
                NativeEngineFactory(
                    configuration: NativeEngineConfiguration(
                        serverURL: simulator.webSocketURL, tls: try TLSContext(clientTrusting: simulator.caFile),
                        rootPublicKey: simulator.rootPublicKey),
                    reactor: handle, authState: SQLAuthStateStore(database: authDatabase),
                    messages: MessageLedger(database: authDatabase, webhooks: nil, bus: EventBus()), logger: quietLogger)
            }, authState: SQLAuthStateStore(database: authDatabase))
        return (simulator, gateway, authDatabase)
    }

    private func waitForStatus(_ gateway: TestGateway, _ id: String, _ status: String) async throws -> [String: Any] {
        for _ in 0..<500 {
            let session = try await gateway.request("GET", "/api/sessions/\(id)").object
            if session["status"] as? String == status { return session }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("session never reached \(status)")
        return [:]
    }

    @Test func createStartScanReadyStopAndStartAgainWithoutQR() async throws {
        let (simulator, gateway, authDatabase) = try await world()
        let seen = EventLog()
        gateway.events.subscribe { seen.append($0.name) }
        let id = try #require(try await gateway.request("POST", "/api/sessions", body: #"{"name":"linked"}"#).object["id"] as? String)
        let started = try await gateway.request("POST", "/api/sessions/\(id)/start")
        #expect(started.status == 200, "\(started.text)")
        #expect(started.object["engineLoaded"] as? Bool == true)

        _ = try await waitForStatus(gateway, id, "qr_ready")
        let qr = try await gateway.request("GET", "/api/sessions/\(id)/qr")
        #expect((qr.object["qrCode"] as? String)?.hasPrefix("data:image/png;base64,") == true)
        let png = try await gateway.request("GET", "/api/sessions/\(id)/qr?format=png")
        #expect(png.header("content-type") == "image/png" && png.body.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        let raw = try #require(try await gateway.request("GET", "/api/sessions/\(id)/qr?format=raw").object["qr"] as? String)

        _ = try await simulator.scan(qr: raw, by: Self.phone)
        let ready = try await waitForStatus(gateway, id, "ready")
        #expect(ready["phone"] as? String == Self.phone)
        #expect(ready["pushName"] as? String == "Bob")
        #expect(try await gateway.request("GET", "/api/sessions/\(id)/qr").status == 400)
        #expect(seen.names.contains("session.qr") && seen.names.contains("session.authenticated"))

        let stopped = try await gateway.request("POST", "/api/sessions/\(id)/stop")
        #expect(stopped.object["status"] as? String == "disconnected")
        #expect(stopped.object["engineLoaded"] as? Bool == false)
        // Credentials were kept: the next start logs straight in, no QR.
        _ = try await gateway.request("POST", "/api/sessions/\(id)/start")
        _ = try await waitForStatus(gateway, id, "ready")
        #expect(seen.names.filter { $0 == "session.qr" }.count >= 1)

        let loggedOut = try await gateway.request("POST", "/api/sessions/\(id)/logout")
        #expect(loggedOut.status == 200, "\(loggedOut.text)")
        #expect(loggedOut.object["phone"] is NSNull)
        let left = try await authDatabase.query(#"SELECT COUNT(*) AS n FROM auth_state WHERE "sessionId" = $1"#, [.text(id)])
        #expect(left.first?.int("n") == 0)
        await gateway.stop()
        await authDatabase.close()
        await simulator.stop()
    }

    @Test func deletingALinkedSessionWipesItsCredentials() async throws {
        let (simulator, gateway, authDatabase) = try await world()
        let id = try #require(try await gateway.request("POST", "/api/sessions", body: #"{"name":"doomed"}"#).object["id"] as? String)
        _ = try await gateway.request("POST", "/api/sessions/\(id)/start")
        _ = try await waitForStatus(gateway, id, "qr_ready")
        let raw = try #require(try await gateway.request("GET", "/api/sessions/\(id)/qr?format=raw").object["qr"] as? String)
        _ = try await simulator.scan(qr: raw, by: Self.phone)
        _ = try await waitForStatus(gateway, id, "ready")
        #expect(try await gateway.request("DELETE", "/api/sessions/\(id)").status == 204)
        let left = try await authDatabase.query(#"SELECT COUNT(*) AS n FROM auth_state WHERE "sessionId" = $1"#, [.text(id)])
        #expect(left.first?.int("n") == 0)
        await gateway.stop()
        await authDatabase.close()
        await simulator.stop()
    }
}

import Synchronization

/// Event names seen on the bus, in order.
final class EventLog: Sendable {
    private let storage = Mutex<[String]>([])
    func append(_ name: String) { storage.withLock { $0.append(name) } }
    var names: [String] { storage.withLock { $0 } }
}
