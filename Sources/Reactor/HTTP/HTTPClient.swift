/// An HTTP/1.1 client on the reactor with keep-alive connection reuse per origin, a cap on
/// connections per origin (requests beyond it wait in order), and connect/request deadlines.
///
/// Confined to the reactor thread; `SharedHTTPClient` is its thread-safe face.
package final class HTTPClient {
    package struct Configuration: Sendable {
        package var connectTimeoutMilliseconds = 10_000
        package var requestTimeoutMilliseconds = 30_000
        /// How long an unused keep-alive connection is kept.
        package var idleTimeoutMilliseconds = 30_000
        package var maxConnectionsPerOrigin = 8
        package var maxResponseBytes = 64 << 20
        /// Trust for `https` requests; nil uses the system's CA store.
        package var tls: TLSContext?
        package init() {}
    }

    private struct Origin: Hashable {
        let host: String
        let port: Int
        let isSecure: Bool
        /// Where to connect when pinned (`HTTPClientRequest.connectAddress`); else `host` is resolved.
        let address: String?
    }

    private struct Waiter {
        let request: HTTPClientRequest
        let deadline: ReactorInstant
        let completion: (Result<HTTPClientResponse, ReactorError>) -> Void
    }

    /// Requests waiting for a connection to an origin, in order, taken from the front by index.
    private struct WaiterQueue {
        private var items: [Waiter] = []
        private var head = 0

        var remaining: ArraySlice<Waiter> { items[head...] }

        mutating func append(_ waiter: Waiter) { items.append(waiter) }

        mutating func popFirst() -> Waiter? {
            guard head < items.count else { return nil }
            let waiter = items[head]
            head += 1
            if head == items.count {
                items.removeAll(keepingCapacity: true)
                head = 0
            } else if head > 64, head * 2 > items.count {
                items.removeFirst(head)
                head = 0
            }
            return waiter
        }
    }

    private unowned let reactor: Reactor
    package let configuration: Configuration
    private var idle: [Origin: [HTTPClientConnection]] = [:]
    private var busy: [Origin: Int] = [:]
    private var waiting: [Origin: WaiterQueue] = [:]
    private var closed = false
    /// Every open connection, idle or busy, so shutdown can close them all.
    private var live: [ObjectIdentifier: HTTPClientConnection] = [:]

    package init(reactor: Reactor, configuration: Configuration = Configuration()) {
        self.reactor = reactor
        self.configuration = configuration
        // When the loop ends, in-flight requests fail with `closed` and every socket is closed on
        // the reactor thread, never later from a deinit on some other thread.
        reactor.onShutdown { [weak self] in
            guard let self else { return }
            self.close()
            for connection in self.live.values { connection.close() }
        }
    }

    /// Sends `request`; `completion` runs on the reactor thread exactly once.
    package func execute(
        _ request: HTTPClientRequest, timeoutMilliseconds: Int? = nil,
        completion: @escaping (Result<HTTPClientResponse, ReactorError>) -> Void
    ) {
        guard !closed else { return completion(.failure(.closed)) }
        let deadline = reactor.now.adding(milliseconds: timeoutMilliseconds ?? configuration.requestTimeoutMilliseconds)
        let origin = Origin(host: request.host, port: request.port, isSecure: request.isSecure, address: request.connectAddress)
        let waiter = Waiter(request: request, deadline: deadline, completion: completion)
        if var pool = idle[origin], let connection = pool.popLast() {
            idle[origin] = pool
            busy[origin, default: 0] += 1
            send(waiter, on: connection, origin: origin, reused: true)
        } else if busy[origin, default: 0] < configuration.maxConnectionsPerOrigin {
            busy[origin, default: 0] += 1
            open(waiter, origin: origin)
        } else {
            waiting[origin, default: WaiterQueue()].append(waiter)
        }
    }

    /// Connections kept for reuse, for tests and metrics.
    package var idleConnectionCount: Int { idle.values.reduce(0) { $0 + $1.count } }

    /// Closes idle connections and refuses new requests; requests in flight finish.
    package func close() {
        closed = true
        for pool in idle.values { for connection in pool { connection.close() } }
        idle.removeAll()
        for queue in waiting.values { for waiter in queue.remaining { waiter.completion(.failure(.closed)) } }
        waiting.removeAll()
    }

    private func open(_ waiter: Waiter, origin: Origin) {
        let budget = min(configuration.connectTimeoutMilliseconds, reactor.now.milliseconds(until: waiter.deadline))
        connect(origin, timeoutMilliseconds: budget) { [weak self] result in
            guard let self else { return }
            switch result {
            case .success(let transport):
                let connection = HTTPClientConnection(reactor: self.reactor, transport: transport) { [weak self] closed in
                    self?.live.removeValue(forKey: ObjectIdentifier(closed))
                }
                self.live[ObjectIdentifier(connection)] = connection
                self.send(waiter, on: connection, origin: origin, reused: false)
            case .failure(let error):
                waiter.completion(.failure(error))
                self.release(origin)
            }
        }
    }

    private func connect(
        _ origin: Origin, timeoutMilliseconds: Int, completion: @escaping (Result<any ByteStream, ReactorError>) -> Void
    ) {
        guard origin.isSecure else {
            return TCPConnector.connect(
                reactor: reactor, host: origin.address ?? origin.host, port: origin.port, timeoutMilliseconds: timeoutMilliseconds
            ) {
                completion($0.map { $0 as any ByteStream })
            }
        }
        let context: TLSContext
        do {
            context = try configuration.tls ?? systemTrust()
        } catch {
            return completion(.failure(error as? ReactorError ?? .tls("trust store")))
        }
        TLSConnector.connect(
            reactor: reactor, host: origin.address ?? origin.host, port: origin.port, context: context, serverName: origin.host,
            timeoutMilliseconds: timeoutMilliseconds
        ) { completion($0.map { $0 as any ByteStream }) }
    }

    private var defaultTrust: TLSContext?

    /// The system CA store, loaded on first use.
    private func systemTrust() throws -> TLSContext {
        if let defaultTrust { return defaultTrust }
        let context = try TLSContext(clientTrusting: nil)
        defaultTrust = context
        return context
    }

    private func send(_ waiter: Waiter, on connection: HTTPClientConnection, origin: Origin, reused: Bool) {
        let timeout = max(1, reactor.now.milliseconds(until: waiter.deadline))
        connection.send(waiter.request, maxResponseBytes: configuration.maxResponseBytes, timeoutMilliseconds: timeout) {
            [weak self] outcome in
            guard let self else { return }
            switch outcome {
            case .response(let response, let reusable):
                waiter.completion(.success(response))
                if reusable, !self.closed { self.park(connection, origin: origin) } else { connection.close() }
                self.release(origin)
            case .failed(let error, let sentNothingUseful):
                connection.close()
                // A kept-alive connection the server had already closed: safe to retry once on a
                // fresh connection when the method is idempotent.
                if reused, sentNothingUseful, ["GET", "HEAD", "PUT", "DELETE", "OPTIONS"].contains(waiter.request.method) {
                    self.open(waiter, origin: origin)
                } else {
                    waiter.completion(.failure(error))
                    self.release(origin)
                }
            }
        }
    }

    private func park(_ connection: HTTPClientConnection, origin: Origin) {
        idle[origin, default: []].append(connection)
        connection.idle(timeoutMilliseconds: configuration.idleTimeoutMilliseconds) { [weak self, weak connection] in
            guard let self, let connection else { return }
            self.idle[origin]?.removeAll { $0 === connection }
        }
    }

    /// A request on `origin` finished: hand its slot to the next waiter.
    private func release(_ origin: Origin) {
        busy[origin, default: 1] -= 1
        guard let next = waiting[origin]?.popFirst() else { return }
        if next.deadline <= reactor.now { return next.completion(.failure(.timedOut("HTTP request"))) }
        execute(next.request, timeoutMilliseconds: reactor.now.milliseconds(until: next.deadline), completion: next.completion)
    }
}
