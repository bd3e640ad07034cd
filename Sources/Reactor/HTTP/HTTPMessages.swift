/// A complete request as the server hands it to its responder.
package struct HTTPRequest: Sendable {
    package var head: HTTPRequestHead
    package var body: [UInt8]
    /// The TCP peer's address (IPv4-mapped IPv6 shown as IPv4).
    package var remoteAddress: String
    /// Which connection it came on, for logs.
    package var connectionID: UInt64

    package init(head: HTTPRequestHead, body: [UInt8], remoteAddress: String, connectionID: UInt64) {
        self.head = head
        self.body = body
        self.remoteAddress = remoteAddress
        self.connectionID = connectionID
    }
}

/// A complete response: status, headers and body. `content-length` is added when serialized.
package struct HTTPResponse: Sendable {
    package var status: Int
    package var headers: HTTPHeaders
    package var body: [UInt8]

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
}

/// Where a responder sends its one response; usable from any thread.
///
/// Off the reactor thread the response is posted to the reactor, so a handler running on a
/// worker or in a task may answer directly.
package final class HTTPResponseSink: Sendable {
    private let handle: ReactorHandle
    private let deliver: ReactorBound<(HTTPResponse) -> Void>

    init(handle: ReactorHandle, deliver: @escaping (HTTPResponse) -> Void) {
        self.handle = handle
        self.deliver = ReactorBound(handle: handle, deliver)
    }

    /// Sends the response; a second call for the same request is ignored by the connection.
    package func send(_ response: HTTPResponse) {
        if handle.inReactorThread {
            deliver.value(response)
        } else {
            let deliver = self.deliver
            handle.post { _ in deliver.value(response) }
        }
    }
}
