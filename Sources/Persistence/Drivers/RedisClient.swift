import Logging
import Reactor

/// The thread-safe face of Redis: any task may call it; the work is posted to the reactor, which
/// owns the two hiredis connections (one for commands, one dedicated to pub/sub, as a subscribed
/// Redis connection accepts nothing but (un)subscribe commands).
///
/// Errors: an error reply throws `PersistenceError.redis` (`isRedisError`); an outage, a connect
/// or command timeout or a closed client throws `PersistenceError.unavailable(database: "redis")`
/// (`isUnavailable`) with the server address and the cause. After a failure commands fail at once
/// during a short backoff (100 ms doubling to 5 s), then the next command reconnects.
package final class RedisClient: Sendable {
    package let configuration: RedisConfiguration
    private let handle: ReactorHandle
    private let state: ReactorBound<ClientState>

    package init(configuration: RedisConfiguration, handle: ReactorHandle, logger: Logger) {
        self.configuration = configuration
        self.handle = handle
        self.state = ReactorBound(handle: handle, ClientState(configuration: configuration, logger: logger))
    }

    /// Runs one command (`["SET", "k", bytes]`); arguments are binary-safe.
    package func command(_ arguments: [RedisArgument]) async throws -> RedisValue {
        precondition(!arguments.isEmpty, "a Redis command needs a name")
        let state = self.state
        return try await withCheckedThrowingContinuation { continuation in
            let posted = handle.post { reactor in
                state.value.commands(reactor).send(arguments) { continuation.resume(with: $0) }
            }
            if !posted { continuation.resume(throwing: PersistenceError.unavailable(database: "redis", reason: "the reactor has stopped")) }
        }
    }

    package func command(_ arguments: RedisArgument...) async throws -> RedisValue {
        try await command(arguments)
    }

    /// `PUBLISH channel message`; returns how many subscribers received it.
    @discardableResult
    package func publish(channel: String, message: [UInt8]) async throws -> Int {
        Int(try await command(["PUBLISH", RedisArgument(channel), RedisArgument(message)]).int ?? 0)
    }

    /// Subscribes `handler` to `channel` on the subscriber connection; it is called on the
    /// reactor thread with each message's payload. Returns once Redis confirmed the subscription.
    /// The subscription is durable: when the connection is lost it is renewed as soon as Redis is
    /// back (retried with backoff). When Redis cannot be reached now this throws, and the
    /// subscription still becomes live once Redis is back.
    package func subscribe(channel: String, handler: @escaping @Sendable ([UInt8]) -> Void) async throws {
        let state = self.state
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let posted = handle.post { reactor in
                state.value.subscribe(channel: channel, handler: handler, reactor: reactor) { continuation.resume(with: $0) }
            }
            if !posted { continuation.resume(throwing: PersistenceError.unavailable(database: "redis", reason: "the reactor has stopped")) }
        }
    }

    /// True when the command connection is up (for health and tests).
    package func isConnected() async -> Bool {
        let state = self.state
        return (try? await handle.submit { _ in state.value.commandConnection?.isConnected == true }) ?? false
    }

    /// Closes both connections; pending commands fail as unavailable.
    package func close() async {
        let state = self.state
        _ = try? await handle.submit { _ in state.value.close() }
    }
}

/// The reactor-confined state of a `RedisClient`.
private final class ClientState {
    let configuration: RedisConfiguration
    let logger: Logger
    var commandConnection: RedisConnection?
    var subscriberConnection: RedisConnection?
    /// Handlers by channel; every channel here is (re)subscribed whenever the connection is up.
    var handlers: [String: [@Sendable ([UInt8]) -> Void]] = [:]
    /// Channels confirmed on the current subscriber connection, and those with a SUBSCRIBE sent.
    var live: Set<String> = []
    var requested: Set<String> = []
    var confirmations: [String: [(Result<Void, any Error>) -> Void]] = [:]
    var resubscribeTimer: TimerID?
    var closed = false

    init(configuration: RedisConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    func commands(_ reactor: Reactor) -> RedisConnection {
        if let commandConnection { return commandConnection }
        let connection = RedisConnection(reactor: reactor, configuration: configuration, name: "commands", logger: logger)
        if closed { connection.close() }
        commandConnection = connection
        return connection
    }

    func subscriber(_ reactor: Reactor) -> RedisConnection {
        if let subscriberConnection { return subscriberConnection }
        let connection = RedisConnection(reactor: reactor, configuration: configuration, name: "subscriber", logger: logger)
        if closed { connection.close() }
        connection.onDown = { [unowned self, unowned reactor] in self.scheduleResubscribe(reactor) }
        subscriberConnection = connection
        return connection
    }

    func subscribe(
        channel: String, handler: @escaping @Sendable ([UInt8]) -> Void, reactor: Reactor,
        completion: @escaping (Result<Void, any Error>) -> Void
    ) {
        handlers[channel, default: []].append(handler)
        if live.contains(channel) {
            completion(.success(()))
            return
        }
        confirmations[channel, default: []].append(completion)
        if !requested.contains(channel) { request(channel, reactor: reactor) }
    }

    private func request(_ channel: String, reactor: Reactor) {
        let connection = subscriber(reactor)
        let subscription = RedisConnection.Subscription { [weak self] value, reason in
            self?.received(channel: channel, value: value, reason: reason, connection: connection)
        }
        if let error = connection.subscribe(channel: channel, subscription) {
            fail(channel, error)
            scheduleResubscribe(reactor)
        } else {
            requested.insert(channel)
        }
    }

    private func received(channel: String, value: RedisValue?, reason: String, connection: RedisConnection) {
        guard let value else {
            live.remove(channel)
            requested.remove(channel)
            fail(channel, connection.unavailable(reason))
            return
        }
        guard let parts = value.array, let kind = parts.first?.string?.lowercased() else { return }
        switch kind {
        case "subscribe":
            live.insert(channel)
            for confirm in confirmations.removeValue(forKey: channel) ?? [] { confirm(.success(())) }
        case "message":
            guard parts.count >= 3, let payload = parts[2].bytes else { return }
            for handler in handlers[channel] ?? [] { handler(payload) }
        default: break
        }
    }

    private func fail(_ channel: String, _ error: PersistenceError) {
        for confirm in confirmations.removeValue(forKey: channel) ?? [] { confirm(.failure(error)) }
    }

    /// After the subscriber connection is lost, subscribes every channel again once its backoff
    /// has passed (which connects again).
    private func scheduleResubscribe(_ reactor: Reactor) {
        guard !closed, resubscribeTimer == nil, !handlers.isEmpty, let connection = subscriberConnection else { return }
        let at = connection.nextAttempt ?? reactor.now
        resubscribeTimer = reactor.schedule(at: at) { [weak self, unowned reactor] in
            guard let self else { return }
            self.resubscribeTimer = nil
            guard !self.closed else { return }
            for channel in self.handlers.keys where !self.requested.contains(channel) {
                self.request(channel, reactor: reactor)
            }
        }
    }

    func close() {
        closed = true
        if let resubscribeTimer, let reactor = subscriberConnection?.reactor { reactor.cancel(resubscribeTimer) }
        resubscribeTimer = nil
        commandConnection?.close()
        subscriberConnection?.close()
        handlers = [:]
    }
}
