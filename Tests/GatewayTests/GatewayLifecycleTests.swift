import Foundation
import Testing
import TestSupport

/// The real binary: first boot, serving, and the drain on SIGTERM.
@Suite(.timeLimit(.minutes(2))) struct GatewayLifecycleTests {
    @Test func firstBootCreatesAnAdminKeyShownOnceAndStoredPrivately() async throws {
        let gateway = try GatewayProcess(environment: [:])
        defer { gateway.cleanUp() }
        let port = try await gateway.waitForPort()
        let keyFile = gateway.directory.appendingPathComponent("data/.api-key")
        let key = try String(contentsOf: keyFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(key.hasPrefix("owa_k1_") && key.count == 71)
        #expect(gateway.stdout.contains(key))
        let mode = try FileManager.default.attributesOfItem(atPath: keyFile.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let listed = try await gateway.request("GET", "/api/auth/api-keys", port: port, key: key)
        #expect(listed?.status == 200)
        #expect(listed?.array.first?["name"] as? String == "Default Admin Key")

        // A second boot on the same data keeps the key and does not print it.
        gateway.signal(SIGTERM)
        #expect(try await gateway.waitForExit() == 0)
        let again = try GatewayProcess(environment: ["DATA_DIR": gateway.directory.appendingPathComponent("data").path])
        defer { again.cleanUp() }
        let secondPort = try await again.waitForPort()
        #expect(!again.stdout.contains(key))
        #expect(try await again.request("POST", "/api/auth/validate", port: secondPort, key: key)?.status == 200)
    }

    @Test func sigtermDrainsThenExitsZero() async throws {
        // A generous drain window: on a loaded machine the requests below may come seconds late.
        let gateway = try GatewayProcess(environment: ["SHUTDOWN_DELAY_MS": "8000", "API_MASTER_KEY": "master-key-for-drain-test-000000"])
        defer { gateway.cleanUp() }
        let port = try await gateway.waitForPort()
        #expect(try await gateway.request("GET", "/api/health/ready", port: port)?.status == 200)
        gateway.signal(SIGTERM)
        try await Task.sleep(for: .milliseconds(200))
        let draining = try await gateway.request("GET", "/api/health/ready", port: port)
        #expect(draining?.status == 503)
        #expect(draining?.text == #"{"status":"error","details":{"shutdown":{"status":"draining"}}}"#)
        // Still serving everything else during the delay.
        #expect(try await gateway.request("GET", "/api/health/live", port: port)?.status == 200)
        let status = try await gateway.waitForExit(seconds: 60)
        #expect(status == 0)
    }

    @Test func versionCommandNamesTheLibraries() async throws {
        let gateway = try GatewayProcess(arguments: ["version"], environment: [:])
        defer { gateway.cleanUp() }
        #expect(try await gateway.waitForExit() == 0)
        #expect(gateway.stdout.hasPrefix("openwa 0.1.0"))
        #expect(gateway.stdout.contains("openssl: OpenSSL"))
        #expect(gateway.stdout.contains("sqlite: 3."))
    }

    @Test func debugCommandsDecodeAndEncodeNodes() async throws {
        // The keepalive iq of the protocol reference's vectors (flags byte 00 first).
        let decode = try GatewayProcess(arguments: ["debug", "decode", "00f80a1908ff831b2a4f11fa000304291657f801f80156"], environment: [:])
        defer { decode.cleanUp() }
        #expect(try await decode.waitForExit() == 0)
        let text = decode.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(text == #"<iq id="1.2-4" to=s.whatsapp.net type="get" xmlns="w:p"><ping/></iq>"#)
        let encode = try GatewayProcess(arguments: ["debug", "encode", text], environment: [:])
        defer { encode.cleanUp() }
        #expect(try await encode.waitForExit() == 0)
        #expect(encode.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "00f80a1908ff831b2a4f11fa000304291657f801f80156")
        let broken = try GatewayProcess(arguments: ["debug", "decode", "00f8"], environment: [:])
        defer { broken.cleanUp() }
        #expect(try await broken.waitForExit() != 0)
    }

    @Test func apiKeysCommandCreatesAKeyTheServerAccepts() async throws {
        let gateway = try GatewayProcess(environment: ["API_MASTER_KEY": "master-key-for-cli-test-00000000"])
        defer { gateway.cleanUp() }
        let port = try await gateway.waitForPort()
        let data = gateway.directory.appendingPathComponent("data").path
        let cli = try GatewayProcess(
            arguments: ["api-keys", "create", "--name", "from the cli", "--role", "viewer", "--env-file", "none"],
            environment: ["DATA_DIR": data])
        defer { cli.cleanUp() }
        #expect(try await cli.waitForExit() == 0, "\(cli.stderr)")
        let key = try #require(cli.stdout.split(separator: "\n").first { $0.hasPrefix("key: ") }?.dropFirst(5))
        let validated = try await gateway.request("POST", "/api/auth/validate", port: port, key: String(key))
        #expect(validated?.status == 200)
        #expect(validated?.object["role"] as? String == "viewer")
    }
}

/// `openwa serve --with-simulator`: a new user links a session offline through the printed steps.
@Suite(.timeLimit(.minutes(2))) struct OfflineTryItTests {
    @Test func aSessionLinksToTheEmbeddedSimulatorAndBecomesReady() async throws {
        let gateway = try GatewayProcess(
            arguments: ["serve", "--with-simulator", "--env-file", "none"],
            environment: ["API_MASTER_KEY": "master-key-for-the-offline-test-0000"])
        defer { gateway.cleanUp() }
        let port = try await gateway.waitForPort()
        let admin = try #require(gateway.stdout.range(of: #"http://127\.0\.0\.1:\d+/admin"#, options: .regularExpression).map {
            String(gateway.stdout[$0])
        })
        let key = "master-key-for-the-offline-test-0000"
        let created = try await gateway.request("POST", "/api/sessions", port: port, key: key, body: #"{"name":"demo"}"#)
        let id = try #require(created?.object["id"] as? String)
        #expect(try await gateway.request("POST", "/api/sessions/\(id)/start", port: port, key: key)?.status == 200)
        var qr: String?
        for _ in 0..<800 where qr == nil {
            qr = try await gateway.request("GET", "/api/sessions/\(id)/qr?format=raw", port: port, key: key)?.object["qr"] as? String
            if qr == nil { try await Task.sleep(for: .milliseconds(25)) }
        }
        let linking = try #require(qr)
        let adminPort = try #require(Int(admin.split(separator: ":").last!.dropLast(6)))
        let scanned = try await blocking {
            try LoopbackClient(port: adminPort).request("POST", "/admin/phones/15550000001/scan", body: #"{"qr":"\#(linking)"}"#)
        }
        #expect(scanned?.status == 200, "\(scanned?.text ?? "")")
        var status: String?
        for _ in 0..<800 where status != "ready" {
            status = try await gateway.request("GET", "/api/sessions/\(id)", port: port, key: key)?.object["status"] as? String
            if status != "ready" { try await Task.sleep(for: .milliseconds(25)) }
        }
        #expect(status == "ready")
        gateway.signal(SIGTERM)
        #expect(try await gateway.waitForExit(seconds: 30) == 0)
    }
}
