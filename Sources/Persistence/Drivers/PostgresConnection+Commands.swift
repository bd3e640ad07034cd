internal import CLibPQ
import Dispatch
import Glibc
import Reactor

extension PostgresConnection {
    /// Sends `command` (or its prepare step); returns the error when it could not be sent.
    ///
    /// A statement seen before on this connection runs as its prepared statement; a new one is
    /// prepared first (one extra round trip, once per connection) unless the cache is full.
    func send(_ command: PostgresCommand) -> PersistenceError? {
        guard let handle else { return .unavailable(database: databaseName, reason: "connection closed") }
        let sent: Int32
        switch command.kind {
        case .script(let sql):
            setStage(nil, preparing: false)
            sent = PQsendQuery(handle, sql)
        case .statement(let sql, let binds):
            if let name = preparedName(for: sql) {
                return sendPrepared(name, command)
            }
            if let name = newStatementName() {
                setStage(name, preparing: true)
                // No parameter types: the server infers them from the statement, as it does for
                // our text-format values sent with type OID 0.
                sent = PQsendPrepare(handle, name, sql, 0, nil)
            } else {
                setStage(nil, preparing: false)
                sent = withParameters(binds) { values, count in
                    PQsendQueryParams(handle, sql, count, nil, values, nil, nil, 0)
                }
            }
        }
        return afterSend(sent, sql: command.sql)
    }

    /// Executes the statement prepared under `name` with the command's binds.
    func sendPrepared(_ name: String, _ command: PostgresCommand) -> PersistenceError? {
        guard let handle else { return .unavailable(database: databaseName, reason: "connection closed") }
        guard case .statement(let sql, let binds) = command.kind else { return nil }
        setStage(name, preparing: false)
        let sent = withParameters(binds) { values, count in
            PQsendQueryPrepared(handle, name, count, values, nil, nil, 0)
        }
        return afterSend(sent, sql: sql)
    }

    private func afterSend(_ sent: Int32, sql: String) -> PersistenceError? {
        guard let handle else { return .unavailable(database: databaseName, reason: "connection closed") }
        guard sent == 1 else {
            let message = PostgresResult.connectionMessage(handle)
            if PQstatus(handle) == CONNECTION_BAD {
                fail(.unavailable(database: databaseName, reason: message))
                return .unavailable(database: databaseName, reason: message)
            }
            return .postgres(sqlState: nil, message: message, sql: sql)
        }
        flush()
        return nil
    }

    /// Pushes queued output to the socket: write interest stays on only while libpq still holds
    /// output (PQflush returned 1), read interest always, for results and server-side closes.
    func flush() {
        guard let handle else { return }
        switch PQflush(handle) {
        case 0: watchSocket(.read)
        case 1: watchSocket([.read, .write])
        default: fail(.unavailable(database: databaseName, reason: PostgresResult.connectionMessage(handle)))
        }
    }

    /// Asks the server to cancel the running statement, through libpq's cancel request on a
    /// worker lane: `PQcancel` opens its own short-lived connection and blocks while doing so,
    /// which must not happen on the reactor thread. libpq documents `PQcancel` as thread-safe.
    /// (libpq 17's non-blocking `PQcancelStart` is not available in the libpq 15 we build with.)
    func sendCancel() {
        guard let handle, let cancel = PQgetCancel(handle) else { return }
        let request = CancelRequest(cancel)
        reactor.workers.anyLane().queue.async { request.send() }
    }

    /// Binds as text-format parameters (type OID 0, so the server infers each type): libpq copies
    /// them into its output buffer during the call, so they only live for its duration.
    private func withParameters(
        _ binds: [SQLValue], _ body: (UnsafePointer<UnsafePointer<CChar>?>?, Int32) -> Int32
    ) -> Int32 {
        if binds.isEmpty { return body(nil, 0) }
        let copies: [UnsafeMutablePointer<CChar>?] = binds.map { value in
            PostgresResult.text(of: value).map { strdup($0) } ?? nil
        }
        defer { for copy in copies { free(copy) } }
        let pointers = copies.map { $0.map { UnsafePointer($0) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress, Int32(binds.count)) }
    }
}

/// A `PGcancel*` carried to a worker lane and freed there.
///
/// `@unchecked Sendable`: the pointer is created on the reactor thread and then used and freed
/// only by the one worker closure it is handed to; libpq's cancel object is independent of the
/// connection it came from.
private final class CancelRequest: @unchecked Sendable {
    private let cancel: OpaquePointer

    init(_ cancel: OpaquePointer) {
        self.cancel = cancel
    }

    func send() {
        var buffer = [CChar](repeating: 0, count: 256)
        _ = PQcancel(cancel, &buffer, Int32(buffer.count))
        PQfreeCancel(cancel)
    }
}
