import Reactor

/// The Socket.IO layer of one Engine.IO session: it serves the `/events` namespace, turns its
/// `message` events into hub requests and the hub's answers into `message` events.
///
/// The connect is acknowledged before the key is checked, as OpenWA's gateway does: a refused
/// key then gets an `UNAUTHORIZED` error on the `message` event and a namespace disconnect.
final class SocketIOClient: EngineIOSessionDelegate, RealtimePeer {
    static let namespace = "/events"

    // Weak: the hub may still hold this client as a peer while the session ends, and the other
    // way round during shutdown.
    private weak var session: EngineIOSession?
    private weak var hub: RealtimeHub?
    private var clientID: RealtimeHub.ClientID?

    init(session: EngineIOSession, hub: RealtimeHub) {
        self.session = session
        self.hub = hub
    }

    // MARK: - From the client

    func engineSession(_ session: EngineIOSession, didReceive message: String) {
        guard let hub else { return }
        guard let packet = SocketIOPacket(decoding: message) else { return session.close(reason: "malformed Socket.IO packet") }
        switch packet.kind {
        case .connect:
            connect(packet, session: session, hub: hub)
        case .disconnect where packet.namespace == Self.namespace:
            if let clientID { hub.close(clientID) }
            clientID = nil
        case .event where packet.namespace == Self.namespace:
            guard let clientID, case .array(let arguments) = packet.data ?? .null, arguments.first == "message" else { return }
            hub.receive(arguments.count > 1 ? arguments[1] : .null, from: clientID) { [weak self] json in
                guard let self, let ackID = packet.ackID else { return }
                self.sendPacket("3" + Self.namespace + "," + String(ackID) + "[" + json + "]")
            }
        case .binaryEvent, .binaryAck:
            // Attachments would follow as binary frames, which this JSON-only channel does not take.
            session.close(reason: "binary packets are not supported")
        case .disconnect, .event, .ack, .connectError:
            break
        }
    }

    func engineSessionDidClose(_ session: EngineIOSession) {
        if let clientID { hub?.close(clientID) }
        clientID = nil
    }

    private func connect(_ packet: SocketIOPacket, session: EngineIOSession, hub: RealtimeHub) {
        guard packet.namespace == Self.namespace else {
            let error = SocketIOPacket(.connectError, namespace: packet.namespace, data: ["message": "Invalid namespace"])
            return session.send(EngineIOPacket(.message, error.encoded))
        }
        guard clientID == nil else { return }
        let namespaceSID = SocketIOServer.makeID()
        session.send(EngineIOPacket(.message, SocketIOPacket(.connect, namespace: Self.namespace, data: ["sid": .string(namespaceSID)]).encoded))
        // `auth.apiKey` is preferred; the handshake's `x-api-key` header is the fallback.
        let presented = packet.data?["apiKey"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? session.handshakeKey
        clientID = hub.open(peer: self, presentedKey: presented, clientIP: session.clientIP)
    }

    // MARK: - To the client

    func send(json: String) {
        sendPacket("2" + Self.namespace + ",[\"message\"," + json + "]")
    }

    func disconnect(lastMessage json: String?) {
        if let json { send(json: json) }
        clientID = nil
        sendPacket("1" + Self.namespace + ",")
        session?.close(reason: "server disconnect")
    }

    private func sendPacket(_ socketIOText: String) {
        session?.send(EngineIOPacket(.message, socketIOText))
    }
}
