import Engines
import Foundation
import Persistence
import Reactor
import Simulator
import Testing
import TestSupport

/// Where a link test keeps its sessions and credentials.
enum DataBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres
    var testDescription: String { rawValue }

    /// The backends this run can use: PostgreSQL only when its test cluster is configured.
    static var available: [DataBackend] { PostgresTestEnvironment.isAvailable ? allCases : [.sqlite] }
}

/// A gateway whose sessions link over TLS and the real protocol to an in-process simulator, with
/// sessions and credentials in one data database (SQLite file or a fresh PostgreSQL schema).
struct LinkWorld {
    let simulator: Simulator
    let gateway: TestGateway
    private let dropSchema: (@Sendable () async -> Void)?

    static func start(
        _ backend: DataBackend, phones: [String], webhooks: WebhookSettings? = nil, limits: TestLimits = TestLimits(),
        inboundMedia: MediaArchive.Settings = MediaArchive.Settings(), storage: MediaStorageConfiguration? = nil,
        onFaultCluster: Bool = false, tweak: (inout NativeEngineConfiguration) -> Void = { _ in }
    ) async throws -> LinkWorld {
        var configuration = Simulator.Configuration()
        configuration.logger = quietLogger
        let simulator = try Simulator.start(configuration: configuration)
        for (index, phone) in phones.enumerated() { _ = try await simulator.createPhone(phone, pushName: "Phone \(index)") }
        var native = NativeEngineConfiguration(
            serverURL: simulator.webSocketURL, tls: try TLSContext(clientTrusting: simulator.caFile),
            rootPublicKey: simulator.rootPublicKey, connectTimeoutMilliseconds: 5_000, handshakeTimeoutMilliseconds: 5_000)
        tweak(&native)
        var postgres: PostgresConfiguration?
        var dropSchema: (@Sendable () async -> Void)?
        if backend == .postgres {
            let environment = try #require(PostgresTestEnvironment.current)
            // The fault cluster can be stopped and started under a running gateway.
            let port = onFaultCluster ? try #require(environment.faultPort) : environment.port
            let schema = "link_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            let admin = PostgresConfiguration(
                host: environment.host, port: port, username: environment.username,
                password: environment.password, database: environment.database, poolSize: 1)
            try await Self.withAdmin(admin) { try await $0.execute("CREATE SCHEMA \(schema)") }
            postgres = PostgresConfiguration(
                host: environment.host, port: port, username: environment.username,
                password: environment.password, database: environment.database, schema: schema, poolSize: 4)
            dropSchema = { try? await Self.withAdmin(admin) { try await $0.execute("DROP SCHEMA \(schema) CASCADE") } }
        }
        let gateway = try await TestGateway.start(
            dataPostgres: postgres, native: native, webhooks: webhooks, limits: limits, inboundMedia: inboundMedia, storage: storage)
        return LinkWorld(simulator: simulator, gateway: gateway, dropSchema: dropSchema)
    }

    /// A short-lived connection on a reactor of its own, for schema housekeeping.
    private static func withAdmin(_ configuration: PostgresConfiguration, _ body: (PostgresDatabase) async throws -> Void) async throws {
        let handle = try ReactorThread.start(clock: MonotonicReactorClock(), workers: WorkerPool(size: 1), logger: quietLogger)
        defer { handle.stop() }
        let database = try await PostgresDatabase.open(configuration, name: "admin", handle: handle)
        do { try await body(database) } catch {
            await database.close()
            throw error
        }
        await database.close()
    }

    func stop() async {
        await gateway.stop()
        await simulator.stop()
        await dropSchema?()
    }

    // MARK: - Steps

    /// Creates and starts a session; returns its id once it shows a QR.
    func createAndStart(_ name: String, config: String = "{}") async throws -> String {
        let created = try await gateway.request("POST", "/api/sessions", body: #"{"name":"\#(name)","config":\#(config)}"#)
        let id = try #require(created.object["id"] as? String, "\(created.text)")
        let started = try await gateway.request("POST", "/api/sessions/\(id)/start")
        #expect(started.status == 200, "\(started.text)")
        return id
    }

    /// Waits for the QR, has `phone` scan it, and waits for `ready`.
    func link(_ id: String, phone: String) async throws {
        _ = try await waitFor(id, "qr_ready") { $0["status"] as? String == "qr_ready" }
        let qr = try await gateway.request("GET", "/api/sessions/\(id)/qr?format=raw")
        let raw = try #require(qr.object["qr"] as? String, "\(qr.text)")
        _ = try await simulator.scan(qr: raw, by: phone)
        _ = try await waitFor(id, "ready") { $0["status"] as? String == "ready" }
    }

    func session(_ id: String) async throws -> [String: Any] {
        try await gateway.request("GET", "/api/sessions/\(id)").object
    }

    /// Polls the session until `condition` holds (20 s at most: CI machines can be loaded).
    @discardableResult
    func waitFor(_ id: String, _ what: String, _ condition: ([String: Any]) -> Bool) async throws -> [String: Any] {
        var last: [String: Any] = [:]
        for _ in 0..<1_000 {
            last = try await session(id)
            if condition(last) { return last }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("session \(id) never reached \(what); last: \(last)")
        throw LinkWorldError.timedOut(what)
    }

    func device(of phone: String) async throws -> UInt16 {
        try #require(try await simulator.companions(of: phone).first).device
    }

    /// Credential rows the data database holds for the session.
    func credentialCount(_ id: String) async throws -> Int {
        let rows = try await gateway.data.query(#"SELECT COUNT(*) AS n FROM auth_state WHERE "sessionId" = $1"#, [.text(id)])
        return Int(rows.first?.int("n") ?? -1)
    }

    /// Whether the session's stored credentials name a linked account.
    func isLinkedInStore(_ id: String) async throws -> Bool {
        let rows = try await gateway.data.query(
            #"SELECT COUNT(*) AS n FROM auth_state WHERE "sessionId" = $1 AND "key" = 'me.jid'"#, [.text(id)])
        return rows.first?.int("n") == 1
    }
}

enum LinkWorldError: Error { case timedOut(String) }
