import Foundation
import Logging
import Reactor

/// The Socket.IO endpoint at `/socket.io/`: Engine.IO v4 handshakes over HTTP long-polling or a
/// WebSocket, polling GET/POST for open sessions, and the upgrade of a polling session to a
/// WebSocket. Each session carries one `SocketIOClient`, which serves the `/events` namespace.
final class SocketIOServer {
    unowned let reactor: Reactor
    let hub: RealtimeHub
    let settings: RealtimeSettings
    private var sessions: [String: EngineIOSession] = [:]
    private var clients: [String: SocketIOClient] = [:]

    init(reactor: Reactor, hub: RealtimeHub) {
        self.reactor = reactor
        self.hub = hub
        self.settings = hub.settings
    }

    var sessionCount: Int { sessions.count }

    func respond(to request: HTTPRequest, sink: HTTPResponseSink, clientIP: String) {
        let query = Dictionary(request.head.queryItems(), uniquingKeysWith: { first, _ in first })
        guard query["EIO"] == "4" else { return sink.send(Self.errorResponse(code: 5, "Unsupported protocol version")) }
        let method = request.head.method
        switch (query["transport"], query["sid"]) {
        case ("websocket", let sid):
            guard method == "GET", let key = WebSocketHandshake.clientKey(of: request.head) else {
                return sink.send(Self.errorResponse(code: 3, "Bad request"))
            }
            if let sid, sessions[sid] == nil { return sink.send(Self.errorResponse(code: 1, "Session ID unknown")) }
            let target: UpgradeTarget =
                sid.map { .existing(sid: $0) }
                ?? .newSession(presented: AuthGuard.presentedKey(request.head.headers), clientIP: clientIP)
            upgrade(sink, key: key, target: target)
        case ("polling", nil):
            guard method == "GET" else { return sink.send(Self.errorResponse(code: 2, "Bad handshake method")) }
            let session = makeSession(
                presented: AuthGuard.presentedKey(request.head.headers), clientIP: clientIP, socket: nil)
            session.send(session.openPacket(upgrades: ["websocket"]))
            session.poll(sink)
            session.startHeartbeat()
        case ("polling", let sid?):
            guard let session = sessions[sid] else { return sink.send(Self.errorResponse(code: 1, "Session ID unknown")) }
            switch method {
            case "GET": session.poll(sink)
            case "POST":
                guard request.body.count <= settings.maxPayloadBytes else {
                    sink.send(Self.errorResponse(code: 3, "Payload too large"))
                    return session.close(reason: "payload too large")
                }
                session.post(request.body, sink: sink)
            default: sink.send(Self.errorResponse(code: 2, "Bad request method"))
            }
        default:
            sink.send(Self.errorResponse(code: 0, "Transport unknown"))
        }
    }

    /// Closes every session (shutdown): held polls are answered, sockets closed.
    func stop() {
        for session in sessions.values { session.close(reason: "server shutting down") }
    }

    func sessionClosed(_ session: EngineIOSession) {
        sessions[session.sid] = nil
        clients[session.sid] = nil
    }

    private func makeSession(presented: String?, clientIP: String, socket: WebSocketConnection?) -> EngineIOSession {
        let sid = Self.makeID()
        let session = EngineIOSession(sid: sid, server: self, handshakeKey: presented, clientIP: clientIP, socket: socket)
        let client = SocketIOClient(session: session, hub: hub)
        session.delegate = client
        sessions[sid] = session
        clients[sid] = client
        return session
    }

    /// What a WebSocket upgrade is for: a new session, or the upgrade of a polling one.
    private enum UpgradeTarget: Sendable {
        case newSession(presented: String?, clientIP: String)
        case existing(sid: String)
    }

    private func upgrade(_ sink: HTTPResponseSink, key: String, target: UpgradeTarget) {
        let box = ReactorBound(self)
        sink.switchProtocols(headers: WebSocketHandshake.switchingProtocolsHeaders(key: key)) { stream, leftover in
            box.value.upgraded(stream, leftover: leftover, target: target)
        }
    }

    private func upgraded(_ stream: any ByteStream, leftover: [UInt8], target: UpgradeTarget) {
        let socket = WebSocketConnection(
            reactor: reactor, stream: stream, role: .server, maxMessageBytes: settings.maxPayloadBytes, leftover: leftover)
        switch target {
        case .existing(let sid):
            guard let session = sessions[sid] else { return socket.close(code: 1008, reason: "Session ID unknown") }
            session.beginUpgrade(socket)
        case .newSession(let presented, let clientIP):
            let session = makeSession(presented: presented, clientIP: clientIP, socket: socket)
            session.send(session.openPacket(upgrades: []))
            session.startHeartbeat()
        }
    }

    /// 15 random bytes as 20 URL-safe base64 characters: unguessable, since a sid is all that
    /// identifies a polling request.
    static func makeID() -> String {
        let bytes = (try? Crypto.randomBytes(15)) ?? Array(UUID().uuidString.utf8.prefix(15))
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
    }

    /// Engine.IO's error body: `{"code":n,"message":…}` with status 400 (403 for code 4).
    static func errorResponse(code: Int, _ message: String) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add("content-type", "application/json")
        let body: JSONValue = .object([("code", .number(Double(code))), ("message", .string(message))])
        return HTTPResponse(status: code == 4 ? 403 : 400, headers: headers, body: JSONWriter.bytes(body))
    }
}
