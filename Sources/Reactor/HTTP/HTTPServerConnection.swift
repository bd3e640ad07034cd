import Logging

/// One HTTP/1.1 connection: parses requests, hands them to the responder one at a time (so
/// pipelined responses go out in request order), writes responses, enforces the timeouts.
final class HTTPServerConnection: ByteStreamDelegate {
    private enum State {
        /// Between requests, nothing buffered.
        case idle
        /// Some bytes of a request seen, head not complete.
        case readingHead
        case readingBody
        /// The body is in; its form's spool files are being completed.
        case finishingForm
        case awaitingResponse
        /// The response's head is out; its file body is being read and written.
        case sendingFile
        case closed
    }

    private unowned let server: HTTPServer
    private let transport: any ByteStream
    private let id: UInt64
    private var parser: HTTPRequestParser
    private var state = State.idle
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    /// Takes the body instead of `body` when the responder streams forms.
    private var form: HTTPFormReceiver?
    private var filePump: HTTPFileBodyPump?
    private var requestStart = ReactorInstant(nanoseconds: 0)
    private var requestSerial: UInt64 = 0
    private var closeAfterResponse = false
    private var peerFinishedSending = false
    private lazy var deadline = HTTPConnectionDeadline(reactor: server.reactor) { [unowned self] kind in self.deadlinePassed(kind) }
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
        case .finishingForm, .awaitingResponse, .sendingFile, .closed: break
        }
    }

    func streamDidDrain(_ stream: any ByteStream) {
        switch state {
        case .idle: setDeadline(.keepAlive)
        case .readingHead: setDeadline(.headers)
        case .readingBody: setDeadline(.request)
        case .sendingFile:
            setDeadline(.writeStall)
            filePump?.pump()
        case .finishingForm, .awaitingResponse, .closed: break
        }
        processInput()
    }

    func streamDidClose(_ stream: any ByteStream, error: ReactorError?) {
        state = .closed
        deadline.cancel()
        dropBodyTransfers()
        server.connectionClosed(id)
    }

    /// A form being received loses its spool files; a file being sent is closed.
    private func dropBodyTransfers() {
        form?.abandon()
        form = nil
        filePump?.stop()
        filePump = nil
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

    /// Parsing waits for a response (and its file) to go out, and for a form's spool files.
    private var isParsing: Bool {
        switch state {
        case .idle, .readingHead, .readingBody: return true
        case .finishingForm, .awaitingResponse, .sendingFile, .closed: return false
        }
    }

    private func processInput() {
        while isParsing, transport.isWritable, form?.isBehind != true {
            guard let event = parser.next() else { break }
            switch event {
            case .head(let parsed):
                head = parsed
                body = []
                state = .readingBody
                setDeadline(.request)
                form = makeFormReceiver(for: parsed)
                if parsed.expectsContinue, parsed.versionMinor == 1, parsed.isChunked || (parsed.contentLength ?? 0) > 0 {
                    transport.write(HTTPResponseSerializer.continueResponse)
                }
            case .body(let chunk):
                if let form { form.append(chunk) } else { body.append(contentsOf: chunk) }
            case .end:
                guard let form else {
                    dispatchRequest(form: nil)
                    break
                }
                state = .finishingForm
                form.finish { [weak self] received in
                    guard let self, self.state == .finishingForm else { return }
                    self.form = nil
                    self.dispatchRequest(form: received)
                    self.processInput()
                }
            case .failure(let error):
                sendProtocolError(status: error.status, message: error.reason)
                return
            }
        }
        if state == .readingHead, !parser.isMidRequest, parser.bufferedByteCount == 0 {
            state = .idle  // only blank lines arrived
        }
        // Stop reading while we cannot consume: a pending response with input piling up, a
        // form's spool file behind the body, or output the peer is not reading.
        let busy = !isParsing && parser.bufferedByteCount > maxBufferedWhileBusy
        transport.setReading(!busy && form?.isBehind != true && transport.isWritable)
    }

    /// A receiver when the responder streams this request's form; nil collects the body.
    private func makeFormReceiver(for head: HTTPRequestHead) -> HTTPFormReceiver? {
        // The content type first: it rules out most requests without asking the responder.
        guard let type = head.headers["content-type"] else { return nil }
        let formType = MultipartParser.formType(contentType: type)
        guard formType != .other, server.responder.bodyHandling(for: head) == .multipartForm else { return nil }
        let receiver = HTTPFormReceiver(reactor: server.reactor, formType: formType, directory: server.configuration.uploadDirectory)
        receiver.onBehind = { [weak self] in self?.transport.setReading(false) }
        receiver.onCaughtUp = { [weak self] in self?.processInput() }
        return receiver
    }

    private func dispatchRequest(form: HTTPStreamedForm?) {
        guard let head else { return }
        state = .awaitingResponse
        deadline.clear()
        requestSerial += 1
        let serial = requestSerial
        let request = HTTPRequest(head: head, body: body, form: form, remoteAddress: transport.peerAddress, connectionID: id)
        body = []
        let sink = HTTPResponseSink(handle: server.reactor.handle, connection: self, serial: serial)
        server.responder.respond(to: request, sink: sink)
    }

    // MARK: - Responses

    func finish(_ response: HTTPResponse, serial: UInt64) {
        guard state == .awaitingResponse, serial == requestSerial, let head else { return }
        let keepAlive = head.keepAlive && !closeAfterResponse && !server.isClosing && !peerFinishedSending
        let file = write(response, isHead: head.method == "HEAD", keepAlive: keepAlive, versionMinor: head.versionMinor)
        self.head = nil
        if let file, file.length > 0 {
            state = .sendingFile
            setDeadline(.writeStall)
            let pump = HTTPFileBodyPump(
                reactor: server.reactor, transport: transport, body: HTTPBodyFile(path: file.name, length: file.length),
                file: file.file
            ) { [weak self] error in
                // The head promised `length` bytes: a body cut short can only end the connection.
                self?.server.reactor.logger.warning("response file failed", metadata: ["error": "\(error)"])
                self?.transport.close()
            }
            pump.onComplete = { [weak self] in self?.responseSent(keepAlive: keepAlive) }
            filePump = pump
            pump.pump()
            return
        }
        responseSent(keepAlive: keepAlive)
    }

    /// The whole response is queued: close, or wait for the next request.
    private func responseSent(keepAlive: Bool) {
        filePump = nil
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
        deadline.cancel()
        let leftover = parser.takeBufferedBytes()
        transport.delegate = nil
        transport.setReading(true)
        server.connectionUpgraded(id)
        handler(transport, leftover)
    }

    private func sendProtocolError(status: Int, message: String) {
        dropBodyTransfers()
        let response = server.configuration.errorResponse(status, message)
        _ = write(response, isHead: false, keepAlive: false, versionMinor: 1)
        state = .closed
        deadline.clear()
        transport.closeAfterWriting()
    }

    /// Queues the head and an in-memory body; returns the file body still to be sent.
    private func write(_ response: HTTPResponse, isHead: Bool, keepAlive: Bool, versionMinor: Int) -> HTTPResponseFile? {
        var head = HTTPResponseHead(status: response.status, headers: response.headers)
        head.headers.replaceOrAdd("date", server.dateHeader)
        if !keepAlive {
            head.headers.replaceOrAdd("connection", "close")
        } else if versionMinor == 0 {
            head.headers.replaceOrAdd("connection", "keep-alive")
        }
        let bodyAllowed = response.status >= 200 && response.status != 204 && response.status != 304
        let file = bodyAllowed ? response.bodyFile : nil
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256 + (file == nil ? response.body.count : 0))
        HTTPResponseSerializer.serialize(head, bodyLength: bodyAllowed ? file?.length ?? response.body.count : nil, into: &bytes)
        if bodyAllowed && !isHead && file == nil { bytes.append(contentsOf: response.body) }
        transport.write(bytes)
        return isHead ? nil : file
    }

    // MARK: - Deadlines

    private func setDeadline(_ kind: HTTPConnectionDeadline.Kind) {
        let configuration = server.configuration
        switch kind {
        case .keepAlive: deadline.set(kind, milliseconds: configuration.keepAliveTimeoutMilliseconds, after: server.reactor.now)
        case .headers: deadline.set(kind, milliseconds: configuration.headersTimeoutMilliseconds, after: requestStart)
        case .request: deadline.set(kind, milliseconds: configuration.requestTimeoutMilliseconds, after: requestStart)
        case .writeStall: deadline.set(kind, milliseconds: configuration.writeStallTimeoutMilliseconds, after: server.reactor.now)
        }
    }

    private func deadlinePassed(_ kind: HTTPConnectionDeadline.Kind) {
        guard state != .closed else { return }
        switch kind {
        case .keepAlive:
            transport.close()
        case .headers, .request:
            sendProtocolError(status: 408, message: "Request Timeout")
        case .writeStall:
            if transport.isWritable {
                // A file body keeps its watch: its socket may fill again later.
                if state == .sendingFile { setDeadline(.writeStall) }
                return
            }
            transport.close()
        }
    }
}
