/// TLS over another byte stream (normally a `TCPConnection`), as a `ByteStream` itself.
///
/// The handshake runs first; `onHandshake` reports its outcome once. Application bytes written
/// before it completes are encrypted and queued by OpenSSL and leave once it is done.
package final class TLSConnection: ByteStream, ByteStreamDelegate {
    package weak var delegate: (any ByteStreamDelegate)?
    private let transport: any ByteStream
    private let session: TLSSession
    private var onHandshake: ((Result<Void, ReactorError>) -> Void)?
    private var established = false
    private var pendingPlaintext: [UInt8] = []

    /// Wraps `transport` (whose delegate becomes this connection) and starts the handshake.
    package init(transport: any ByteStream, session: TLSSession, onHandshake: @escaping (Result<Void, ReactorError>) -> Void) {
        self.transport = transport
        self.session = session
        self.onHandshake = onHandshake
        transport.delegate = self
        advanceHandshake()
    }

    package var peerAddress: String { transport.peerAddress }
    package var isOpen: Bool { transport.isOpen }
    package var isWritable: Bool { transport.isWritable }
    /// The negotiated TLS version, once established.
    package var protocolVersion: String { session.protocolVersion }

    package func write(_ bytes: [UInt8]) {
        guard established else {
            pendingPlaintext.append(contentsOf: bytes)
            return
        }
        do {
            try session.write(bytes)
            flushCiphertext()
        } catch {
            close(error: error as? ReactorError)
        }
    }

    package func setReading(_ enabled: Bool) { transport.setReading(enabled) }

    package func closeAfterWriting() {
        session.shutdown()
        flushCiphertext()
        transport.closeAfterWriting()
    }

    package func close(error: ReactorError?) {
        transport.close(error: error)
    }

    // MARK: - Transport events

    package func stream(_ stream: any ByteStream, didRead bytes: UnsafeRawBufferPointer) {
        session.feed(bytes)
        if !established {
            advanceHandshake()
            guard established else { return }
        }
        do {
            guard let plaintext = try session.read() else {
                // close_notify: the peer is done sending.
                delegate?.streamDidReadEOF(self)
                return
            }
            flushCiphertext()  // reading can produce output (key updates, session tickets)
            if !plaintext.isEmpty { plaintext.withUnsafeBytes { delegate?.stream(self, didRead: $0) } }
        } catch {
            close(error: error as? ReactorError)
        }
    }

    package func streamDidReadEOF(_ stream: any ByteStream) {
        if !established { return fail(.tls("connection closed during the handshake")) }
        delegate?.streamDidReadEOF(self)
    }

    package func streamDidDrain(_ stream: any ByteStream) {
        delegate?.streamDidDrain(self)
    }

    package func streamDidClose(_ stream: any ByteStream, error: ReactorError?) {
        session.close()
        if !established { finishHandshake(.failure(error ?? .tls("connection closed during the handshake"))) }
        delegate?.streamDidClose(self, error: error)
    }

    // MARK: - Handshake

    private func advanceHandshake() {
        do {
            let progress = try session.handshake()
            flushCiphertext()
            guard progress == .done else { return }
            established = true
            finishHandshake(.success(()))
            if !pendingPlaintext.isEmpty {
                let queued = pendingPlaintext
                pendingPlaintext = []
                write(queued)
            }
        } catch {
            flushCiphertext()  // send the alert, if any
            fail(error as? ReactorError ?? .tls("handshake"))
        }
    }

    private func fail(_ error: ReactorError) {
        finishHandshake(.failure(error))
        transport.close(error: error)
    }

    private func finishHandshake(_ result: Result<Void, ReactorError>) {
        guard let onHandshake else { return }
        self.onHandshake = nil
        onHandshake(result)
    }

    private func flushCiphertext() {
        let output = session.takeOutput()
        if !output.isEmpty { transport.write(output) }
    }
}

/// Opens TLS connections: TCP connect, then the handshake, within one deadline.
package enum TLSConnector {
    /// `serverName` defaults to `host`; it is sent as SNI and checked against the certificate.
    package static func connect(
        reactor: Reactor, host: String, port: Int, context: TLSContext, serverName: String? = nil,
        timeoutMilliseconds: Int, completion: @escaping (Result<TLSConnection, ReactorError>) -> Void
    ) {
        let deadline = reactor.now.adding(milliseconds: timeoutMilliseconds)
        TCPConnector.connect(reactor: reactor, host: host, port: port, timeoutMilliseconds: timeoutMilliseconds) { result in
            switch result {
            case .failure(let error):
                completion(.failure(error))
            case .success(let tcp):
                let session: TLSSession
                do {
                    session = try TLSSession(context: context, serverName: serverName ?? host)
                } catch {
                    tcp.close(error: nil)
                    return completion(.failure(error as? ReactorError ?? .tls("session")))
                }
                var connection: TLSConnection?
                let timer = reactor.schedule(at: deadline) {
                    connection?.close(error: .timedOut("TLS handshake with \(host):\(port)"))
                }
                connection = TLSConnection(transport: tcp, session: session) { outcome in
                    reactor.cancel(timer)
                    switch outcome {
                    case .success: completion(.success(connection!))
                    case .failure(let error): completion(.failure(error))
                    }
                    connection = nil
                }
            }
        }
    }
}
