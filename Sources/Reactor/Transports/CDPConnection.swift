import Logging

/// An event from the browser: `method` and `params`, with the flattened session it came from
/// (nil for browser-level events).
package struct CDPEvent: Sendable {
    package let method: String
    package let params: JSONValue
    package let sessionID: String?
}

/// A Chrome DevTools Protocol client over the `--remote-debugging-pipe` descriptors.
///
/// Commands carry ids from one counter for the whole connection and, in flatten mode, a
/// top-level `sessionId` for a page. Each command has its own deadline: a crashed renderer never
/// answers, so nothing may wait without one. Replies resolve their command; messages without an
/// id are events. When the pipe ends every pending command fails at once.
///
/// Reactor-thread only.
package final class CDPConnection {
    package typealias Completion = (Result<JSONValue, ReactorError>) -> Void

    private struct Pending {
        let method: String
        let sessionID: String?
        let timer: TimerID
        let completion: Completion
    }

    private unowned let reactor: Reactor
    private let logger: Logger
    private var writer: PipeWriter?
    private var reader: PipeReader?
    private var splitter: CDPFrameSplitter
    private var nextID = 1
    private var pending: [Int: Pending] = [:]
    private var closed = false

    /// Browser events, in arrival order.
    package var onEvent: ((CDPEvent) -> Void)?
    /// The pipe ended (browser gone) or broke; called once, after pending commands failed.
    package var onClose: ((ReactorError?) -> Void)?

    /// Takes ownership of our ends of the two pipes: `commandFD` (the browser reads it as fd 3)
    /// and `responseFD` (the browser writes fd 4), both non-blocking.
    package init(
        reactor: Reactor, commandFD: CInt, responseFD: CInt, maxMessageBytes: Int = 256 << 20, logger: Logger
    ) throws {
        self.reactor = reactor
        self.logger = logger
        self.splitter = CDPFrameSplitter(maxMessageBytes: maxMessageBytes)
        do {
            writer = try PipeWriter(reactor: reactor, fd: commandFD) { [weak self] error in
                self?.shutDown(error ?? .closed)
            }
        } catch {
            PipeIO.close(responseFD)
            throw error
        }
        do {
            reader = try PipeReader(
                reactor: reactor, fd: responseFD,
                onBytes: { [weak self] bytes in self?.received(bytes) },
                onEnd: { [weak self] error in self?.shutDown(error ?? .closed) })
        } catch {
            writer?.close()
            throw error
        }
    }

    package var isOpen: Bool { !closed }
    /// Commands sent and not yet answered, failed or timed out.
    package var pendingCount: Int { pending.count }

    /// Sends `method` and calls `completion` with the `result` object, the browser's error
    /// (`ReactorError.remote`), a timeout, or `.closed`. Always called on the reactor thread,
    /// never synchronously from inside `send`.
    package func send(
        _ method: String, _ params: JSONValue = [:], session: String? = nil, timeoutMilliseconds: Int,
        completion: @escaping Completion
    ) {
        guard !closed, let writer else {
            reactor.schedule(afterMilliseconds: 0) { completion(.failure(.closed)) }
            return
        }
        let id = nextID
        nextID += 1
        var message: [(String, JSONValue)] = [("id", .number(Double(id))), ("method", .string(method)), ("params", params)]
        if let session { message.append(("sessionId", .string(session))) }
        let timer = reactor.schedule(afterMilliseconds: timeoutMilliseconds) { [weak self] in
            guard let self, let entry = self.pending.removeValue(forKey: id) else { return }
            entry.completion(.failure(.timedOut("CDP \(method)")))
        }
        pending[id] = Pending(method: method, sessionID: session, timer: timer, completion: completion)
        let bytes = JSONWriter.bytes(.object(message))
        logger.trace("cdp send", metadata: ["cdp.id": "\(id)", "cdp.method": "\(method)", "cdp.bytes": "\(bytes.count)"])
        writer.write(CDPFrameSplitter.frame(bytes))
    }

    /// Fails every command pending on `session` with `error` (the page's renderer crashed: the
    /// browser will not answer them until the page is reloaded).
    package func failPending(session: String?, _ error: ReactorError) {
        let ids = pending.filter { $0.value.sessionID == session }.map(\.key).sorted()
        for id in ids {
            guard let entry = pending.removeValue(forKey: id) else { continue }
            reactor.cancel(entry.timer)
            entry.completion(.failure(error))
        }
    }

    /// Closes both pipes (the browser sees end of file on fd 3 and exits) and fails what is
    /// pending. `onClose` is not called.
    package func close() {
        onClose = nil
        shutDown(.closed)
    }

    // MARK: - Input

    private func received(_ bytes: UnsafeRawBufferPointer) {
        let messages: [[UInt8]]
        do {
            messages = try splitter.append(bytes)
        } catch {
            logger.debug("cdp message too large", metadata: ["cdp.error": "\(error)"])
            return shutDown(.protocolViolation("DevTools message too large"))
        }
        for message in messages {
            guard !closed else { return }
            dispatch(message)
        }
    }

    private func dispatch(_ bytes: [UInt8]) {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            logger.debug("cdp message not JSON", metadata: ["cdp.bytes": "\(bytes.count)"])
            return
        }
        let sessionID = value["sessionId"]?.stringValue
        if let id = value["id"]?.intValue {
            guard let entry = pending.removeValue(forKey: id) else { return }  // timed out earlier
            reactor.cancel(entry.timer)
            if let error = value["error"] {
                let message = error["message"]?.stringValue ?? "unknown error"
                entry.completion(.failure(.remote(code: error["code"]?.intValue ?? 0, message: "\(entry.method): \(message)")))
            } else {
                entry.completion(.success(value["result"] ?? [:]))
            }
            return
        }
        if let method = value["method"]?.stringValue {
            onEvent?(CDPEvent(method: method, params: value["params"] ?? [:], sessionID: sessionID))
        } else if let error = value["error"] {
            // An error without an id answers a message the browser could not parse at all.
            logger.debug("cdp error without id", metadata: ["cdp.error": "\(JSONWriter.string(error))"])
        }
    }

    private func shutDown(_ error: ReactorError) {
        guard !closed else { return }
        closed = true
        writer?.close()
        writer = nil
        reader?.close()
        reader = nil
        let entries = pending.sorted { $0.key < $1.key }.map(\.value)
        pending = [:]
        for entry in entries {
            reactor.cancel(entry.timer)
            entry.completion(.failure(error))
        }
        let callback = onClose
        onClose = nil
        onEvent = nil
        callback?(error)
    }
}
