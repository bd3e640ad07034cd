import Engines
import Foundation
import Logging
import Reactor

/// A connected client as the hub sees it, whatever carries it (Socket.IO or a plain WebSocket).
/// Called on the reactor thread only.
protocol RealtimePeer: AnyObject {
    /// Sends one server message, given as its JSON text.
    func send(json: String)
    /// Sends `json` (when given) as the last message, then ends the connection.
    func disconnect(lastMessage json: String?)
}

/// The real-time channel's core, confined to the reactor thread: who is connected with which
/// key, what each client subscribed to, and the fan-out of gateway events to them.
///
/// Transports hand it parsed client messages; it answers through `RealtimePeer`. A client's
/// messages are handled in order: while its key is being looked up (at connect, or again on
/// a subscribe that misses the cache) later messages wait in its inbox.
final class RealtimeHub {
    typealias ClientID = UInt64
    /// Answers the request it came with (a Socket.IO acknowledgement), given the reply's JSON.
    typealias Ack = (String) -> Void

    final class Client {
        let id: ClientID
        let peer: any RealtimePeer
        let presentedKey: String?
        let clientIP: String
        /// Nil until the key is accepted.
        var key: ApiKey?
        var subscriptions = RealtimeSubscriptions()
        var inbox: [(message: JSONValue, ack: Ack?)] = []
        var busy = true

        init(id: ClientID, peer: any RealtimePeer, presentedKey: String?, clientIP: String) {
            self.id = id
            self.peer = peer
            self.presentedKey = presentedKey
            self.clientIP = clientIP
        }
    }

    unowned let reactor: Reactor
    let keys: ApiKeyService
    let settings: RealtimeSettings
    let logger: Logger
    private(set) var clients: [ClientID: Client] = [:]
    /// Session selector (`"*"` or an id) -> clients subscribed to it, so an event visits only
    /// the clients that may want it.
    private var rooms: [String: Set<ClientID>] = [:]
    private var socketsPerKey: [String: Int] = [:]
    private var frameBuckets: [String: TokenBucket] = [:]
    private var handshakes = HandshakeLimiter()
    private var nextClientID: ClientID = 0
    /// The periodic key sweep's timer (see RealtimeHub+Keys.swift).
    var sweepTimer: TimerID?
    private var busToken: UInt64?
    private weak var bus: EventBus?

    init(reactor: Reactor, keys: ApiKeyService, settings: RealtimeSettings, logger: Logger) {
        self.reactor = reactor
        self.keys = keys
        self.settings = settings
        self.logger = logger
    }

    /// Starts taking events from `bus` and the periodic key sweep.
    func start(bus: EventBus) {
        let handle = reactor.handle
        let box = ReactorBound(self)
        self.bus = bus
        busToken = bus.subscribe { event in
            // Publishers run on any thread; the fan-out runs on the reactor, in publish order.
            handle.post { _ in box.value.deliver(event) }
        }
        scheduleSweep()
    }

    /// Stops taking events and closes every client.
    func stop() {
        if let busToken { bus?.unsubscribe(busToken) }
        busToken = nil
        if let sweepTimer { reactor.cancel(sweepTimer) }
        sweepTimer = nil
        for client in clients.values { client.peer.disconnect(lastMessage: nil) }
        clients.removeAll()
        rooms.removeAll()
        socketsPerKey.removeAll()
    }

    // MARK: - Clients

    /// A transport opened: the key is checked (asynchronously when not cached); a refusal is
    /// sent as an `UNAUTHORIZED` (or `RATE_LIMITED`) error, then the client is disconnected.
    func open(peer: any RealtimePeer, presentedKey: String?, clientIP: String) -> ClientID {
        nextClientID += 1
        let client = Client(id: nextClientID, peer: peer, presentedKey: presentedKey, clientIP: clientIP)
        clients[client.id] = client
        guard handshakes.admit(clientIP, now: reactor.now, limit: settings.handshakesPerWindow,
            windowMilliseconds: settings.handshakeWindowMilliseconds)
        else {
            refuse(client, RealtimeFailure(code: .rateLimited, message: "Too many connection attempts, try again later"))
            return client.id
        }
        guard let presentedKey else {
            refuse(client, RealtimeFailure(code: .unauthorized, message: "API key is required"))
            return client.id
        }
        verify(presentedKey, for: client) { hub, client, key in hub.admit(client, key) }
        return client.id
    }

    /// A client message (the argument of a `message` event, or a text frame's JSON). The reply
    /// goes out as a message, and through `ack` as well when the client asked for one.
    func receive(_ message: JSONValue, from id: ClientID, ack: Ack? = nil) {
        guard let client = clients[id] else { return }
        // Messages wait only while a key lookup runs; a client that floods meanwhile is dropped.
        guard client.inbox.count < 256 else {
            return refuse(client, RealtimeFailure(code: .rateLimited, message: "Too many messages, slow down"))
        }
        client.inbox.append((message, ack))
        drainInbox(client)
    }

    /// The transport is gone.
    func close(_ id: ClientID) {
        guard let client = clients[id] else { return }
        forget(client)
    }

    /// Drops the client from every table; its key's bucket goes with its last socket.
    private func forget(_ client: Client) {
        clients[client.id] = nil
        for (selector, _) in rooms where client.subscriptions.holds(selector) { leaveRoom(selector, client.id) }
        guard let key = client.key else { return }
        client.key = nil
        let left = (socketsPerKey[key.id] ?? 1) - 1
        socketsPerKey[key.id] = left > 0 ? left : nil
        if left <= 0 { frameBuckets[key.id] = nil }
    }

    private func admit(_ client: Client, _ key: ApiKey) {
        if !(key.allowedChats ?? []).isEmpty {
            return refuse(client, RealtimeFailure(code: .unauthorized, message: "Chat-restricted API keys cannot use the real-time channel"))
        }
        do {
            try AuthGuard.checkIP(key, clientIP: client.clientIP)
        } catch {
            return refuse(client, RealtimeFailure(code: .unauthorized, message: "API key not authorized for this IP address"))
        }
        guard (socketsPerKey[key.id] ?? 0) < settings.maxSocketsPerKey else {
            return refuse(client, RealtimeFailure(code: .rateLimited, message: "Too many sockets open for this API key"))
        }
        socketsPerKey[key.id, default: 0] += 1
        client.key = key
        keys.recordUse(of: key)
        client.busy = false
        drainInbox(client)
    }

    /// Sends the failure as the client's last message and disconnects it.
    func refuse(_ client: Client, _ failure: RealtimeFailure) {
        forget(client)
        client.peer.disconnect(lastMessage: JSONWriter.string(RealtimeReply.error(failure)))
    }

    // MARK: - Requests

    private func drainInbox(_ client: Client) {
        while !client.busy, clients[client.id] === client, !client.inbox.isEmpty {
            let (message, ack) = client.inbox.removeFirst()
            handle(message, ack: ack, from: client)
        }
    }

    private func handle(_ message: JSONValue, ack: Ack?, from client: Client) {
        guard let key = client.key else { return }
        let request: RealtimeRequest
        switch RealtimeRequest.parse(message) {
        case .failure(let failure):
            return reply(client, RealtimeReply.error(failure), ack)
        case .success(let parsed):
            request = parsed
        }
        var bucket = frameBuckets[key.id]
            ?? TokenBucket(ratePerSecond: settings.framesPerSecond, burst: settings.frameBurst, now: reactor.now)
        let allowed = bucket.take(now: reactor.now)
        frameBuckets[key.id] = bucket
        guard allowed else {
            let failure = RealtimeFailure(code: .rateLimited, message: "Too many messages, slow down")
            return reply(client, RealtimeReply.error(failure, requestID: request.requestID), ack)
        }
        switch request {
        case .ping(let requestID):
            reply(client, RealtimeReply.pong(requestID: requestID), ack)
        case .unsubscribe(let sessionID, let events, let requestID):
            client.subscriptions.remove(events, for: sessionID)
            if !client.subscriptions.holds(sessionID) { leaveRoom(sessionID, client.id) }
            reply(client, RealtimeReply.unsubscribed(sessionID: sessionID, requestID: requestID), ack)
        case .subscribe(let sessionID, let events, let requestID):
            // The key is checked again on every subscribe, as OpenWA does.
            guard let presented = client.presentedKey else { return }
            client.busy = true
            verify(presented, for: client) { hub, client, fresh in
                client.busy = false
                guard hub.sameAuthorization(fresh, key) else {
                    let failure = RealtimeFailure(code: .unauthorized, message: "API key authorization changed; please reconnect")
                    return hub.refuse(client, failure)
                }
                hub.subscribe(client, sessionID: sessionID, events: events, requestID: requestID, ack: ack)
                hub.drainInbox(client)
            }
        }
    }

    private func subscribe(_ client: Client, sessionID: String, events: [String], requestID: JSONValue?, ack: Ack?) {
        guard let key = client.key else { return }
        if let allowed = key.allowedSessions, !allowed.isEmpty, sessionID == "*" || !allowed.contains(sessionID) {
            let failure = RealtimeFailure(code: .forbiddenSession, message: "API key is not authorized for this session")
            return reply(client, RealtimeReply.error(failure, requestID: requestID), ack)
        }
        guard client.subscriptions.countAfterAdding(events, for: sessionID) <= settings.maxSubscriptionsPerSocket else {
            let failure = RealtimeFailure(
                code: .tooManySubscriptions, message: "Too many subscriptions (limit \(settings.maxSubscriptionsPerSocket))")
            return reply(client, RealtimeReply.error(failure, requestID: requestID), ack)
        }
        client.subscriptions.add(events, for: sessionID)
        rooms[sessionID, default: []].insert(client.id)
        reply(client, RealtimeReply.subscribed(sessionID: sessionID, events: events, requestID: requestID), ack)
    }

    private func leaveRoom(_ selector: String, _ id: ClientID) {
        rooms[selector]?.remove(id)
        if rooms[selector]?.isEmpty == true { rooms[selector] = nil }
    }

    private func reply(_ client: Client, _ message: JSONValue, _ ack: Ack?) {
        let json = JSONWriter.string(message)
        client.peer.send(json: json)
        ack?(json)
    }

    // MARK: - Events

    /// Sends `event` once to every client whose subscriptions match it.
    func deliver(_ event: GatewayEvent) {
        guard RealtimeRequest.subscribableEvents.contains(event.name) else { return }
        var targets = rooms[event.sessionID] ?? []
        targets.formUnion(rooms["*"] ?? [])
        guard !targets.isEmpty else { return }
        var encoded: String?
        // Sorted, so clients see events in the same relative order run after run.
        for id in targets.sorted() {
            guard let client = clients[id], let key = client.key,
                client.subscriptions.matches(event: event.name, sessionID: event.sessionID)
            else { continue }
            // A QR lets whoever sees it link the account: operator and above only.
            if event.name == "session.qr", key.role < .operator { continue }
            let text = encoded ?? JSONWriter.string(RealtimeReply.event(event))
            encoded = text
            client.peer.send(json: text)
        }
    }
}

/// Connection attempts per client IP in fixed windows (`WS_RATE_LIMIT_HANDSHAKE_*`).
private struct HandshakeLimiter {
    private var windows: [String: (start: ReactorInstant, count: Int)] = [:]

    mutating func admit(_ ip: String, now: ReactorInstant, limit: Int, windowMilliseconds: Int) -> Bool {
        if windows.count > 10_000 {
            // Forget finished windows so scanning addresses cannot grow the table without bound.
            windows = windows.filter { now < $0.value.start.adding(milliseconds: windowMilliseconds) }
        }
        var window = windows[ip] ?? (now, 0)
        if now >= window.start.adding(milliseconds: windowMilliseconds) { window = (now, 0) }
        window.count += 1
        windows[ip] = window
        return window.count <= limit
    }
}
