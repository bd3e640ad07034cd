/// A complete request as the server hands it to its responder.
package struct HTTPRequest: Sendable {
    package var head: HTTPRequestHead
    /// The collected body; empty when the body came as `form`.
    package var body: [UInt8]
    /// The body parsed as it arrived, when the responder asked for that (`HTTPBodyHandling`).
    package var form: HTTPStreamedForm?
    /// The TCP peer's address (IPv4-mapped IPv6 shown as IPv4).
    package var remoteAddress: String
    /// Which connection it came on, for logs.
    package var connectionID: UInt64

    package init(
        head: HTTPRequestHead, body: [UInt8], form: HTTPStreamedForm? = nil, remoteAddress: String, connectionID: UInt64
    ) {
        self.head = head
        self.body = body
        self.form = form
        self.remoteAddress = remoteAddress
        self.connectionID = connectionID
    }
}

/// A complete response: status, headers and body. `content-length` is added when serialized.
package struct HTTPResponse: Sendable {
    package var status: Int
    package var headers: HTTPHeaders
    package var body: [UInt8]
    /// A body streamed from disk instead of `body` (which is then ignored).
    package var bodyFile: HTTPResponseFile?

    package init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// The application side of the server. Called on the reactor thread, once per request, in the
/// order requests arrive on a connection; the next request of that connection is not parsed
/// until the sink has been given a response.
package protocol HTTPResponder: AnyObject {
    func respond(to request: HTTPRequest, sink: HTTPResponseSink)
    /// How the body of the request with `head` is taken; called on the reactor thread when the
    /// head is complete. Collected whole unless the responder says otherwise.
    func bodyHandling(for head: HTTPRequestHead) -> HTTPBodyHandling
}

extension HTTPResponder {
    package func bodyHandling(for head: HTTPRequestHead) -> HTTPBodyHandling { .collect }
}

/// Where a responder sends its one response; usable from any thread.
///
/// Off the reactor thread the response is posted to the reactor, so a handler running on a
/// worker or in a task may answer directly.
package final class HTTPResponseSink: @unchecked Sendable {
    // `connection` and `serial` are set once in init; the connection is only dereferenced on the
    // reactor thread (checked in `deliver`), and a weak reference is itself safe to load anywhere.
    private weak var connection: HTTPServerConnection?
    private let serial: UInt64
    private let handle: ReactorHandle

    init(handle: ReactorHandle, connection: HTTPServerConnection, serial: UInt64) {
        self.handle = handle
        self.connection = connection
        self.serial = serial
    }

    /// Sends the response; a second call for the same request is ignored by the connection.
    package func send(_ response: HTTPResponse) {
        if handle.inReactorThread {
            deliver(response)
        } else {
            handle.post { _ in self.deliver(response) }
        }
    }

    /// Answers `101 Switching Protocols` with `headers` and hands the connection to `handler`
    /// on the reactor thread, together with any bytes that already arrived for the new protocol.
    /// The HTTP server no longer reads from or times out the connection after this.
    package func switchProtocols(
        headers: HTTPHeaders, handler: @escaping @Sendable (_ stream: any ByteStream, _ leftover: [UInt8]) -> Void
    ) {
        let run: @Sendable () -> Void = {
            self.handle.preconditionInReactorThread()
            self.connection?.upgrade(headers: headers, serial: self.serial, handler: handler)
        }
        if handle.inReactorThread { run() } else { handle.post { _ in run() } }
    }

    private func deliver(_ response: HTTPResponse) {
        handle.preconditionInReactorThread()
        connection?.finish(response, serial: serial)
    }
}
