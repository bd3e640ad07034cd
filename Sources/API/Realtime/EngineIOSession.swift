import Foundation
import Reactor

/// What an Engine.IO session tells the Socket.IO layer above it, on the reactor thread.
protocol EngineIOSessionDelegate: AnyObject {
    /// The data of a `message` packet.
    func engineSession(_ session: EngineIOSession, didReceive message: String)
    func engineSessionDidClose(_ session: EngineIOSession)
}

/// One Engine.IO v4 connection: the heartbeat (the server pings, the client must pong in time)
/// and the transport, HTTP long-polling or a WebSocket, with the upgrade from one to the other.
///
/// Output is bounded: on a WebSocket by `WebSocketOutbox`, while polling by the same byte cap
/// on what waits for the next GET.
final class EngineIOSession: WebSocketDelegate {
    private enum Transport {
        case polling
        case websocket(WebSocketOutbox)
    }

    let sid: String
    /// The key from the handshake request's headers, used when CONNECT carries none.
    let handshakeKey: String?
    let clientIP: String
    weak var delegate: (any EngineIOSessionDelegate)?
    /// Weak: a socket's close handshake may finish after the server itself is gone (shutdown).
    private weak var server: SocketIOServer?
    private unowned let reactor: Reactor
    private let settings: RealtimeSettings
    private var transport: Transport
    private var pollQueue: [EngineIOPacket] = []
    private var pollQueueBytes = 0
    private var waitingPoll: HTTPResponseSink?
    /// The WebSocket being probed during an upgrade from polling.
    private var probe: WebSocketConnection?
    private var pingTimer: TimerID?
    private var awaitingPong = false
    private(set) var isClosed = false
    /// Set while a WebSocket of this session is open: its close handshake may outlive the
    /// session's place in the server's table, and the socket must have an owner until it ends.
    private var openSockets: [ObjectIdentifier: EngineIOSession] = [:]

    init(sid: String, server: SocketIOServer, handshakeKey: String?, clientIP: String, socket: WebSocketConnection?) {
        self.sid = sid
        self.server = server
        self.reactor = server.reactor
        self.settings = server.settings
        self.handshakeKey = handshakeKey
        self.clientIP = clientIP
        if let socket {
            transport = .websocket(WebSocketOutbox(socket: socket, maxQueuedBytes: settings.maxQueuedBytesPerSocket))
        } else {
            transport = .polling
        }
        if let socket { adopt(socket) }
    }

    private func adopt(_ socket: WebSocketConnection) {
        socket.delegate = self
        openSockets[ObjectIdentifier(socket)] = self
    }

    /// The `open` packet's data.
    func openPacket(upgrades: [String]) -> EngineIOPacket {
                let data: JSONValue = .object([
            ("sid", .string(sid)), ("upgrades", .array(upgrades.map(JSONValue.string))),
            ("pingInterval", .number(Double(settings.pingIntervalMilliseconds))),
            ("pingTimeout", .number(Double(settings.pingTimeoutMilliseconds))),
            ("maxPayload", .number(Double(settings.maxPayloadBytes))),
        ])
        return EngineIOPacket(.open, JSONWriter.string(data))
    }

    func startHeartbeat() {
        schedulePing()
    }

    // MARK: - Sending

    func send(_ packet: EngineIOPacket) {
        guard !isClosed else { return }
        switch transport {
        case .websocket(let outbox):
            outbox.send(packet.encoded)
        case .polling:
            pollQueue.append(packet)
            pollQueueBytes += packet.data.utf8.count + 1
            if pollQueueBytes > settings.maxQueuedBytesPerSocket { return close(reason: "client too slow") }
            flushPoll()
        }
    }

    /// Ends the session: a WebSocket is closed after what is queued; a waiting poll gets the
    /// queued packets and a `close` packet.
    func close(reason: String) {
        guard !isClosed else { return }
        isClosed = true
        if let pingTimer { reactor.cancel(pingTimer) }
        pingTimer = nil
        probe?.close(code: 1000, reason: reason)
        probe = nil
        switch transport {
        case .websocket(let outbox):
            outbox.close(code: 1000, reason: reason)
        case .polling:
            pollQueue.append(EngineIOPacket(.close))
            if waitingPoll == nil {
                // The last packets (often an error saying why) wait for the client's next poll,
                // but not for long.
                reactor.schedule(afterMilliseconds: settings.pingTimeoutMilliseconds) { [weak self] in
                    self?.finishClose()
                }
                delegate?.engineSessionDidClose(self)
                return
            }
            flushPoll()
        }
        finishClose()
        delegate?.engineSessionDidClose(self)
    }

    private func finishClose() {
        pollQueue = []
        server?.sessionClosed(self)
    }

    // MARK: - Polling

    /// A long-poll GET: answered at once when packets wait, else held until one is sent.
    func poll(_ sink: HTTPResponseSink) {
        if isClosed {
            waitingPoll = sink
            flushPoll()
            return finishClose()
        }
        guard case .polling = transport, waitingPoll == nil else {
            // Overlapping polls, or polling after the upgrade: the client is confused; end it.
            sink.send(SocketIOServer.errorResponse(code: 3, "Bad request"))
            return close(reason: "bad poll")
        }
        waitingPoll = sink
        if !pollQueue.isEmpty { flushPoll() }
    }

    /// A polling POST: one or more packets from the client.
    func post(_ body: [UInt8], sink: HTTPResponseSink) {
        guard let text = String(validating: body, as: UTF8.self), let packets = EngineIOPacket.decodePayload(text) else {
            sink.send(SocketIOServer.errorResponse(code: 3, "Bad request"))
            return close(reason: "bad payload")
        }
        sink.send(pollResponse("ok"))
        for packet in packets where !isClosed { handle(packet) }
    }

    private func flushPoll() {
        guard let sink = waitingPoll, !pollQueue.isEmpty else { return }
        waitingPoll = nil
        let body = EngineIOPacket.encodePayload(pollQueue)
        pollQueue = []
        pollQueueBytes = 0
        sink.send(pollResponse(body))
    }

    private func pollResponse(_ body: String) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add("content-type", "text/plain; charset=UTF-8")
        headers.add("cache-control", "no-store")
        return HTTPResponse(status: 200, headers: headers, body: Array(body.utf8))
    }

    // MARK: - Upgrade (polling -> WebSocket)

    /// A WebSocket opened for this polling session: it is probed, then takes over.
    func beginUpgrade(_ socket: WebSocketConnection) {
        guard case .polling = transport, probe == nil, !isClosed else {
            return socket.close(code: 1002, reason: "upgrade not possible")
        }
        probe = socket
        adopt(socket)
    }

    private func handleProbe(_ socket: WebSocketConnection, _ packet: EngineIOPacket) {
        switch packet.kind {
        case .ping where packet.data == "probe":
            socket.send(.text(EngineIOPacket(.pong, "probe").encoded))
            // Releases the client's pending poll so it can pause polling and send `upgrade`.
            send(EngineIOPacket(.noop))
        case .upgrade:
            probe = nil
            let outbox = WebSocketOutbox(socket: socket, maxQueuedBytes: settings.maxQueuedBytesPerSocket)
            transport = .websocket(outbox)
            if let sink = waitingPoll {
                waitingPoll = nil
                sink.send(pollResponse(EngineIOPacket(.noop).encoded))
            }
            let waiting = pollQueue
            pollQueue = []
            pollQueueBytes = 0
            for packet in waiting { outbox.send(packet.encoded) }
        default:
            probe = nil
            socket.close(code: 1002, reason: "bad upgrade")
        }
    }

    // MARK: - Packets

    private func handle(_ packet: EngineIOPacket) {
        switch packet.kind {
        case .message:
            delegate?.engineSession(self, didReceive: packet.data)
        case .pong:
            pongReceived()
        case .ping:
            send(EngineIOPacket(.pong, packet.data))  // harmless courtesy to EIO3-style clients
        case .close:
            close(reason: "client closed")
        case .noop:
            break
        case .open, .upgrade:
            close(reason: "unexpected packet")
        }
    }

    // MARK: - Heartbeat

    private func schedulePing() {
        pingTimer = reactor.schedule(afterMilliseconds: settings.pingIntervalMilliseconds) { [weak self] in
            self?.sendPing()
        }
    }

    private func sendPing() {
        guard !isClosed else { return }
        awaitingPong = true
        send(EngineIOPacket(.ping))
        pingTimer = reactor.schedule(afterMilliseconds: settings.pingTimeoutMilliseconds) { [weak self] in
            guard let self, !self.isClosed, self.awaitingPong else { return }
            self.close(reason: "ping timeout")
        }
    }

    private func pongReceived() {
        guard awaitingPong else { return }
        awaitingPong = false
        if let pingTimer { reactor.cancel(pingTimer) }
        schedulePing()
    }

    // MARK: - WebSocket events

    func webSocket(_ socket: WebSocketConnection, didReceive message: WebSocketMessage) {
        guard case .text(let text) = message, let packet = EngineIOPacket(decoding: text) else {
            // Binary packets and garbage: this server speaks text Engine.IO only.
            if socket === probe { probe = nil; return socket.close(code: 1003, reason: "text packets only") }
            return close(reason: "unsupported packet")
        }
        if socket === probe { return handleProbe(socket, packet) }
        handle(packet)
    }

    func webSocketDidClose(_ socket: WebSocketConnection, code: UInt16, reason: String) {
        defer { openSockets[ObjectIdentifier(socket)] = nil }
        if socket === probe {
            probe = nil
            return
        }
        if case .websocket(let outbox) = transport, outbox.socket === socket { close(reason: "transport closed") }
    }

    func webSocketDidDrain(_ socket: WebSocketConnection) {
        if case .websocket(let outbox) = transport, outbox.socket === socket { outbox.drain() }
    }
}
