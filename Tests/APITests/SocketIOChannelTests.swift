import Engines
import Foundation
import Reactor
import Testing

/// The Socket.IO channel driven by python-socketio from PyPI (a client nobody here wrote): the
/// tests publish on the gateway's event bus and check what the Python client received.
/// Needs `python3` with python-socketio (`scripts/setup.sh test`); without it they fail.
@Suite(.timeLimit(.minutes(1)))
struct SocketIOChannelTests {
    @Test func subscribedClientGetsEachEventOnceAndNeverWebhookOnlyEvents() async throws {
        let gateway = try await TestGateway.start()
        let peer = try SocketIOPeer(port: gateway.port, key: TestGateway.adminKey)
        _ = try await peer.next("connected")
        try peer.emit(["type": "subscribe", "sessionId": "*", "events": ["*"], "requestId": "r1"])
        let everything = try await peer.next("message")
        #expect(everything["type"] == "subscribed")
        #expect(everything["sessionId"] == "*")
        #expect(everything["events"] == ["*"])
        #expect(everything["requestId"] == "r1")
        #expect(everything["timestamp"]?.stringValue.flatMap(ISOTimestamp.parse) != nil)
        // The acknowledgement carries the same reply.
        #expect(try await peer.next("ack")["type"] == "subscribed")
        // Overlapping subscription; unknown names are dropped from what is accepted.
        try peer.emit(["type": "subscribe", "sessionId": "s1", "events": ["message.received", "no.such"], "requestId": 2])
        let narrow = try await peer.next("message")
        #expect(narrow["events"] == ["message.received"])
        #expect(narrow["requestId"] == 2)

        gateway.events.publish(GatewayEvent(name: "message.received", sessionID: "s1", data: ["id": "m1", "body": "hi"]))
        gateway.events.publish(GatewayEvent(name: "message.failed", sessionID: "s1", data: ["id": "m1"]))
        gateway.events.publish(GatewayEvent(name: "session.reconnect_loop", sessionID: "s1", data: ["attempts": 5]))
        gateway.events.publish(GatewayEvent(name: "session.status", sessionID: "s2", data: ["status": "ready"]))
        // python-engineio hands each message to its handler on a thread of its own, so the two may
        // be reported in either order; that they are exactly these two proves nothing came twice
        // and nothing webhook-only came.
        let received = [try await peer.next("message"), try await peer.next("message")]
        #expect(received.allSatisfy { $0["type"] == "event" && $0["timestamp"]?.stringValue.flatMap(ISOTimestamp.parse) != nil })
        let message = received.first { $0["payload"]?["event"] == "message.received" }
        #expect(message?["payload"] == ["event": "message.received", "sessionId": "s1", "data": ["id": "m1", "body": "hi"]])
        let status = received.first { $0["payload"]?["event"] == "session.status" }
        #expect(status?["payload"]?["sessionId"] == "s2")
        await peer.finish()
        await gateway.stop()
    }

    @Test func pollingClientUpgradesAndAuthenticatesWithTheHeader() async throws {
        let gateway = try await TestGateway.start()
        let peer = try SocketIOPeer(port: gateway.port, headerKey: TestGateway.adminKey, websocketOnly: false)
        _ = try await peer.next("connected")
        try peer.emit(["type": "ping", "requestId": "p"])
        let pong = try await peer.next("message")
        #expect(pong["type"] == "pong")
        #expect(pong["requestId"] == "p")
        try peer.emit(["type": "subscribe", "sessionId": "abc-1", "events": ["session.status"]])
        #expect(try await peer.next("message")["type"] == "subscribed")
        gateway.events.publish(GatewayEvent(name: "session.status", sessionID: "abc-1", data: ["status": "ready"]))
        #expect(try await peer.next("message")["payload"]?["data"] == ["status": "ready"])
        await peer.finish()
        await gateway.stop()
    }

    @Test(arguments: ["owa_k1_" + String(repeating: "00", count: 32), ""])
    func badOrMissingKeyIsRefusedWithAnErrorAndADisconnect(key: String) async throws {
        let gateway = try await TestGateway.start()
        let peer = try SocketIOPeer(port: gateway.port, key: key.isEmpty ? nil : key)
        let error = try await peer.next(all: ["message", "disconnected"])["message"] ?? .null
        #expect(error["type"] == "error")
        #expect(error["code"] == "UNAUTHORIZED")
        #expect(error["message"] == (key.isEmpty ? "API key is required" : "Invalid API key"))
        await peer.finish()
        await gateway.stop()
    }

    @Test func chatRestrictedKeyIsRefused() async throws {
        let gateway = try await TestGateway.start()
        let (_, secret) = try await gateway.keys.create(
            name: "chats", role: .operator, allowedIps: nil, allowedSessions: nil, allowedChats: ["1@c.us"], expiresAt: nil)
        let peer = try SocketIOPeer(port: gateway.port, key: secret)
        let error = try await peer.next(all: ["message", "disconnected"])["message"] ?? .null
        #expect(error["code"] == "UNAUTHORIZED")
        await peer.finish()
        await gateway.stop()
    }

    @Test func unsubscribeStopsDelivery() async throws {
        let gateway = try await TestGateway.start()
        let peer = try SocketIOPeer(port: gateway.port, key: TestGateway.adminKey)
        _ = try await peer.next("connected")
        try peer.emit(["type": "subscribe", "sessionId": "s1", "events": ["message.received", "message.ack"]])
        #expect(try await peer.next("message")["type"] == "subscribed")
        try peer.emit(["type": "subscribe", "sessionId": "s2", "events": ["*"]])
        #expect(try await peer.next("message")["type"] == "subscribed")
        try peer.emit(["type": "unsubscribe", "sessionId": "s1", "requestId": "u"])
        let unsubscribed = try await peer.next("message")
        #expect(unsubscribed["type"] == "unsubscribed")
        #expect(unsubscribed["sessionId"] == "s1")
        #expect(unsubscribed["requestId"] == "u")
        gateway.events.publish(GatewayEvent(name: "message.received", sessionID: "s1", data: ["id": "gone"]))
        gateway.events.publish(GatewayEvent(name: "message.received", sessionID: "s2", data: ["id": "kept"]))
        let delivered = try await peer.next("message")
        #expect(delivered["payload"]?["data"] == ["id": "kept"])
        await peer.finish()
        await gateway.stop()
    }

    @Test func sessionScopedKeyIsForbiddenOtherSessionsAndTheWildcard() async throws {
        let gateway = try await TestGateway.start()
        let (_, secret) = try await gateway.keys.create(
            name: "scoped", role: .viewer, allowedIps: nil, allowedSessions: ["mine"], allowedChats: nil, expiresAt: nil)
        let peer = try SocketIOPeer(port: gateway.port, key: secret)
        _ = try await peer.next("connected")
        for session in ["other", "*"] {
            try peer.emit(["type": "subscribe", "sessionId": .string(session), "events": ["*"], "requestId": "x"])
            let error = try await peer.next("message")
            #expect(error["type"] == "error")
            #expect(error["code"] == "FORBIDDEN_SESSION")
            #expect(error["message"] == "API key is not authorized for this session")
            #expect(error["requestId"] == "x")
        }
        try peer.emit(["type": "subscribe", "sessionId": "mine", "events": ["*"]])
        #expect(try await peer.next("message")["type"] == "subscribed")
        // A viewer never sees the QR (whoever has it can link the account), but sees the rest.
        gateway.events.publish(GatewayEvent(name: "session.qr", sessionID: "mine", data: ["qr": "data:image/png;base64,AA"]))
        gateway.events.publish(GatewayEvent(name: "session.status", sessionID: "other", data: ["status": "ready"]))
        gateway.events.publish(GatewayEvent(name: "session.status", sessionID: "mine", data: ["status": "qr"]))
        let event = try await peer.next("message")
        #expect(event["payload"]?["event"] == "session.status")
        #expect(event["payload"]?["sessionId"] == "mine")
        await peer.finish()
        await gateway.stop()
    }
}
