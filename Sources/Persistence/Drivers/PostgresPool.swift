import Reactor

/// The connections of one PostgreSQL database, on the reactor thread.
///
/// Connections open lazily, up to `poolSize`, when a caller finds none idle. Callers that find
/// every connection busy wait in FIFO order, each for at most `connectionTimeoutMilliseconds`
/// (then `unavailable`). A connection that breaks (the server went away, a statement overran
/// its timeout) is discarded and the next caller gets a new one, so an outage heals by itself.
/// Idle connections close after `idleTimeoutMilliseconds`. Not `Sendable`: reactor-confined.
final class PostgresPool {
    private struct Waiter {
        let timer: TimerID
        let completion: (Result<PostgresConnection, PersistenceError>) -> Void
    }

    unowned let reactor: Reactor
    private let configuration: PostgresConfiguration
    private let databaseName: String
    private var established: [ObjectIdentifier: PostgresConnection] = [:]
    private var idle: [PostgresConnection] = []
    private var idleTimers: [ObjectIdentifier: TimerID] = [:]
    private var connecting = 0
    /// Connections still connecting, so `close()` can abort them.
    private var pending: [ObjectIdentifier: PostgresConnection] = [:]
    private var waiters: [UInt64: Waiter] = [:]
    private var waiterOrder: [UInt64] = []
    private var nextWaiterID: UInt64 = 0
    private var nextConnectionID: UInt64 = 0
    private var isClosed = false

    init(reactor: Reactor, configuration: PostgresConfiguration, databaseName: String) {
        reactor.handle.preconditionInReactorThread()
        self.reactor = reactor
        self.configuration = configuration
        self.databaseName = databaseName
        // Connections are reactor registrations: they must go before the loop ends.
        reactor.onShutdown { [weak self] in self?.close() }
    }

    /// What the pool holds right now, for tests and diagnostics.
    var status: PostgresPoolStatus {
        PostgresPoolStatus(open: established.count, idle: idle.count, connecting: connecting, waiting: waiters.count)
    }

    // MARK: - Leasing

    /// Hands `completion` a connection for exclusive use until `release(_:)`, or an error when
    /// none could be had within the connection timeout.
    func acquire(_ completion: @escaping (Result<PostgresConnection, PersistenceError>) -> Void) {
        guard !isClosed else { return completion(.failure(unavailable("closed"))) }
        if let connection = idle.popLast() {
            cancelIdleTimer(connection)
            return completion(.success(connection))
        }
        nextWaiterID += 1
        let id = nextWaiterID
        let limit = configuration.connectionTimeoutMilliseconds
        let timer = reactor.schedule(afterMilliseconds: limit) { [weak self] in
            guard let self, let waiter = waiters.removeValue(forKey: id) else { return }
            waiter.completion(.failure(unavailable("no connection available within \(limit) ms")))
        }
        waiters[id] = Waiter(timer: timer, completion: completion)
        waiterOrder.append(id)
        openConnectionsForWaiters()
    }

    /// Takes back a leased connection. One left inside a transaction or with work queued is
    /// closed rather than handed to the next caller.
    func release(_ connection: PostgresConnection) {
        guard established[ObjectIdentifier(connection)] != nil else { return openConnectionsForWaiters() }
        guard connection.isQuiet, connection.isOutsideTransaction else {
            return connection.close(reason: "discarded: released inside a transaction")
        }
        handOff(connection)
    }

    /// Runs one command on a pooled connection and releases it before reporting the outcome.
    func perform(_ kind: PostgresCommand.Kind, _ completion: @escaping (Result<PostgresOutcome, PersistenceError>) -> Void) {
        acquire { [weak self] leased in
            switch leased {
            case .failure(let error): completion(.failure(error))
            case .success(let connection):
                connection.enqueue(PostgresCommand(kind: kind) { [weak self] result in
                    self?.release(connection)
                    completion(result)
                })
            }
        }
    }

    /// Closes every connection and fails every waiter; later calls fail as unavailable.
    /// Leased connections close when released.
    func close() {
        guard !isClosed else { return }
        isClosed = true
        for id in waiterOrder {
            guard let waiter = waiters.removeValue(forKey: id) else { continue }
            reactor.cancel(waiter.timer)
            waiter.completion(.failure(unavailable("closed")))
        }
        waiterOrder = []
        let idleNow = idle
        idle = []
        for connection in idleNow {
            cancelIdleTimer(connection)
            connection.close(reason: "closed")
        }
        for connection in pending.values { connection.close(reason: "closed") }
    }

    // MARK: - Opening and handing off

    private var waitingCount: Int { waiters.count }

    private func openConnectionsForWaiters() {
        while !isClosed, waitingCount > connecting, established.count + connecting < configuration.poolSize {
            connecting += 1
            openConnection()
        }
    }

    private func openConnection() {
        let host = configuration.host
        guard PostgresHostResolver.needsLookup(host) else {
            return connect(resolvedAddress: PostgresHostResolver.literalAddress(host))
        }
        // Name lookup blocks (getaddrinfo), so it runs on a worker lane; libpq then gets the
        // address as `hostaddr` and does no lookup of its own on the reactor thread.
        let handle = reactor.handle
        let bound = ReactorBound(handle: handle, self)
        reactor.workers.anyLane().submit({ try PostgresHostResolver.resolve(host) }) { result in
            handle.complete { _ in
                switch result {
                case .success(let address): bound.value.connect(resolvedAddress: address)
                case .failure(let error): bound.value.connectFailed(error as? PersistenceError ?? bound.value.unavailable("\(error)"))
                }
            }
        }
    }

    private func connect(resolvedAddress: String?) {
        guard !isClosed else {
            connecting -= 1
            return
        }
        nextConnectionID += 1
        let connection = PostgresConnection(
            reactor: reactor, id: nextConnectionID, databaseName: databaseName,
            statementTimeoutMilliseconds: configuration.statementTimeoutMilliseconds)
        connection.connect(
            configuration.connectionString(resolvedAddress: resolvedAddress),
            timeoutMilliseconds: configuration.connectionTimeoutMilliseconds
        ) { [weak self] result in
            // A pool dropped without `close()` leaves the connection to close itself.
            guard let self else { return connection.close(reason: "pool released") }
            pending[ObjectIdentifier(connection)] = nil
            switch result {
            case .failure(let error): connectFailed(error)
            case .success:
                connecting -= 1
                established[ObjectIdentifier(connection)] = connection
                connection.onClose = { [weak self] closed in self?.connectionClosed(closed) }
                handOff(connection)
            }
        }
        if connection.isConnecting { pending[ObjectIdentifier(connection)] = connection }
    }

    /// A failed connect fails the longest-waiting caller: while the server is down every caller
    /// learns it after one connection attempt instead of waiting out the timeout.
    private func connectFailed(_ error: PersistenceError) {
        connecting -= 1
        if let waiter = popWaiter() {
            reactor.cancel(waiter.timer)
            waiter.completion(.failure(error))
        }
        openConnectionsForWaiters()
    }

    private func handOff(_ connection: PostgresConnection) {
        guard !isClosed else { return connection.close(reason: "closed") }
        if let waiter = popWaiter() {
            reactor.cancel(waiter.timer)
            return waiter.completion(.success(connection))
        }
        idle.append(connection)
        let key = ObjectIdentifier(connection)
        idleTimers[key] = reactor.schedule(afterMilliseconds: configuration.idleTimeoutMilliseconds) { [weak self] in
            guard let self else { return }
            idleTimers[key] = nil
            guard let index = idle.firstIndex(where: { $0 === connection }) else { return }
            idle.remove(at: index)
            connection.close(reason: "idle")
        }
    }

    private func connectionClosed(_ connection: PostgresConnection) {
        established[ObjectIdentifier(connection)] = nil
        idle.removeAll { $0 === connection }
        cancelIdleTimer(connection)
        openConnectionsForWaiters()
    }

    private func cancelIdleTimer(_ connection: PostgresConnection) {
        if let timer = idleTimers.removeValue(forKey: ObjectIdentifier(connection)) { reactor.cancel(timer) }
    }

    private func popWaiter() -> Waiter? {
        while !waiterOrder.isEmpty {
            let id = waiterOrder.removeFirst()
            if let waiter = waiters.removeValue(forKey: id) { return waiter }
        }
        return nil
    }

    func unavailable(_ reason: String) -> PersistenceError {
        .unavailable(database: databaseName, reason: reason)
    }
}

/// A snapshot of a pool: connections open (idle or leased), idle, being opened, and callers
/// waiting for one.
package struct PostgresPoolStatus: Sendable, Equatable {
    package var open: Int
    package var idle: Int
    package var connecting: Int
    package var waiting: Int
}
