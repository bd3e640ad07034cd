internal import CHiredis
import Logging
import Reactor

/// One hiredis async connection driven by the reactor, the way hiredis' own event-loop adapters
/// (`adapters/libevent.h`, `adapters/ae.h`) drive it: the context's `ev.addRead/delRead/addWrite/
/// delWrite/cleanup` hooks turn into reactor interest changes, readiness events call
/// `redisAsyncHandleRead/Write`. Every call happens on the reactor thread.
///
/// Lifecycle: `idle` -> `connecting` -> `connected`; a failed connect, a lost connection, a
/// connect timeout or a command timeout moves to `backoff(until:)`, during which commands fail at
/// once as unavailable; the first command after the backoff connects again (the backoff doubles
/// from `initialBackoffMilliseconds` up to `maximumBackoffMilliseconds`, and resets once a
/// connection is up). Commands issued while connecting are buffered by hiredis and written once
/// the socket connects; if it never does they fail with the connect error.
final class RedisConnection: IOHandler {
    enum State: Equatable {
        case idle
        case connecting
        case connected
        case backoff(until: ReactorInstant)
        case closed
    }

    /// A command's reply slot, passed to hiredis as `privdata` (retained until the reply).
    final class Pending {
        let completion: (Result<RedisValue, PersistenceError>) -> Void
        var timer: TimerID?
        var done = false
        init(_ completion: @escaping (Result<RedisValue, PersistenceError>) -> Void) { self.completion = completion }

        func finish(_ result: Result<RedisValue, PersistenceError>, reactor: Reactor) {
            guard !done else { return }
            done = true
            if let timer { reactor.cancel(timer) }
            completion(result)
        }
    }

    /// A subscription's message slot: hiredis calls it for the confirmation, every message, and
    /// once with no reply when the connection goes (then it is released).
    final class Subscription {
        let onReply: (RedisValue?, String) -> Void
        init(_ onReply: @escaping (RedisValue?, String) -> Void) { self.onReply = onReply }
    }

    let reactor: Reactor
    let configuration: RedisConfiguration
    let name: String
    private let logger: Logger
    private(set) var state: State = .idle
    private var context: UnsafeMutablePointer<redisAsyncContext>?
    private var registration: IORegistration?
    private var interest: IOInterest = []
    private var connectTimer: TimerID?
    private var backoffMilliseconds: Int
    /// Why the last connection failed or ended, for the errors of the backoff window.
    private(set) var lastError = "not connected"
    /// Why we freed the context ourselves; read by the reply callbacks hiredis runs on free.
    private var freeReason: String?
    /// Called (on the reactor) when a connection comes up and when one is lost or fails.
    var onUp: (() -> Void)?
    var onDown: (() -> Void)?

    init(reactor: Reactor, configuration: RedisConfiguration, name: String, logger: Logger) {
        self.reactor = reactor
        self.configuration = configuration
        self.name = name
        self.logger = logger
        self.backoffMilliseconds = configuration.initialBackoffMilliseconds
    }

    var isConnected: Bool { state == .connected }

    /// When a connection may be attempted again (now for idle or elapsed backoff).
    var nextAttempt: ReactorInstant? {
        if case .backoff(let until) = state { return until }
        return nil
    }

    // MARK: - Commands

    /// Sends one command; `completion` runs on the reactor with the reply, an error reply as
    /// `PersistenceError.redis`, or an outage or timeout as `unavailable(database: "redis")`.
    func send(_ arguments: [RedisArgument], completion: @escaping (Result<RedisValue, PersistenceError>) -> Void) {
        if let error = ensureConnecting() {
            completion(.failure(error))
            return
        }
        let pending = Pending(completion)
        let box = Unmanaged.passRetained(pending).toOpaque()
        guard issue(arguments, callback: redisCommandReply, privdata: box) else {
            Unmanaged<Pending>.fromOpaque(box).release()
            completion(.failure(unavailable("the connection is closing")))
            return
        }
        let timeout = configuration.commandTimeoutMilliseconds
        pending.timer = reactor.schedule(afterMilliseconds: timeout) { [weak self, unowned pending] in
            guard let self, !pending.done else { return }
            pending.timer = nil
            pending.finish(.failure(self.unavailable("no reply within \(timeout) ms")), reactor: self.reactor)
            // The connection's replies are ordered: one that stalls blocks all behind it.
            self.drop(reason: "a command timed out after \(timeout) ms")
        }
    }

    /// Sends `SUBSCRIBE channel`; `subscription` then receives its confirmation and messages.
    func subscribe(channel: String, _ subscription: Subscription) -> PersistenceError? {
        if let error = ensureConnecting() { return error }
        let box = Unmanaged.passRetained(subscription).toOpaque()
        guard issue(["SUBSCRIBE", RedisArgument(channel)], callback: redisSubscriptionReply, privdata: box) else {
            Unmanaged<Subscription>.fromOpaque(box).release()
            return unavailable("the connection is closing")
        }
        return nil
    }

    private func issue(
        _ arguments: [RedisArgument], callback: @escaping @convention(c) (UnsafeMutablePointer<redisAsyncContext>?, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Void,
        privdata: UnsafeMutableRawPointer
    ) -> Bool {
        guard let context else { return false }
        // hiredis formats the command into its output buffer during the call: the argument
        // buffers only need to live until it returns.
        let buffers = arguments.map { argument -> UnsafeMutablePointer<CChar> in
            let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: max(1, argument.bytes.count))
            argument.bytes.withUnsafeBufferPointer { source in
                source.withMemoryRebound(to: CChar.self) { chars in
                    if let base = chars.baseAddress { buffer.initialize(from: base, count: chars.count) }
                }
            }
            return buffer
        }
        defer { for buffer in buffers { buffer.deallocate() } }
        var argv: [UnsafePointer<CChar>?] = buffers.map { UnsafePointer($0) }
        var lengths: [Int] = arguments.map(\.bytes.count)
        let status = argv.withUnsafeMutableBufferPointer { argvBuffer in
            lengths.withUnsafeMutableBufferPointer { lengthBuffer in
                redisAsyncCommandArgv(
                    context, callback, privdata, Int32(arguments.count), argvBuffer.baseAddress, lengthBuffer.baseAddress)
            }
        }
        return status == REDIS_OK
    }

    // MARK: - Connecting

    /// Starts a connection when there is none and the backoff allows; returns the error to
    /// report when commands cannot be sent now.
    private func ensureConnecting() -> PersistenceError? {
        switch state {
        case .connecting, .connected: return nil
        case .closed: return unavailable("the client is closed")
        case .backoff(let until):
            guard reactor.now >= until else { return unavailable(lastError) }
            connect()
        case .idle: connect()
        }
        return state == .connecting || state == .connected ? nil : unavailable(lastError)
    }

    private func connect() {
        guard let context = redisAsyncConnect(configuration.host, Int32(configuration.port)) else {
            failed("cannot allocate a hiredis context")
            return
        }
        if context.pointee.err != 0 {
            let reason = context.pointee.errstr.map { String(cString: $0) } ?? "connect failed"
            redisAsyncFree(context)
            failed(reason)
            return
        }
        do {
            registration = try reactor.register(fd: context.pointee.c.fd, interest: [], handler: self)
        } catch {
            redisAsyncFree(context)
            failed("cannot register the socket: \(error)")
            return
        }
        self.context = context
        interest = []
        state = .connecting
        let me = Unmanaged.passUnretained(self).toOpaque()
        context.pointee.data = me
        context.pointee.ev.data = me
        context.pointee.ev.addRead = { redisConnection($0)?.want(.read, true) }
        context.pointee.ev.delRead = { redisConnection($0)?.want(.read, false) }
        context.pointee.ev.addWrite = { redisConnection($0)?.want(.write, true) }
        context.pointee.ev.delWrite = { redisConnection($0)?.want(.write, false) }
        context.pointee.ev.cleanup = { redisConnection($0)?.contextFreed() }
        redisAsyncSetDisconnectCallback(context) { context, status in
            guard let context, let connection = redisConnection(context.pointee.data) else { return }
            connection.disconnected(status: status, errorText: context.pointee.errstr.map { String(cString: $0) })
        }
        // Setting the connect callback asks for write interest: the first writable event is the
        // end of the non-blocking connect.
        redisAsyncSetConnectCallback(context) { context, status in
            guard let context, let connection = redisConnection(context.pointee.data) else { return }
            connection.connected(status: status, errorText: context.pointee.errstr.map { String(cString: $0) })
        }
        let timeout = configuration.connectTimeoutMilliseconds
        connectTimer = reactor.schedule(afterMilliseconds: timeout) { [weak self] in
            guard let self, self.state == .connecting else { return }
            self.connectTimer = nil
            self.drop(reason: "connect timed out after \(timeout) ms")
        }
        if let password = configuration.password {
            var auth: [RedisArgument] = ["AUTH"]
            if let username = configuration.username { auth.append(RedisArgument(username)) }
            auth.append(RedisArgument(password))
            send(auth) { [weak self] result in
                guard case .failure(let error) = result, error.isRedisError, let self else { return }
                self.logger.error("Redis refused our credentials", metadata: ["redis": "\(self.configuration.endpoint)", "error": "\(error.message)"])
                self.drop(reason: "authentication failed: \(error.message)")
            }
        }
    }

    private func connected(status: Int32, errorText: String?) {
        if let connectTimer { reactor.cancel(connectTimer) }
        connectTimer = nil
        if status == REDIS_OK {
            state = .connected
            backoffMilliseconds = configuration.initialBackoffMilliseconds
            logger.debug("Redis connected", metadata: ["redis": "\(configuration.endpoint)", "connection": "\(name)"])
            onUp?()
        } else {
            // hiredis frees the context after this callback.
            failed(errorText ?? "connect failed")
        }
    }

    private func disconnected(status: Int32, errorText: String?) {
        let reason = freeReason ?? (status == REDIS_OK ? "connection closed" : (errorText ?? "connection lost"))
        failed(reason.isEmpty ? "connection lost" : reason)
    }

    /// Enters the backoff window after a failure and tells the owner.
    private func failed(_ reason: String) {
        guard state != .closed else { return }
        if let connectTimer { reactor.cancel(connectTimer) }
        connectTimer = nil
        lastError = reason
        state = .backoff(until: reactor.now.adding(milliseconds: backoffMilliseconds))
        backoffMilliseconds = min(configuration.maximumBackoffMilliseconds, backoffMilliseconds * 2)
        onDown?()
    }

    /// Frees the context ourselves (timeouts, close); pending commands fail with `reason`.
    private func drop(reason: String) {
        guard let context else { return }
        freeReason = reason
        let wasConnected = state == .connected
        if !wasConnected { failed(reason) }
        redisAsyncFree(context)  // runs the reply callbacks, then onDisconnect if it was connected
        freeReason = nil
    }

    /// Closes for good; pending commands fail.
    func close() {
        guard state != .closed else { return }
        if let connectTimer { reactor.cancel(connectTimer) }
        connectTimer = nil
        if let context {
            freeReason = "the client is closed"
            state = .closed
            redisAsyncFree(context)
            freeReason = nil
        }
        state = .closed
    }

    // MARK: - hiredis hooks

    fileprivate func want(_ event: IOInterest, _ on: Bool) {
        if on { interest.insert(event) } else { interest.remove(event) }
        if let registration { reactor.setInterest(registration, interest) }
    }

    fileprivate func contextFreed() {
        if let registration { reactor.deregister(registration) }
        registration = nil
        context = nil
        interest = []
    }

    /// The error text for a reply callback that got no reply (the context is going away).
    fileprivate func goneReason(_ context: UnsafeMutablePointer<redisAsyncContext>?) -> String {
        if let freeReason { return freeReason }
        if let context, context.pointee.err != 0, let text = context.pointee.errstr {
            let reason = String(cString: text)
            if !reason.isEmpty { return reason }
        }
        return state == .connecting || (state != .connected && lastError != "not connected") ? lastError : "connection lost"
    }

    func unavailable(_ reason: String) -> PersistenceError {
        .unavailable(database: "redis", reason: "Redis at \(configuration.endpoint) unavailable: \(reason)")
    }

    // MARK: - IOHandler

    func reactorReadable() {
        if let context { redisAsyncHandleRead(context) }
    }

    func reactorWritable() {
        if let context { redisAsyncHandleWrite(context) }
    }

    func reactorHangup() {
        guard let context else { return }
        // While connecting, the write path checks the socket error and reports the failed connect.
        if state == .connecting { redisAsyncHandleWrite(context) } else { redisAsyncHandleRead(context) }
    }

    func reactorShutdown() {
        close()
    }
}

private func redisConnection(_ pointer: UnsafeMutableRawPointer?) -> RedisConnection? {
    pointer.map { Unmanaged<RedisConnection>.fromOpaque($0).takeUnretainedValue() }
}

/// Converts a hiredis reply to a `RedisValue`; a top-level error reply comes back as `.error`.
private func redisValue(_ pointer: UnsafeMutableRawPointer) -> RedisValue {
    let reply = pointer.assumingMemoryBound(to: redisReply.self).pointee
    func text() -> String {
        guard let str = reply.str else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: str, count: reply.len), as: UTF8.self)
    }
    switch reply.type {
    case REDIS_REPLY_STRING:
        guard let str = reply.str else { return .bulk([]) }
        return .bulk(Array(UnsafeRawBufferPointer(start: str, count: reply.len)))
    case REDIS_REPLY_STATUS: return .simple(text())
    case REDIS_REPLY_ERROR: return .error(text())
    case REDIS_REPLY_INTEGER: return .integer(reply.integer)
    case REDIS_REPLY_ARRAY:
        var items: [RedisValue] = []
        items.reserveCapacity(reply.elements)
        for index in 0..<reply.elements {
            if let element = reply.element[index] { items.append(redisValue(UnsafeMutableRawPointer(element))) }
        }
        return .array(items)
    default: return .null
    }
}

private func redisCommandReply(
    _ context: UnsafeMutablePointer<redisAsyncContext>?, _ reply: UnsafeMutableRawPointer?, _ privdata: UnsafeMutableRawPointer?
) {
    guard let privdata else { return }
    let pending = Unmanaged<RedisConnection.Pending>.fromOpaque(privdata).takeRetainedValue()
    guard let connection = redisConnection(context?.pointee.data) else { return }
    guard let reply else {
        pending.finish(.failure(connection.unavailable(connection.goneReason(context))), reactor: connection.reactor)
        return
    }
    let value = redisValue(reply)
    if case .error(let message) = value {
        pending.finish(.failure(.redis(message)), reactor: connection.reactor)
    } else {
        pending.finish(.success(value), reactor: connection.reactor)
    }
}

private func redisSubscriptionReply(
    _ context: UnsafeMutablePointer<redisAsyncContext>?, _ reply: UnsafeMutableRawPointer?, _ privdata: UnsafeMutableRawPointer?
) {
    guard let privdata else { return }
    let unmanaged = Unmanaged<RedisConnection.Subscription>.fromOpaque(privdata)
    let subscription = unmanaged.takeUnretainedValue()
    guard let reply else {
        // The context is going away: this is the callback's last call.
        let reason = redisConnection(context?.pointee.data).map { $0.goneReason(context) } ?? "connection lost"
        subscription.onReply(nil, reason)
        unmanaged.release()
        return
    }
    let value = redisValue(reply)
    subscription.onReply(value, "")
    if let kind = value.array?.first?.string?.lowercased(), kind == "unsubscribe" {
        unmanaged.release()  // hiredis drops its callback after an unsubscribe reply
    }
}
