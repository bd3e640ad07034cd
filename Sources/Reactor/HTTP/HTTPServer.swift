import Foundation
import Logging

/// An HTTP/1.1 server on the reactor: a listener plus one `HTTPServerConnection` per socket.
package final class HTTPServer {
    /// Limits and timeouts; every one is explicit and configurable.
    package struct Configuration: Sendable {
        package var host: String
        package var port: Int
        package var limits: HTTPRequestParser.Limits
        /// From the first byte of a request until its head is complete (Node's headersTimeout).
        package var headersTimeoutMilliseconds: Int
        /// From the first byte of a request until its body is complete (Node's requestTimeout).
        package var requestTimeoutMilliseconds: Int
        /// How long an idle keep-alive connection is kept.
        package var keepAliveTimeoutMilliseconds: Int
        /// How long queued output may sit without the peer reading any of it.
        package var writeStallTimeoutMilliseconds: Int
        /// Connections beyond this are closed at once after accept.
        package var maxConnections: Int
        /// Builds the body of a response the server itself sends (400, 408, 413, 431, ...).
        package var errorResponse: @Sendable (_ status: Int, _ message: String) -> HTTPResponse
        /// Serve HTTPS with this server context instead of plain HTTP.
        package var tls: TLSContext?
        /// Where large parts of streamed forms are spooled (`HTTPBodyHandling.multipartForm`).
        package var uploadDirectory = NSTemporaryDirectory()

        package init(
            host: String = "127.0.0.1", port: Int = 0,
            limits: HTTPRequestParser.Limits = HTTPRequestParser.Limits(),
            headersTimeoutMilliseconds: Int = 65_000, requestTimeoutMilliseconds: Int = 300_000,
            keepAliveTimeoutMilliseconds: Int = 5_000, writeStallTimeoutMilliseconds: Int = 60_000,
            maxConnections: Int = 16_384,
            errorResponse: @escaping @Sendable (Int, String) -> HTTPResponse = HTTPServer.plainErrorResponse,
            tls: TLSContext? = nil
        ) {
            self.tls = tls
            self.host = host
            self.port = port
            self.limits = limits
            self.headersTimeoutMilliseconds = headersTimeoutMilliseconds
            self.requestTimeoutMilliseconds = requestTimeoutMilliseconds
            self.keepAliveTimeoutMilliseconds = keepAliveTimeoutMilliseconds
            self.writeStallTimeoutMilliseconds = writeStallTimeoutMilliseconds
            self.maxConnections = maxConnections
            self.errorResponse = errorResponse
        }
    }

    /// A text/plain error, for servers without an API layer.
    package static let plainErrorResponse: @Sendable (Int, String) -> HTTPResponse = { status, message in
        var headers = HTTPHeaders()
        headers.add("content-type", "text/plain; charset=utf-8")
        return HTTPResponse(status: status, headers: headers, body: Array(message.utf8))
    }

    package let configuration: Configuration
    unowned let reactor: Reactor
    let responder: any HTTPResponder
    private var listener: TCPListener?
    private var connections: [UInt64: HTTPServerConnection] = [:]
    private var nextConnectionID: UInt64 = 0
    private var drainWaiters: [() -> Void] = []
    private var cachedDate: (second: Int, text: String) = (0, "")
    /// True once shutdown began: responses carry `connection: close`.
    private(set) var isClosing = false

    /// Binds and starts accepting. Must be called on the reactor thread.
    package init(reactor: Reactor, configuration: Configuration, responder: any HTTPResponder) throws {
        self.reactor = reactor
        self.configuration = configuration
        self.responder = responder
        listener = try TCPListener(reactor: reactor, host: configuration.host, port: configuration.port) {
            [unowned self] socket in self.accept(socket)
        }
    }

    /// The bound port.
    package var port: Int { listener?.port ?? configuration.port }
    /// Open client connections.
    package var connectionCount: Int { connections.count }
    /// Requests handed to the responder and not yet answered.
    package var inFlightRequestCount: Int { connections.values.reduce(0) { $0 + ($1.isAwaitingResponse ? 1 : 0) } }

    /// Stops accepting, closes idle connections, lets in-flight requests finish with
    /// `connection: close`, and calls `completion` once every connection is gone or
    /// `timeoutMilliseconds` passed (then the stragglers are closed).
    package func shutdown(timeoutMilliseconds: Int, completion: @escaping () -> Void) {
        isClosing = true
        listener?.close()
        listener = nil
        for connection in connections.values { connection.beginClosing() }
        guard !connections.isEmpty else {
            completion()
            return
        }
        drainWaiters.append(completion)
        reactor.schedule(afterMilliseconds: timeoutMilliseconds) { [weak self] in
            guard let self else { return }
            for connection in self.connections.values { connection.forceClose() }
        }
    }

    /// Closes the listener and every connection at once (for teardown after the loop's work is done).
    package func closeNow() {
        isClosing = true
        listener?.close()
        listener = nil
        for connection in connections.values { connection.forceClose() }
    }

    /// Today's `date` header value, formatted once per second.
    var dateHeader: String {
        let second = HTTPDate.currentSecond()
        if second != cachedDate.second { cachedDate = (second, HTTPDate.format(epochSeconds: second)) }
        return cachedDate.text
    }

    /// An upgraded connection belongs to its new protocol now; it no longer counts here.
    func connectionUpgraded(_ id: UInt64) {
        connectionClosed(id)
    }

    func connectionClosed(_ id: UInt64) {
        connections.removeValue(forKey: id)
        if connections.isEmpty, isClosing, !drainWaiters.isEmpty {
            let waiters = drainWaiters
            drainWaiters.removeAll()
            for waiter in waiters { waiter() }
        }
    }

    private func accept(_ socket: AcceptedSocket) {
        guard !isClosing, connections.count < configuration.maxConnections else {
            Socket.close(socket.fd)
            return
        }
        nextConnectionID += 1
        do {
            let session = try configuration.tls.map { try TLSSession(context: $0) }
            let tcp = try TCPConnection(reactor: reactor, socket: socket, id: nextConnectionID)
            var transport: any ByteStream = tcp
            if let session {
                // A failed handshake closes the TCP connection, which closes the HTTP one.
                transport = TLSConnection(transport: tcp, session: session) { _ in }
            }
            let connection = HTTPServerConnection(server: self, transport: transport, id: nextConnectionID)
            connections[nextConnectionID] = connection
            connection.start()
        } catch {
            reactor.logger.debug("connection setup failed", metadata: ["error": "\(error)"])
        }
    }
}
