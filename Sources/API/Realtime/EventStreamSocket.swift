import Reactor

/// The plain WebSocket form of the real-time channel (`GET /api/events/ws`), for clients
/// without Socket.IO: each text frame in is one client message (`subscribe`, `unsubscribe`,
/// `ping`), each text frame out is one server message, in the same JSON as on Socket.IO.
///
/// The key comes from the upgrade request's `X-API-Key` or `Authorization: Bearer` header. A
/// refused key gets the `UNAUTHORIZED` error frame, then a close with 1008 (policy violation).
final class EventStreamSocket: WebSocketDelegate, RealtimePeer {
    private let outbox: WebSocketOutbox
    /// Weak: during shutdown the socket's close may come after the hub is gone.
    private weak var hub: RealtimeHub?
    private var clientID: RealtimeHub.ClientID?
    /// The socket's owner until it closes (the hub lets go first when it refuses the client).
    private var keepAlive: EventStreamSocket?

    init(socket: WebSocketConnection, hub: RealtimeHub) {
        self.outbox = WebSocketOutbox(socket: socket, maxQueuedBytes: hub.settings.maxQueuedBytesPerSocket)
        self.hub = hub
    }

    func start(presentedKey: String?, clientIP: String) {
        keepAlive = self
        outbox.socket.delegate = self
        clientID = hub?.open(peer: self, presentedKey: presentedKey, clientIP: clientIP)
    }

    // MARK: - RealtimePeer

    func send(json: String) {
        outbox.send(json)
    }

    func disconnect(lastMessage json: String?) {
        clientID = nil
        if let json { outbox.send(json) }
        outbox.close(code: json == nil ? 1001 : 1008, reason: json == nil ? "server shutting down" : "refused")
    }

    // MARK: - WebSocketDelegate

    func webSocket(_ socket: WebSocketConnection, didReceive message: WebSocketMessage) {
        guard let clientID else { return }
        // Anything that is not a JSON text frame reaches the hub as null: an INVALID_MESSAGE error.
        var value = JSONValue.null
        if case .text(let text) = message, let parsed = try? JSONParser.parse(Array(text.utf8)) { value = parsed }
        hub?.receive(value, from: clientID)
    }

    func webSocketDidClose(_ socket: WebSocketConnection, code: UInt16, reason: String) {
        if let clientID { hub?.close(clientID) }
        clientID = nil
        keepAlive = nil
    }

    func webSocketDidDrain(_ socket: WebSocketConnection) {
        outbox.drain()
    }
}
