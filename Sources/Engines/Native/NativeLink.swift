import Foundation
import Logging
import Persistence
import Reactor
import WAProtocol

/// The reactor-confined state machine of one session's link: credentials, socket, Noise,
/// nodes, pairing, login, keepalive and the reconnect policy (OpenWA's rules).
final class NativeLink: WebSocketDelegate {
    enum Phase { case idle, connecting, handshaking, authenticating, unpaired, pairing, ready }

    let sessionID: String
    let config: SessionEngineConfig
    let configuration: NativeEngineConfiguration
    let handle: ReactorHandle
    let authState: any AuthStateStore
    /// Where received and sent messages are committed before they are acknowledged.
    let messages: any MessageSink
    let logger: Logger
    let emit: @Sendable (EngineEvent) -> Void
    private(set) var reactor: Reactor!

    var phase = Phase.idle
    /// Start was asked for and neither stop, logout nor a terminal failure followed.
    var wantRunning = false
    var credentials: NativeCredentials?
    /// Bumped by every teardown: callbacks of an older link are dropped.
    var generation = 0

    // Link
    var socket: WebSocketConnection?
    /// Sockets of ended links, kept until their close handshake finishes (the stream only holds
    /// its WebSocket weakly, so dropping it early would leak the descriptor).
    var closingSockets: [ObjectIdentifier: WebSocketConnection] = [:]
    var frameReader = FrameReader()
    var frameWriter = FrameWriter(intro: IntroHeader.header)
    var initiator: NoiseHandshake.Initiator?
    var transport: NoiseTransport?
    var handshakeBusy = false
    /// When bytes last arrived on the current socket (the watchdog's silence measure).
    var lastInbound: ReactorInstant?
    var queuedFrames: [[UInt8]] = []

    // Timers
    var handshakeTimer: TimerID?
    var qrTimer: TimerID?
    var keepAliveTimer: TimerID?
    var reconnectTimer: TimerID?
    var readyResetTimer: TimerID?

    // Requests
    var pending: [String: (timer: TimerID, callback: (Result<BinaryNode, EngineError>) -> Void)] = [:]
    var requestCounter = 0
    let requestPrefix: String
    /// Sent `message` stanzas waiting for the server's ack, by message id.
    var pendingAcks: [String: (timer: TimerID, callback: (Result<BinaryNode, EngineError>) -> Void)] = [:]
    /// Media re-upload requests waiting for the phone's `mediaretry` notification, by message id.
    var mediaRetries: [String: (timer: TimerID, callback: (Result<BinaryNode, EngineError>) -> Void)] = [:]

    // Messages
    /// Signal jobs waiting for the one running (`enqueueSignalJob`).
    var signalJobs: [(NativeLink, @escaping () -> Void) -> Void] = []
    var signalJobRunning = false
    /// Message stanzas waiting for the next inbound batch, and whether that batch is queued.
    var inboundStanzas: [BinaryNode] = []
    var inboundDrainScheduled = false
    /// Sends waiting for the next outbound encryption batch, and whether that batch is queued.
    var outboundEncrypts: [EncryptRequest] = []
    var outboundDrainScheduled = false
    /// Our signed device identity as stored at pairing (nil = not read yet).
    var signedIdentityBytes: [UInt8]??
    /// The session's Signal records as last read or written.
    let signalCache = SignalRecordCache()
    /// Message status changes waiting for the one being stored (`enqueueStatusUpdate`).
    var statusUpdates: [(chat: String?, ids: [String], ack: Int)] = []
    var statusUpdateRunning = false
    /// Device lists by user (`user@server`), with when they were fetched.
    var deviceCache: [String: (devices: [JID], fetched: ReactorInstant)] = [:]
    /// Contact records with a write queued (`noteContact`): a burst from one sender queues one.
    var contactsBeingNoted: Set<String> = []
    /// Group metadata by group JID, until a `w:gp2` notification or a new connection drops it.
    var groupCache: [String: GroupInfo] = [:]
    /// The account's blocked contacts in OpenWA's ids (nil until asked for on this connection),
    /// kept current by our own changes and the server's `account_sync` notifications.
    var blocklist: Set<String>?
    /// Last known presence per chat, the contacts we subscribed to, and the availability asked
    /// for (all sent again after a reconnect).
    var presences: [String: PresenceSnapshot] = [:]
    /// Recent sends by id with their chat, for retry receipts (`NativeLink+Retry.swift`).
    var recentSends: [String: (content: Waproto_Message, chat: JID)] = [:]
    var recentSendOrder: [String] = []
    var presenceSubscriptions: Set<JID> = []
    var wantsAvailable: Bool?
    /// An app-state sync or upload holds the gate; the others wait in order (`NativeAppState.swift`).
    var appStateBusy = false
    var appStateWaiters: [CheckedContinuation<Void, any Error>] = []
    /// App-state key ids already asked of the primary on this connection.
    var appStateKeysRequested: Set<[UInt8]> = []

    // Pairing
    var qrRefs: [String] = []
    var qrIndex = 0
    var pairingCode: (code: String, ephemeral: Crypto.X25519KeyPair, phone: String, ref: [UInt8]?)?

    /// Consecutive reconnect attempts since the last 5 minutes of `ready`.
    var attempts = 0

    /// Worker jobs and store writes under way; `stop` waits for them so nothing of this
    /// session runs after it returns.
    var inFlight = 0
    var idleWaiters: [() -> Void] = []

    init(
        sessionID: String, config: SessionEngineConfig, configuration: NativeEngineConfiguration, handle: ReactorHandle,
        authState: any AuthStateStore, messages: any MessageSink, logger: Logger,
        events: @escaping @Sendable (EngineEvent) -> Void
    ) {
        self.sessionID = sessionID
        self.messages = messages
        self.config = config
        self.configuration = configuration
        self.handle = handle
        self.authState = authState
        self.logger = logger
        self.emit = events
        let random = (try? Crypto.randomBytes(4)) ?? [1, 2, 3, 4]
        requestPrefix = "\(UInt16(random[0]) << 8 | UInt16(random[1])).\(UInt16(random[2]) << 8 | UInt16(random[3]))-"
    }

    /// This session's worker lane: its crypto steps run in order, off the reactor.
    var lane: WorkerLane { reactor.workers.lane(for: sessionID.hashValue) }

    func attach(_ reactor: Reactor) {
        if self.reactor == nil { self.reactor = reactor }
    }

    // MARK: - Commands

    func start(_ completion: @escaping @Sendable (Result<Void, any Error>) -> Void) {
        guard !wantRunning else { return completion(.success(())) }
        wantRunning = true
        attempts = 0
        prepareCredentials { link, result in
            switch result {
            case .success:
                link.connect()
                completion(.success(()))
            case .failure(let error):
                link.wantRunning = false
                completion(.failure(error))
            }
        }
    }

    func stop(_ completion: @escaping @Sendable (Result<Void, any Error>) -> Void) {
        wantRunning = false
        teardown()
        cancel(&readyResetTimer)
        whenIdle { completion(.success(())) }
    }

    /// Runs `body` once no worker job or store write of this link is under way.
    func whenIdle(_ body: @escaping () -> Void) {
        guard inFlight > 0 else { return body() }
        idleWaiters.append(body)
    }

    private func finishedOne() {
        inFlight -= 1
        guard inFlight == 0 else { return }
        let waiters = idleWaiters
        idleWaiters = []
        for waiter in waiters { waiter() }
    }

    func logout(_ completion: @escaping @Sendable (Result<Void, any Error>) -> Void) {
        let finish: (NativeLink) -> Void = { link in
            link.wantRunning = false
            link.teardown()
            link.cancel(&link.readyResetTimer)
            link.wipeCredentials { link, result in
                link.emit(.loggedOut(reason: "logged out"))
                link.whenIdle { completion(result) }
            }
        }
        guard phase == .ready, let me = credentials?.me else { return finish(self) }
        let node = BinaryNode(
            "iq", ["to": .jid(.whatsAppServer), "type": "set", "xmlns": "md"],
            children: [BinaryNode("remove-companion-device", ["jid": .jid(me), "reason": "user_initiated"])])
        sendRequest(node, timeout: configuration.requestTimeoutMilliseconds) { [weak self] _ in
            guard let self else { return }
            finish(self)
        }
    }

    // MARK: - Credentials

    /// Loads the stored credentials, or creates and stores a fresh set in one batch.
    func prepareCredentials(_ then: @escaping (NativeLink, Result<Void, any Error>) -> Void) {
        let store = authState
        let sessionID = sessionID
        let lane = self.lane
        runAsync({ () async throws -> NativeCredentials in
            if let stored = try NativeCredentials(stored: try await store.load(sessionID: sessionID)) { return stored }
            let fresh = try await lane.run { try NativeCredentials.generate() }
            try await store.apply(sessionID: sessionID, changes: try fresh.baseValues())
            return fresh
        }) { link, result in
            switch result {
            case .success(let credentials):
                link.credentials = credentials
                then(link, .success(()))
            case .failure(let error):
                then(link, .failure(error))
            }
        }
    }

    func wipeCredentials(_ then: @escaping (NativeLink, Result<Void, any Error>) -> Void) {
        let store = authState
        let sink = messages
        let sessionID = sessionID
        credentials = nil
        signedIdentityBytes = nil
        signalCache.clear()
        runAsync(
            {
                try await store.wipe(sessionID: sessionID)
                try await sink.forgetChatStates(sessionID: sessionID)
            }, then: then)
    }

    /// Writes `changes` for this session; failures end the link (credentials must not diverge).
    func persist(_ changes: [String: [UInt8]?], then: @escaping (NativeLink) -> Void) {
        let store = authState
        let sessionID = sessionID
        signalCache.forget(changes.keys)
        runAsync({ try await store.apply(sessionID: sessionID, changes: changes) }) { link, result in
            switch result {
            case .success: then(link)
            case .failure(let error): link.fail("could not store credentials: \(error)")
            }
        }
    }

    // MARK: - Reconnect policy

    /// The link dropped. Reconnects with backoff unless told otherwise or stopped.
    func linkLost(_ reason: String, reconnect: Bool = true) {
        logger.debug("link lost", metadata: ["link.reason": "\(reason)"])
        teardown()
        cancel(&readyResetTimer)
        guard wantRunning else { return }
        guard reconnect else {
            wantRunning = false
            return emit(.disconnected(reason: reason, willReconnect: false))
        }
        if config.maxReconnectAttempts == 0 {
            wantRunning = false
            return emit(.disconnected(reason: reason, willReconnect: false))
        }
        attempts += 1
        if let max = config.maxReconnectAttempts, attempts > max {
            wantRunning = false
            emit(.disconnected(reason: reason, willReconnect: false))
            return emit(.failed(reason: "gave up after \(max) reconnect attempts: \(reason)"))
        }
        let exponent = min(attempts - 1, 20)
        let delay = min(config.reconnectBaseDelayMilliseconds * (1 << exponent), configuration.maxReconnectDelayMilliseconds)
        emit(.disconnected(reason: reason, willReconnect: true))
        if attempts % 5 == 0 { emit(.reconnectLoop(attempts: attempts, nextDelayMilliseconds: delay)) }
        reconnectTimer = reactor.schedule(afterMilliseconds: delay) { [weak self] in
            guard let self, self.wantRunning else { return }
            self.reconnectTimer = nil
            self.connect()
        }
    }

    /// A terminal failure for this start: the link ends and nothing retries.
    func fail(_ reason: String) {
        logger.debug("link failed", metadata: ["link.reason": "\(reason)"])
        teardown()
        cancel(&readyResetTimer)
        guard wantRunning else { return }
        wantRunning = false
        emit(.failed(reason: reason))
    }

    /// The phone removed this device: credentials go, and (OpenWA) a new QR is offered.
    func removedByPhone(_ reason: String) {
        teardown()
        cancel(&readyResetTimer)
        wipeCredentials { link, _ in
            link.emit(.loggedOut(reason: reason))
            guard link.wantRunning else { return }
            link.prepareCredentials { link, result in
                switch result {
                case .success: if link.wantRunning { link.connect() }
                case .failure(let error): link.fail("could not create credentials: \(error)")
                }
            }
        }
    }

    /// Closes the socket and forgets everything of the current link.
    func teardown() {
        generation += 1
        if let socket { retire(socket) }
        socket = nil
        transport = nil
        initiator = nil
        handshakeBusy = false
        queuedFrames = []
        phase = .idle
        pairingCode = nil
        qrRefs = []
        for timer in [handshakeTimer, qrTimer, keepAliveTimer, reconnectTimer].compactMap({ $0 }) { reactor.cancel(timer) }
        handshakeTimer = nil
        qrTimer = nil
        keepAliveTimer = nil
        reconnectTimer = nil
        let waiting = Array(pending.values) + Array(pendingAcks.values) + Array(mediaRetries.values)
        pending = [:]
        pendingAcks = [:]
        mediaRetries = [:]
        deviceCache = [:]
        groupCache = [:]
        blocklist = nil
        appStateKeysRequested = []
        releaseAppStateWaiters()
        for entry in waiting {
            reactor.cancel(entry.timer)
            entry.callback(.failure(.unavailable("the link closed")))
        }
    }

    /// Closes `socket` and keeps it until the close handshake ends.
    func retire(_ socket: WebSocketConnection) {
        socket.delegate = self
        closingSockets[ObjectIdentifier(socket)] = socket
        socket.close()
    }

    func cancel(_ timer: inout TimerID?) {
        if let id = timer { reactor.cancel(id) }
        timer = nil
    }

    // MARK: - Hops

    /// Runs `body` on this session's worker lane; `then` runs on the reactor if the link that
    /// asked is still the current one.
    func onWorker<T: Sendable>(_ body: @escaping @Sendable () throws -> T, then: @escaping (NativeLink, Result<T, any Error>) -> Void) {
        let box = Unchecked((weak: WeakLink(self), then: then, generation: generation))
        let handle = handle
        inFlight += 1
        lane.submit(body) { result in
            handle.complete { _ in
                guard let link = box.value.weak.link else { return }
                defer { link.finishedOne() }
                guard link.generation == box.value.generation else { return }
                box.value.then(link, result)
            }
        }
    }

    /// Runs an async operation (the store) and hands its result back on the reactor thread.
    ///
    /// With `executor`, the operation's task runs there: the lane work it awaits on that lane
    /// (this session's cipher steps, or the database's statements) then runs in place instead of
    /// costing two thread switches each.
    func runAsync<T: Sendable>(
        preferring executor: (any TaskExecutor)? = nil, _ operation: @escaping @Sendable () async throws -> T,
        then: @escaping (NativeLink, Result<T, any Error>) -> Void
    ) {
        let box = Unchecked((weak: WeakLink(self), then: then))
        let handle = handle
        inFlight += 1
        Task(executorPreference: executor) {
            let result: Result<T, any Error>
            do { result = .success(try await operation()) } catch { result = .failure(error) }
            handle.post { _ in
                guard let link = box.value.weak.link else { return }
                defer { link.finishedOne() }
                box.value.then(link, result)
            }
        }
    }
}

/// Carries reactor-confined values through `@Sendable` hops; only unwrapped on the reactor thread.
struct Unchecked<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

final class WeakLink {
    weak var link: NativeLink?
    init(_ link: NativeLink) { self.link = link }
}
