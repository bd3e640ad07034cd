import Engines
import Logging
import Reactor

/// The real-time channel: Socket.IO at `/socket.io/` (namespace `/events`) and the plain
/// WebSocket stream at `/api/events/ws`, both fed from the gateway's event bus. Built, used and
/// stopped on the reactor thread.
package final class RealtimeChannel {
    /// The plain WebSocket stream's path.
    package static let eventStreamPath = "/api/events/ws"

    private let hub: RealtimeHub
    private let socketIO: SocketIOServer
    private let clientAddresses: ClientAddressResolver

    package init(
        reactor: Reactor, keys: ApiKeyService, settings: RealtimeSettings, clientAddresses: ClientAddressResolver,
        logger: Logger
    ) {
        hub = RealtimeHub(reactor: reactor, keys: keys, settings: settings, logger: logger)
        socketIO = SocketIOServer(reactor: reactor, hub: hub)
        self.clientAddresses = clientAddresses
    }

    /// Starts delivering `bus` events to subscribers.
    package func start(bus: EventBus) {
        hub.start(bus: bus)
    }

    /// Closes every client (shutdown); held polls are answered so the HTTP server can drain.
    package func stop() {
        socketIO.stop()
        hub.stop()
    }

    /// Whether `path` belongs to the channel rather than to the REST API.
    package static func handles(path: String) -> Bool {
        path == "/socket.io/" || path == "/socket.io" || path == eventStreamPath
    }

    /// Connected clients (authenticated or still being checked), for tests and metrics.
    package var clientCount: Int { hub.clients.count }

    package func respond(to request: HTTPRequest, sink: HTTPResponseSink) {
        let clientIP = clientAddresses.clientIP(peer: request.remoteAddress, forwardedFor: request.head.headers["x-forwarded-for"])
        if request.head.path == Self.eventStreamPath {
            return openEventStream(request, sink: sink, clientIP: clientIP)
        }
        socketIO.respond(to: request, sink: sink, clientIP: clientIP)
    }

    private func openEventStream(_ request: HTTPRequest, sink: HTTPResponseSink, clientIP: String) {
        guard request.head.method == "GET", let key = WebSocketHandshake.clientKey(of: request.head) else {
            var error = APIError(status: 426, message: "Upgrade to a WebSocket to use the event stream")
            error.headers.add("upgrade", "websocket")
            return sink.send(error.response())
        }
        let presented = AuthGuard.presentedKey(request.head.headers)
        let box = ReactorBound(hub)
        let maxMessageBytes = hub.settings.maxPayloadBytes
        sink.switchProtocols(headers: WebSocketHandshake.switchingProtocolsHeaders(key: key)) { stream, leftover in
            let hub = box.value
            let socket = WebSocketConnection(
                reactor: hub.reactor, stream: stream, role: .server, maxMessageBytes: maxMessageBytes, leftover: leftover)
            EventStreamSocket(socket: socket, hub: hub).start(presentedKey: presented, clientIP: clientIP)
        }
    }
}

/// The gateway's HTTP responder: the real-time channel's paths go to it, everything else to
/// the REST API.
package final class GatewayResponder: HTTPResponder {
    private let api: APIServer
    private let realtime: RealtimeChannel

    package init(api: APIServer, realtime: RealtimeChannel) {
        self.api = api
        self.realtime = realtime
    }

    package func respond(to request: HTTPRequest, sink: HTTPResponseSink) {
        if RealtimeChannel.handles(path: request.head.path) {
            realtime.respond(to: request, sink: sink)
        } else {
            api.respond(to: request, sink: sink)
        }
    }

    package func bodyHandling(for head: HTTPRequestHead) -> HTTPBodyHandling {
        RealtimeChannel.handles(path: head.path) ? .collect : api.bodyHandling(for: head)
    }
}
