internal import CLibPQ
import Reactor

/// One statement or script for a connection, with whom to tell about its end. The completion
/// runs on the reactor thread, exactly once.
struct PostgresCommand {
    enum Kind {
        /// One statement with `$N` binds, sent with the extended protocol (prepared and cached).
        case statement(String, [SQLValue])
        /// Several `;`-separated statements without binds, sent with the simple protocol.
        case script(String)
    }

    let kind: Kind
    let completion: (Result<PostgresOutcome, PersistenceError>) -> Void

    var sql: String {
        switch kind {
        case .statement(let sql, _), .script(let sql): sql
        }
    }
}

/// One libpq connection in non-blocking mode, driven by the reactor's readiness events.
///
/// Connecting runs `PQconnectStart`/`PQconnectPoll`, re-registering when libpq swaps sockets
/// (it does when it falls back from one address or TLS mode to the next). Commands run one at a
/// time from a FIFO queue: send, `PQflush` with write interest while it returns 1, then
/// `PQconsumeInput`/`PQisBusy`/`PQgetResult` on each read event until the command's results end.
///
/// Not `Sendable`: reactor-confined like every reactor type. Owns its `PGconn*` and frees it in
/// `closeHandle()` only.
final class PostgresConnection: IOHandler {
    private enum Stage {
        case preparing(name: String)
        case executing(preparedName: String?)
    }

    private struct InFlight {
        var command: PostgresCommand
        var stage: Stage
        var outcome = PostgresOutcome()
        var error: PersistenceError?
    }

    /// Prepared statements kept per connection; SQL texts are constants in the code, so this only
    /// guards against text built at run time, which then runs unprepared.
    static let statementCacheLimit = 256

    let id: UInt64
    let databaseName: String
    /// Called once when an established connection closes for any reason; the pool drops it.
    var onClose: ((PostgresConnection) -> Void)?

    unowned let reactor: Reactor
    var handle: OpaquePointer?
    private var registration: IORegistration?
    private var socket: CInt = -1
    private var connectCompletion: ((Result<Void, PersistenceError>) -> Void)?
    private var timer: TimerID?
    private var current: InFlight?
    private var queue: [PostgresCommand] = []
    private var preparedNames: [String: String] = [:]
    private var statementCounter = 0
    private let clientTimeoutMilliseconds: Int

    init(reactor: Reactor, id: UInt64, databaseName: String, statementTimeoutMilliseconds: Int) {
        reactor.handle.preconditionInReactorThread()
        self.reactor = reactor
        self.id = id
        self.databaseName = databaseName
        self.clientTimeoutMilliseconds = statementTimeoutMilliseconds + PostgresConfiguration.clientTimeoutGraceMilliseconds
    }

    deinit {
        assert(handle == nil, "PostgresConnection dropped without close()")
    }

    /// True once connected and until closed.
    var isOpen: Bool { handle != nil && connectCompletion == nil }

    /// True while `connect` has not finished.
    var isConnecting: Bool { connectCompletion != nil }

    /// True when no command is running or queued.
    var isQuiet: Bool { current == nil && queue.isEmpty }

    /// True when the server reports no transaction open (or failed) on this session, so the
    /// connection can go back to the pool.
    var isOutsideTransaction: Bool {
        guard let handle else { return false }
        return PQtransactionStatus(handle) == PQTRANS_IDLE
    }

    // MARK: - Connecting

    /// Starts connecting; `completion` runs on the reactor thread once connected, failed or
    /// timed out after `timeoutMilliseconds`.
    func connect(
        _ connectionString: String, timeoutMilliseconds: Int,
        completion: @escaping (Result<Void, PersistenceError>) -> Void
    ) {
        handle = PQconnectStart(connectionString)
        guard let handle, PQstatus(handle) != CONNECTION_BAD else {
            let message = PostgresResult.connectionMessage(handle)
            closeHandle()
            completion(.failure(.unavailable(database: databaseName, reason: message)))
            return
        }
        connectCompletion = completion
        timer = reactor.schedule(afterMilliseconds: timeoutMilliseconds) { [unowned self] in
            timer = nil
            finishConnect(.failure(.unavailable(
                database: databaseName, reason: "could not connect within \(timeoutMilliseconds) ms")))
        }
        // libpq's protocol: start as if PQconnectPoll had asked to wait for writability.
        watchSocket(.write)
    }

    private func advanceConnect() {
        guard let handle else { return }
        switch PQconnectPoll(handle) {
        case PGRES_POLLING_READING: watchSocket(.read)
        case PGRES_POLLING_WRITING: watchSocket(.write)
        case PGRES_POLLING_OK:
            guard PQsetnonblocking(handle, 1) == 0 else {
                finishConnect(.failure(.unavailable(
                    database: databaseName, reason: PostgresResult.connectionMessage(handle))))
                return
            }
            watchSocket(.read)
            finishConnect(.success(()))
        default:
            finishConnect(.failure(.unavailable(
                database: databaseName, reason: PostgresResult.connectionMessage(handle))))
        }
    }

    private func finishConnect(_ result: Result<Void, PersistenceError>) {
        guard let completion = connectCompletion else { return }
        connectCompletion = nil
        cancelTimer()
        if case .failure = result { closeHandle() }
        completion(result)
    }

    /// Registers libpq's current socket with `interest`, following it when libpq replaced it.
    /// Called right after each libpq call that may swap it, before any other code can reuse the
    /// old descriptor number.
    func watchSocket(_ interest: IOInterest) {
        guard let handle else { return }
        let fd = PQsocket(handle)
        if fd == socket, let registration {
            reactor.setInterest(registration, interest)
            return
        }
        if let registration { reactor.deregister(registration) }
        registration = nil
        socket = fd
        guard fd >= 0 else { return }
        do {
            registration = try reactor.register(fd: fd, interest: interest, handler: self)
        } catch {
            fail(.unavailable(database: databaseName, reason: "cannot watch the connection: \(error)"))
        }
    }

    // MARK: - Reactor callbacks

    func reactorReadable() {
        guard let handle else { return }
        if connectCompletion != nil { return advanceConnect() }
        guard PQconsumeInput(handle) != 0 else {
            return fail(.unavailable(database: databaseName, reason: PostgresResult.connectionMessage(handle)))
        }
        while let notice = PQnotifies(handle) { PQfreemem(notice) }
        processResults()
        if let handle = self.handle, PQstatus(handle) == CONNECTION_BAD {
            fail(.unavailable(database: databaseName, reason: PostgresResult.connectionMessage(handle)))
        }
    }

    func reactorWritable() {
        if connectCompletion != nil { return advanceConnect() }
        flush()
    }

    func reactorShutdown() {
        close(reason: "the reactor stopped")
    }

    func reactorHangup() {
        if connectCompletion != nil { return advanceConnect() }
        reactorReadable()
        // Level-triggered: a hang-up that reading did not turn into an error would fire again
        // every tick, so the connection goes now.
        if handle != nil { fail(.unavailable(database: databaseName, reason: "the server hung up")) }
    }

    // MARK: - Closing

    /// Closes the connection, failing what is queued with `reason`.
    func close(reason: String = "connection closed") {
        fail(.unavailable(database: databaseName, reason: reason))
    }

    /// Ends the connection and fails every command in flight or queued with `error`.
    func fail(_ error: PersistenceError) {
        if connectCompletion != nil { return finishConnect(.failure(error)) }
        guard handle != nil else { return }
        let failing = (current.map { [$0.command] } ?? []) + queue
        current = nil
        queue = []
        closeHandle()
        for command in failing { command.completion(.failure(error)) }
        onClose?(self)
        onClose = nil
    }

    /// The one place the `PGconn*` is freed: deregisters first, since `PQfinish` closes the
    /// descriptor and the number may be reused at once.
    private func closeHandle() {
        cancelTimer()
        if let registration { reactor.deregister(registration) }
        registration = nil
        socket = -1
        if let handle { PQfinish(handle) }
        handle = nil
    }

    func cancelTimer() {
        if let timer { reactor.cancel(timer) }
        timer = nil
    }

    // MARK: - Commands (see PostgresConnection+Commands.swift)

    /// Queues `command`; it runs once those before it have finished.
    func enqueue(_ command: PostgresCommand) {
        guard handle != nil, connectCompletion == nil else {
            command.completion(.failure(.unavailable(database: databaseName, reason: "connection closed")))
            return
        }
        queue.append(command)
        if current == nil { startNext() }
    }

    func startNext() {
        while current == nil, handle != nil, !queue.isEmpty {
            let command = queue.removeFirst()
            current = InFlight(command: command, stage: .executing(preparedName: nil))
            armStatementTimer()
            if let error = send(command) {
                if handle == nil { return }  // the send broke the connection; fail() ran
                finishCurrent(error: error)
            }
        }
    }

    private func armStatementTimer() {
        cancelTimer()
        let limit = clientTimeoutMilliseconds
        timer = reactor.schedule(afterMilliseconds: limit) { [unowned self] in
            timer = nil
            sendCancel()
            fail(.unavailable(database: databaseName, reason: "statement did not finish within \(limit) ms"))
        }
    }

    /// Sets the stage of the command in flight (prepare, then execute).
    func setStage(_ preparedName: String?, preparing: Bool) {
        current?.stage = preparing ? .preparing(name: preparedName ?? "") : .executing(preparedName: preparedName)
    }

    /// Reads every complete result of the command in flight, advancing it stage by stage.
    private func processResults() {
        while let handle, current != nil, PQisBusy(handle) == 0 {
            guard let result = PQgetResult(handle) else {
                finishStage()
                continue
            }
            if var inFlight = current {
                let error = PostgresResult.absorb(
                    result, into: &inFlight.outcome, sql: inFlight.command.sql, database: databaseName)
                if inFlight.error == nil { inFlight.error = error }
                current = inFlight
            }
            PQclear(result)
        }
    }

    /// The command's results ended (`PQgetResult` returned nil): execute after a prepare, or
    /// complete the command.
    private func finishStage() {
        guard let inFlight = current else { return }
        if case .preparing(let name) = inFlight.stage, inFlight.error == nil {
            preparedNames[inFlight.command.sql] = name
            if let error = sendPrepared(name, inFlight.command) {
                if handle != nil { finishCurrent(error: error) }
            }
            return
        }
        if case .executing(preparedName: _?) = inFlight.stage, inFlight.error?.sqlState == "0A000" {
            // "cached plan must not change result type": a migration altered the table; the
            // next use prepares afresh under a new name.
            preparedNames[inFlight.command.sql] = nil
        }
        finishCurrent(error: inFlight.error)
    }

    private func finishCurrent(error: PersistenceError?) {
        guard let inFlight = current else { return }
        current = nil
        cancelTimer()
        inFlight.command.completion(error.map { .failure($0) } ?? .success(inFlight.outcome))
        startNext()
    }

    /// The name a statement was prepared under on this connection, if it was.
    func preparedName(for sql: String) -> String? { preparedNames[sql] }

    /// A fresh name, or nil once the cache is full (the statement then runs unprepared). Names
    /// are never reused: a statement dropped from the cache still exists on the server.
    func newStatementName() -> String? {
        guard preparedNames.count < Self.statementCacheLimit else { return nil }
        statementCounter += 1
        return "owa_\(statementCounter)"
    }
}
