/// Opens outbound TCP connections on the reactor: resolution (on a worker when it may block),
/// a non-blocking connect, and a deadline. The result is a `TCPConnection` like an accepted one.
package enum TCPConnector {
    /// Connects to `host:port` and calls `completion` on the reactor thread exactly once.
    package static func connect(
        reactor: Reactor, host: String, port: Int, timeoutMilliseconds: Int,
        completion: @escaping (Result<TCPConnection, ReactorError>) -> Void
    ) {
        let attempt = ConnectAttempt(reactor: reactor, completion: completion)
        attempt.timer = reactor.schedule(afterMilliseconds: timeoutMilliseconds) { [weak attempt] in
            attempt?.fail(.timedOut("connect to \(host):\(port)"))
        }
        if let numeric = try? Socket.resolve(host: host, port: port, numericOnly: true) {
            attempt.start(numeric)
            return
        }
        // A name may need DNS, which blocks: resolve on a worker and continue here.
        let bound = AttemptToken(attempt)
        let handle = reactor.handle
        reactor.workers.anyLane().submit({ try Socket.resolve(host: host, port: port) }) { result in
            handle.complete { _ in
                guard let attempt = bound.attempt else { return }
                switch result {
                case .success(let addresses): attempt.start(addresses)
                case .failure(let error): attempt.fail(error as? ReactorError ?? .addressResolution(host))
                }
            }
        }
    }
}

/// Carries an attempt through the worker hop; only dereferenced back on the reactor thread.
private final class AttemptToken: @unchecked Sendable {
    // Written once here; read in a completion that runs on the reactor thread.
    weak var attempt: ConnectAttempt?
    init(_ attempt: ConnectAttempt) { self.attempt = attempt }
}

/// One connect in flight: tries each resolved address in turn until one connects.
private final class ConnectAttempt: IOHandler {
    private unowned let reactor: Reactor
    private var completion: ((Result<TCPConnection, ReactorError>) -> Void)?
    private var pending: [ResolvedAddress] = []
    private var current: (fd: CInt, registration: IORegistration, address: ResolvedAddress)?
    private var lastError: ReactorError = .closed
    private var keepAlive: ConnectAttempt?
    var timer: TimerID?

    init(reactor: Reactor, completion: @escaping (Result<TCPConnection, ReactorError>) -> Void) {
        self.reactor = reactor
        self.completion = completion
        keepAlive = self  // the attempt owns itself until it finishes
    }

    func start(_ addresses: [ResolvedAddress]) {
        pending = addresses
        tryNext()
    }

    func fail(_ error: ReactorError) {
        closeCurrent()
        finish(.failure(error))
    }

    private func tryNext() {
        guard completion != nil else { return }
        guard !pending.isEmpty else { return finish(.failure(lastError)) }
        let address = pending.removeFirst()
        do {
            let started = try Socket.connect(address)
            if !started.inProgress { return connected(fd: started.fd, address: address) }
            let registration = try reactor.register(fd: started.fd, interest: .write, handler: self)
            current = (started.fd, registration, address)
        } catch {
            lastError = error as? ReactorError ?? .closed
            tryNext()
        }
    }

    func reactorWritable() {
        guard let current else { return }
        let error = Socket.pendingError(current.fd)
        reactor.deregister(current.registration)
        self.current = nil
        if error == 0 {
            connected(fd: current.fd, address: current.address)
        } else {
            Socket.close(current.fd)
            lastError = .syscall("connect", errno: error)
            tryNext()
        }
    }

    func reactorReadable() {}
    func reactorHangup() { reactorWritable() }
    func reactorShutdown() { fail(.stopped) }

    private func connected(fd: CInt, address: ResolvedAddress) {
        let socket = AcceptedSocket(fd: fd, peerAddress: Socket.text(of: address))
        do {
            finish(.success(try TCPConnection(reactor: reactor, socket: socket, id: 0)))
        } catch {
            finish(.failure(error as? ReactorError ?? .closed))
        }
    }

    private func closeCurrent() {
        guard let current else { return }
        reactor.deregister(current.registration)
        Socket.close(current.fd)
        self.current = nil
    }

    private func finish(_ result: Result<TCPConnection, ReactorError>) {
        guard let completion else { return }
        self.completion = nil
        if let timer { reactor.cancel(timer) }
        keepAlive = nil
        completion(result)
    }
}
