import API
import Engines
import Foundation
import Reactor
import Testing
import TestSupport

/// The plain WebSocket event stream (`/api/events/ws`), driven by our own `WebSocketConnector`:
/// the same JSON messages as on Socket.IO, one per text frame.
@Suite(.timeLimit(.minutes(1)))
struct EventStreamTests {
    private let admin = [("X-API-Key", TestGateway.adminKey)]

    @Test func subscribePingAndEventsWithTheBearerKey() async throws {
        let gateway = try await TestGateway.start()
        let client = try await EventStreamClient.connect(gateway, headers: [("Authorization", "Bearer \(TestGateway.adminKey)")])
        try await client.send(["type": "ping", "requestId": 7])
        let pong = try await client.next()
        #expect(pong["type"] == "pong")
        #expect(pong["requestId"] == 7)
        try await client.send(["type": "subscribe", "sessionId": "s1", "events": ["session.status", "session.qr"]])
        let subscribed = try await client.next()
        #expect(subscribed["type"] == "subscribed")
        #expect(subscribed["events"] == ["session.status", "session.qr"])
        gateway.events.publish(GatewayEvent(name: "session.status", sessionID: "s9", data: ["status": "ready"]))
        gateway.events.publish(GatewayEvent(name: "session.qr", sessionID: "s1", data: ["qr": "data:x"]))
        let event = try await client.next()
        #expect(event["type"] == "event")
        #expect(event["payload"] == ["event": "session.qr", "sessionId": "s1", "data": ["qr": "data:x"]])
        try await client.close()
        #expect(try await client.closed() == 1000)
        await gateway.stop()
    }

    @Test func malformedRequestsGetTheirErrorCodes() async throws {
        let gateway = try await TestGateway.start()
        let client = try await EventStreamClient.connect(gateway, headers: admin)
        let cases: [(String, String)] = [
            ("not json", "INVALID_MESSAGE"),
            (#"{"type":"dance"}"#, "INVALID_MESSAGE"),
            (#"{"type":"subscribe","sessionId":"bad id!","events":["*"]}"#, "INVALID_SESSION"),
            (#"{"type":"subscribe","sessionId":"s1","events":["message.failed","nope"]}"#, "INVALID_EVENTS"),
            (#"{"type":"subscribe","sessionId":"s1","events":[]}"#, "INVALID_EVENTS"),
        ]
        for (text, code) in cases {
            try await client.sendText(text)
            let error = try await client.next()
            #expect(error["type"] == "error", "\(text)")
            #expect(error["code"]?.stringValue == code, "\(text)")
        }
        await gateway.stop()
    }

    @Test func badKeyGetsTheErrorFrameThenAPolicyClose() async throws {
        let gateway = try await TestGateway.start()
        let client = try await EventStreamClient.connect(gateway, headers: [("X-API-Key", "owa_k1_nope")])
        let error = try await client.next()
        #expect(error["code"] == "UNAUTHORIZED")
        #expect(error["message"] == "Invalid API key")
        #expect(try await client.closed() == 1008)
        await gateway.stop()
    }

    @Test func frameRateSubscriptionAndSocketLimits() async throws {
        var limits = RealtimeSettings()
        limits.framesPerSecond = 1
        limits.frameBurst = 3
        limits.maxSubscriptionsPerSocket = 2
        limits.maxSocketsPerKey = 1
        // The bucket refills on the reactor clock: held still, a loaded machine cannot refill it
        // between the frames below.
        let gateway = try await TestGateway.start(clock: ManualReactorClock(), realtime: limits)
        let client = try await EventStreamClient.connect(gateway, headers: admin)
        try await client.send(["type": "subscribe", "sessionId": "s1", "events": ["message.received", "message.ack"]])
        #expect(try await client.next()["type"] == "subscribed")
        try await client.send(["type": "subscribe", "sessionId": "s2", "events": ["message.ack"], "requestId": "over"])
        let tooMany = try await client.next()
        #expect(tooMany["code"] == "TOO_MANY_SUBSCRIPTIONS")
        #expect(tooMany["requestId"] == "over")
        try await client.send(["type": "ping"])
        #expect(try await client.next()["type"] == "pong")
        // The bucket of 3 is spent; the next frame within the second is refused.
        try await client.send(["type": "ping", "requestId": "fast"])
        let limited = try await client.next()
        #expect(limited["code"] == "RATE_LIMITED")
        #expect(limited["requestId"] == "fast")
        // A second socket for the same key is over WS_MAX_SOCKETS_PER_KEY=1.
        let second = try await EventStreamClient.connect(gateway, headers: admin)
        #expect(try await second.next()["code"] == "RATE_LIMITED")
        #expect(try await second.closed() == 1008)
        await gateway.stop()
    }

    @Test func revokedKeyIsClosedByTheSweep() async throws {
        var limits = RealtimeSettings()
        limits.keySweepIntervalMilliseconds = 50
        let gateway = try await TestGateway.start(realtime: limits)
        let (key, secret) = try await gateway.keys.create(
            name: "short-lived", role: .operator, allowedIps: nil, allowedSessions: nil, allowedChats: nil, expiresAt: nil)
        let client = try await EventStreamClient.connect(gateway, headers: [("X-API-Key", secret)])
        try await client.send(["type": "ping"])
        #expect(try await client.next()["type"] == "pong")
        _ = try await gateway.keys.revoke(id: key.id)
        let error = try await client.next()
        #expect(error["code"] == "UNAUTHORIZED")
        #expect(error["message"] == "API key has been revoked")
        #expect(try await client.closed() == 1008)
        await gateway.stop()
    }

    @Test func clientThatStopsReadingIsDroppedOnceItsQueueIsFull() async throws {
        var limits = RealtimeSettings()
        limits.maxQueuedBytesPerSocket = 64 << 10
        let gateway = try await TestGateway.start(realtime: limits)
        let port = gateway.port
        // A raw client: it upgrades and subscribes, reads the acknowledgement, then reads nothing.
        let raw = try LoopbackClient(port: port, receiveTimeoutSeconds: 10)
        raw.send(
            "GET /api/events/ws HTTP/1.1\r\nhost: 127.0.0.1\r\nupgrade: websocket\r\nconnection: Upgrade\r\n"
                + "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n"
                + "x-api-key: \(TestGateway.adminKey)\r\n\r\n")
        let subscribe = JSONWriter.bytes(["type": "subscribe", "sessionId": "s1", "events": ["*"]])
        raw.send(WebSocketFrame(opcode: .text, payload: subscribe).encoded(maskKey: [7, 7, 7, 7]))
        var seen: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !String(decoding: seen, as: UTF8.self).contains("subscribed") {
            let count = buffer.withUnsafeMutableBytes { recv(raw.fd, $0.baseAddress, $0.count, 0) }
            try #require(count > 0, "no acknowledgement")
            seen += buffer[0..<count]
        }
        // 16 MB of events: more than the kernel's socket buffers, the transport's high-water mark
        // and the 64 KiB cap together.
        let blob = JSONValue.string(String(repeating: "x", count: 16_000))
        for index in 0..<1_000 {
            gateway.events.publish(GatewayEvent(name: "message.received", sessionID: "s1", data: ["n": .number(Double(index)), "blob": blob]))
        }
        // Dropped: the stream ends well before everything published could have arrived.
        let rest = try await blocking { raw.readToEnd() }
        #expect(rest.count < 12_000_000)
        await gateway.stop()
    }
}
