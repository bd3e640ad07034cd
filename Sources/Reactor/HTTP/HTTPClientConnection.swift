/// One client connection: writes a request, parses the response, and can be parked idle.
///
/// A request with `bodyFile` has its body pumped from disk as the socket drains; one with
/// `responseBodyPath` has its response body spooled to that file, the socket not being read
/// while the disk is behind. Either way memory stays bounded whatever the body's size.
final class HTTPClientConnection: ByteStreamDelegate {
    enum Outcome {
        case response(HTTPClientResponse, reusable: Bool)
        /// `sentNothingUseful`: no byte of a response arrived, so a retry cannot duplicate one.
        case failed(ReactorError, sentNothingUseful: Bool)
    }

    private unowned let reactor: Reactor
    private let transport: any ByteStream
    private var parser: HTTPResponseParser?
    private var receivedAny = false
    private var completion: ((Outcome) -> Void)?
    private var timer: TimerID?
    private var onIdleEnd: (() -> Void)?
    private var pump: HTTPFileBodyPump?
    private var spool: HTTPSpoolWriter?
    private let onClose: (HTTPClientConnection) -> Void

    init(reactor: Reactor, transport: any ByteStream, onClose: @escaping (HTTPClientConnection) -> Void) {
        self.reactor = reactor
        self.transport = transport
        self.onClose = onClose
        transport.delegate = self
    }

    func send(
        _ request: HTTPClientRequest, maxResponseBytes: Int, timeoutMilliseconds: Int, completion: @escaping (Outcome) -> Void
    ) {
        cancelTimer()
        onIdleEnd = nil
        guard transport.isOpen else { return completion(.failed(.closed, sentNothingUseful: true)) }
        parser = HTTPResponseParser(maxBodyBytes: maxResponseBytes, bodyless: request.method == "HEAD")
        receivedAny = false
        self.completion = completion
        timer = reactor.schedule(afterMilliseconds: timeoutMilliseconds) { [weak self] in
            self?.finish(.failed(.timedOut("HTTP request"), sentNothingUseful: false))
        }
        transport.write(request.serialized())
        if let bodyFile = request.bodyFile {
            pump = HTTPFileBodyPump(reactor: reactor, transport: transport, body: bodyFile) { [weak self] error in
                self?.finish(.failed(error, sentNothingUseful: false))
            }
            pump?.pump()
        }
        if let path = request.responseBodyPath {
            let spool = HTTPSpoolWriter(reactor: reactor, path: path)
            spool.onBehind = { [weak self] in self?.transport.setReading(false) }
            spool.onCaughtUp = { [weak self] in self?.transport.setReading(true) }
            spool.onFailure = { [weak self] error in self?.finish(.failed(error, sentNothingUseful: false)) }
            self.spool = spool
        }
    }

    /// Parks the connection; `onEnd` runs if it is closed or times out while idle.
    func idle(timeoutMilliseconds: Int, onEnd: @escaping () -> Void) {
        onIdleEnd = onEnd
        timer = reactor.schedule(afterMilliseconds: timeoutMilliseconds) { [weak self] in
            self?.timer = nil
            self?.close()
        }
    }

    func close() {
        transport.close()
    }

    // MARK: - Transport events

    func stream(_ stream: any ByteStream, didRead bytes: UnsafeRawBufferPointer) {
        guard parser != nil else {
            // Bytes on an idle connection are a protocol error; drop the connection.
            return close()
        }
        receivedAny = true
        if let outcome = parser!.append(bytes) { return deliver(outcome) }
        if let spool { spool.append(parser!.takeBody()) }
    }

    func streamDidReadEOF(_ stream: any ByteStream) {
        if parser != nil, receivedAny {
            deliver(parser!.finishAtEndOfStream())
        } else {
            finish(.failed(.closed, sentNothingUseful: !receivedAny))
        }
        close()
    }

    func streamDidDrain(_ stream: any ByteStream) {
        pump?.pump()
    }

    func streamDidClose(_ stream: any ByteStream, error: ReactorError?) {
        finish(.failed(error ?? .closed, sentNothingUseful: !receivedAny))
        cancelTimer()
        let end = onIdleEnd
        onIdleEnd = nil
        end?()
        onClose(self)
    }

    private func deliver(_ outcome: HTTPResponseParser.Outcome) {
        switch outcome {
        case .complete(let head, let body):
            // A response that came before the whole request body went out leaves the connection
            // mid-request: it cannot carry another one.
            let reusable = head.keepAlive && (pump?.isComplete ?? true)
            guard let spool else {
                let response = HTTPClientResponse(status: head.status, headers: head.headers, body: body)
                return finish(.response(response, reusable: reusable))
            }
            spool.append(body)
            let response = HTTPClientResponse(status: head.status, headers: head.headers, body: [], bodyLength: spool.length)
            finish(.response(response, reusable: reusable))
        case .failure(let reason):
            finish(.failed(.protocolViolation(reason), sentNothingUseful: false))
        }
    }

    private func finish(_ outcome: Outcome) {
        guard let completion else { return }
        self.completion = nil
        parser = nil
        cancelTimer()
        pump?.stop()
        pump = nil
        guard let spool else { return completion(outcome) }
        // The spool file is complete (or removed) before the caller hears of the outcome.
        self.spool = nil
        if transport.isOpen { transport.setReading(true) }
        switch outcome {
        case .response:
            spool.finish { error in completion(error.map { .failed($0, sentNothingUseful: false) } ?? outcome) }
        case .failed:
            spool.abandon { completion(outcome) }
        }
    }

    private func cancelTimer() {
        if let timer { reactor.cancel(timer) }
        timer = nil
    }
}
