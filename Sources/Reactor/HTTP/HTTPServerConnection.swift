/// One HTTP/1.1 connection: parses requests, hands them to the responder one at a time (so
/// pipelined responses go out in request order), writes responses, enforces the timeouts.
final class HTTPServerConnection: ByteStreamDelegate {
    private enum State {
        /// Between requests, nothing buffered.
        case idle
        /// Some bytes of a request seen, head not complete.
        case readingHead
        case readingBody
        case awaitingResponse
        case closed
    }

    private enum DeadlineKind { case keepAlive, headers, request, writeStall }

    private unowned let server: HTTPServer
    private let transport: any ByteStream
    private let id: UInt64
    private var parser: HTTPRequestParser
    private var state = State.idle
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var requestStart = ReactorInstant(nanoseconds: 0)
    private var requestSerial: UInt64 = 0
    private var closeAfterResponse = false
    private var peerFinishedSending = false
    private var deadline: (at: ReactorInstant, kind: DeadlineKind)?
    private var armedTimer: (at: ReactorInstant, id: TimerID)?
    /// Pipelined bytes held while a response is pending; above this we stop reading.
    private let maxBufferedWhileBusy = 64 * 1024

    init(server: HTTPServer, transport: any ByteStream, id: UInt64) {
        self.server = server
        self.transport = transport
        self.id = id
        self.parser = HTTPRequestParser(limits: server.configuration.limits)
        transport.delegate = self
    }

    var isAwaitingResponse: Bool { state == .awaitingResponse }

    func start() {
        // A new connection gets the headers timeout until its first byte arrives, so a client
        // that connects and says nothing is dropped like a slow one.
        requestStart = server.reactor.now
        setDeadline(.headers)
    }

    // MARK: - Transport events

    func stream(_ stream: any ByteStream, didRead bytes: UnsafeRawBufferPointer) {
        if state == .idle {
            state = .readingHead
            requestStart = server.reactor.now
            setDeadline(.headers)
        }
        parser.append(bytes)
        processInput()
    }

    func streamDidReadEOF(_ stream: any ByteStream) {
        peerFinishedSending = true
        switch state {
        case .idle: transport.closeAfterWriting()
        case .readingHead, .readingBody: transport.close()  // a truncated request gets no answer
        case .awaitingResponse, .closed: break
        }
    }

    func streamDidDrain(_ stream: any ByteStream) {
        switch state {
        case .idle: setDeadline(.keepAlive)
        case .readingHead: setDeadline(.headers)
        case .readingBody: setDeadline(.request)
        case .awaitingResponse, .closed: break
        }
        processInput()
    }

    func streamDidClose(_ stream: any ByteStream, error: ReactorError?) {
        state = .closed
        if let armedTimer { server.reactor.cancel(armedTimer.id) }
        armedTimer = nil
        server.connectionClosed(id)
    }

    // MARK: - Shutdown

    func beginClosing() {
        closeAfterResponse = true
        if state == .idle { transport.closeAfterWriting() }
    }

    func forceClose() {
        transport.close()
    }

    // MARK: - Parsing

    private func processInput() {
        while state != .awaitingResponse, state != .closed, transport.isWritable {
            guard let event = parser.next() else { break }
            switch event {
            case .head(let parsed):
                head = parsed
                body = []
                state = .readingBody
                setDeadline(.request)
                if parsed.expectsContinue, parsed.versionMinor == 1, parsed.isChunked || (parsed.contentLength ?? 0) > 0 {
                    transport.write(HTTPResponseSerializer.continueResponse)
                }
            case .body(let chunk):
                body.append(contentsOf: chunk)
            case .end:
                dispatchRequest()
            case .failure(let error):
                sendProtocolError(status: error.status, message: error.reason)
                return
            }
        }
        if state == .readingHead, !parser.isMidRequest, parser.bufferedByteCount == 0 {
            state = .idle  // only blank lines arrived
        }
        // Stop reading while we cannot consume: a pending response with input piling up, or
        // output the peer is not reading.
        let busy = state == .awaitingResponse && parser.bufferedByteCount > maxBufferedWhileBusy
        transport.setReading(!busy && transport.isWritable)
    }

    private func dispatchRequest() {
        guard let head else { return }
        state = .awaitingResponse
        clearDeadline()
        requestSerial += 1
        let serial = requestSerial
        let request = HTTPRequest(head: head, body: body, remoteAddress: transport.peerAddress, connectionID: id)
        body = []
        let sink = HTTPResponseSink(handle: server.reactor.handle, connection: self, serial: serial)
        server.responder.respond(to: request, sink: sink)
    }

    // MARK: - Responses

    func finish(_ response: HTTPResponse, serial: UInt64) {
        guard state == .awaitingResponse, serial == requestSerial, let head else { return }
        let keepAlive = head.keepAlive && !closeAfterResponse && !server.isClosing && !peerFinishedSending
        write(response, isHead: head.method == "HEAD", keepAlive: keepAlive, versionMinor: head.versionMinor)
        self.head = nil
        if !keepAlive {
            state = .closed
            transport.closeAfterWriting()
            return
        }
        state = parser.isMidRequest || parser.bufferedByteCount > 0 ? .readingHead : .idle
        requestStart = server.reactor.now
        setDeadline(state == .idle ? .keepAlive : .headers)
        if !transport.isWritable { setDeadline(.writeStall) }
        processInput()
    }

    /// Writes `101 Switching Protocols` and gives the stream away (see `HTTPResponseSink`).
    func upgrade(headers: HTTPHeaders, serial: UInt64, handler: (any ByteStream, [UInt8]) -> Void) {
        guard state == .awaitingResponse, serial == requestSerial else { return }
        var bytes: [UInt8] = []
        var head = HTTPResponseHead(status: 101, headers: headers)
        head.headers.replaceOrAdd("date", server.dateHeader)
        HTTPResponseSerializer.serialize(head, bodyLength: nil, into: &bytes)
        transport.write(bytes)
        state = .closed
        clearDeadline()
        if let armedTimer { server.reactor.cancel(armedTimer.id) }
        armedTimer = nil
        let leftover = parser.takeBufferedBytes()
        transport.delegate = nil
        transport.setReading(true)
        server.connectionUpgraded(id)
        handler(transport, leftover)
    }

    private func sendProtocolError(status: Int, message: String) {
        let response = server.configuration.errorResponse(status, message)
        write(response, isHead: false, keepAlive: false, versionMinor: 1)
        state = .closed
        clearDeadline()
        transport.closeAfterWriting()
    }

    private func write(_ response: HTTPResponse, isHead: Bool, keepAlive: Bool, versionMinor: Int) {
        var head = HTTPResponseHead(status: response.status, headers: response.headers)
        head.headers.replaceOrAdd("date", server.dateHeader)
        if !keepAlive {
            head.headers.replaceOrAdd("connection", "close")
        } else if versionMinor == 0 {
            head.headers.replaceOrAdd("connection", "keep-alive")
        }
        let bodyAllowed = response.status >= 200 && response.status != 204 && response.status != 304
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256 + response.body.count)
        HTTPResponseSerializer.serialize(head, bodyLength: bodyAllowed ? response.body.count : nil, into: &bytes)
        if bodyAllowed && !isHead { bytes.append(contentsOf: response.body) }
        transport.write(bytes)
    }

    // MARK: - Deadlines (one live timer per connection, moved lazily)

    private func setDeadline(_ kind: DeadlineKind) {
        let configuration = server.configuration
        let milliseconds: Int
        let base: ReactorInstant
        switch kind {
        case .keepAlive: (milliseconds, base) = (configuration.keepAliveTimeoutMilliseconds, server.reactor.now)
        case .headers: (milliseconds, base) = (configuration.headersTimeoutMilliseconds, requestStart)
        case .request: (milliseconds, base) = (configuration.requestTimeoutMilliseconds, requestStart)
        case .writeStall: (milliseconds, base) = (configuration.writeStallTimeoutMilliseconds, server.reactor.now)
        }
        let at = base.adding(milliseconds: milliseconds)
        deadline = (at, kind)
        // A timer that fires at or before the new deadline re-checks and re-arms itself, so it
        // is kept; only a later one is replaced.
        if let armedTimer, armedTimer.at <= at { return }
        if let armedTimer { server.reactor.cancel(armedTimer.id) }
        armTimer(at: at)
    }

    private func clearDeadline() {
        deadline = nil
    }

    private func armTimer(at: ReactorInstant) {
        let id = server.reactor.schedule(at: at) { [weak self] in self?.timerFired() }
        armedTimer = (at, id)
    }

    private func timerFired() {
        armedTimer = nil
        guard state != .closed, let deadline else { return }
        if server.reactor.now < deadline.at {
            armTimer(at: deadline.at)
            return
        }
        self.deadline = nil
        switch deadline.kind {
        case .keepAlive:
            transport.close()
        case .headers, .request:
            sendProtocolError(status: 408, message: "Request Timeout")
        case .writeStall:
            if transport.isWritable { return }
            transport.close()
        }
    }
}
