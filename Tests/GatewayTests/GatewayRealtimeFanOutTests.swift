import Foundation
import Testing
import TestSupport

/// Two gateway processes sharing Redis: a python-socketio client on one node receives the
/// events of a session running on the other.
@Suite(.enabled(if: RedisTestEnvironment.current != nil), .timeLimit(.minutes(1)))
struct GatewayRealtimeFanOutTests {
    static let key = "owa_k1_" + String(repeating: "9a", count: 32)

    @Test func aSocketOnOneNodeSeesTheOtherNodesSessionEvents() async throws {
        let redis = try #require(RedisTestEnvironment.current)
        let environment = [
            "API_MASTER_KEY": Self.key, "REDIS_ENABLED": "true", "REDIS_HOST": redis.host, "REDIS_PORT": String(redis.port),
            "WA_SERVER_URL": "ws://127.0.0.1:9/ws/chat",
        ]
        let nodeA = try GatewayProcess(environment: environment)
        defer { nodeA.cleanUp() }
        let nodeB = try GatewayProcess(environment: environment)
        defer { nodeB.cleanUp() }
        let portA = try await nodeA.waitForPort()
        let portB = try await nodeB.waitForPort()

        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("APITests/Fixtures/socketio_client.py")
        let client = Process()
        client.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        client.arguments = ["python3", fixture.path, "http://127.0.0.1:\(portB)", "--key", Self.key, "--transport", "websocket"]
        let input = Pipe()
        let output = Pipe()
        let printed = TextBuffer()
        client.standardInput = input
        client.standardOutput = output
        output.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty { handle.readabilityHandler = nil } else { printed.append(data) }
        }
        try ProcessLaunch.run(client)
        defer { if client.isRunning { kill(client.processIdentifier, SIGKILL) } }
        func waitFor(_ text: String) async throws {
            for _ in 0..<1_000 where !printed.text.contains(text) { try await Task.sleep(for: .milliseconds(10)) }
            #expect(printed.text.contains(text), "\(printed.text)")
        }
        try await waitFor(#""kind": "connected""#)
        input.fileHandleForWriting.write(Data(#"{"type":"subscribe","sessionId":"*","events":["session.status"]}"#.utf8 + [0x0A]))
        try await waitFor(#""type": "subscribed""#)

        let created = try #require(try await nodeA.request("POST", "/api/sessions", port: portA, key: Self.key, body: #"{"name":"on-a"}"#))
        let id = try #require(created.object["id"] as? String)
        _ = try await nodeA.request("POST", "/api/sessions/\(id)/start", port: portA, key: Self.key)
        try await waitFor(id)
        #expect(printed.text.contains(#""event": "session.status""#))
        try? input.fileHandleForWriting.close()
    }
}
