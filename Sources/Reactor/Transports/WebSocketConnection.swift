/// A complete WebSocket message.
package enum WebSocketMessage: Sendable, Equatable {
    case text(String)
    case binary([UInt8])
}

/// What a WebSocket tells its owner, on the reactor thread.
package protocol WebSocketDelegate: AnyObject {
    func webSocket(_ socket: WebSocketConnection, didReceive message: WebSocketMessage)
    /// The socket is closed (`code` 1006 when it ended without a close frame).
    func webSocketDidClose(_ socket: WebSocketConnection, code: UInt16, reason: String)
    /// Queued output fell back under the high-water mark.
    func webSocketDidDrain(_ socket: WebSocketConnection)
}

extension WebSocketDelegate {
    package func webSocketDidDrain(_ socket: WebSocketConnection) {}
}

/// An open WebSocket over a byte stream (RFC 6455), either end: fragments are reassembled up to
/// `maxMessageBytes`, pings are answered, text must be UTF-8, and the close handshake is done
/// properly with a deadline.
package final class WebSocketConnection: ByteStreamDelegate {
    package enum Role: Sendable { case client, server }

    package weak var delegate: (any WebSocketDelegate)?
    private unowned let reactor: Reactor
    private let stream: any ByteStream
    private let role: Role
    private let maxMessageBytes: Int
    /// Set when this end closed the socket because the peer broke the protocol (bad frame,
    /// message over the size limit, invalid UTF-8), so the close is not mistaken for the peer's.
    package private(set) var protocolFailure: String?
    private var reader: WebSocketFrameReader
    private var fragments: [UInt8] = []
    private var fragmentOpcode: WebSocketOpcode?
    private var closeSent = false
    private var closed = false
    private var closeTimer: TimerID?

    package init(reactor: Reactor, stream: any ByteStream, role: Role, maxMessageBytes: Int = 16 << 20, leftover: [UInt8] = []) {
        self.reactor = reactor
        self.stream = stream
        self.role = role
        self.maxMessageBytes = maxMessageBytes
        self.reader = WebSocketFrameReader(expectMasked: role == .server, maxFrameBytes: maxMessageBytes)
        stream.delegate = self
        if !leftover.isEmpty {
            reader.append(leftover)
            // Deliver after the caller has set the delegate.
            reactor.schedule(afterMilliseconds: 0) { [weak self] in self?.drainFrames() }
        }
    }

    package var isOpen: Bool { !closed && !closeSent }
    package var isWritable: Bool { stream.isWritable }
    package var peerAddress: String { stream.peerAddress }

    package func send(_ message: WebSocketMessage) {
        switch message {
        case .text(let text): sendFrame(.text, Array(text.utf8))
        case .binary(let bytes): sendFrame(.binary, bytes)
        }
    }

    package func ping(_ payload: [UInt8] = []) {
        sendFrame(.ping, Array(payload.prefix(125)))
    }

    /// Starts the close handshake; the stream closes when the peer answers or after 5 s.
    package func close(code: UInt16 = 1000, reason: String = "") {
        guard !closeSent, !closed else { return }
        closeSent = true
        var payload = [UInt8(code >> 8), UInt8(code & 0xFF)]
        payload.append(contentsOf: Array(reason.utf8).prefix(123))
        writeFrame(WebSocketFrame(opcode: .close, payload: payload))
        closeTimer = reactor.schedule(afterMilliseconds: 5_000) { [weak self] in self?.finish(code: 1006, reason: "close timed out") }
    }

    /// Drops the connection at once, without the close handshake: for a peer that stopped
    /// reading, whose close frame would only queue behind the output it does not read.
    package func abort(reason: String) {
        guard !closed else { return }
        closeSent = true
        finish(code: 1006, reason: reason)
        stream.close()
    }

    // MARK: - Stream events

    package func stream(_ stream: any ByteStream, didRead bytes: UnsafeRawBufferPointer) {
        reader.append(bytes)
        drainFrames()
    }

    package func streamDidReadEOF(_ stream: any ByteStream) {
        finish(code: 1006, reason: "connection ended without a close frame")
    }

    package func streamDidDrain(_ stream: any ByteStream) {
        delegate?.webSocketDidDrain(self)
    }

    package func streamDidClose(_ stream: any ByteStream, error: ReactorError?) {
        finish(code: 1006, reason: error.map { "\($0)" } ?? "connection closed")
    }

    // MARK: - Frames

    private func drainFrames() {
        while !closed {
            let frame: WebSocketFrame?
            do {
                frame = try reader.next()
            } catch {
                return failProtocol(error.closeCode, error.reason)
            }
            guard let frame else { return }
            handle(frame)
        }
    }

    private func handle(_ frame: WebSocketFrame) {
        switch frame.opcode {
        case .ping:
            sendFrame(.pong, frame.payload)
        case .pong:
            break
        case .close:
            let code = frame.payload.count >= 2 ? UInt16(frame.payload[0]) << 8 | UInt16(frame.payload[1]) : 1005
            let reason = String(decoding: frame.payload.dropFirst(2), as: UTF8.self)
            if !closeSent {
                closeSent = true
                writeFrame(WebSocketFrame(opcode: .close, payload: Array(frame.payload.prefix(2))))
            }
            finish(code: code, reason: reason)
        case .text, .binary:
            guard fragmentOpcode == nil else { return failProtocol(1002, "new message inside a fragmented one") }
            if frame.fin { return deliver(frame.opcode, frame.payload) }
            fragmentOpcode = frame.opcode
            fragments = frame.payload
        case .continuation:
            guard let opcode = fragmentOpcode else { return failProtocol(1002, "continuation without a message") }
            guard fragments.count + frame.payload.count <= maxMessageBytes else { return failProtocol(1009, "message too big") }
            fragments.append(contentsOf: frame.payload)
            if frame.fin {
                let payload = fragments
                fragments = []
                fragmentOpcode = nil
                deliver(opcode, payload)
            }
        }
    }

    private func deliver(_ opcode: WebSocketOpcode, _ payload: [UInt8]) {
        if opcode == .text {
            guard let text = String(validating: payload, as: UTF8.self) else { return failProtocol(1007, "text is not UTF-8") }
            delegate?.webSocket(self, didReceive: .text(text))
        } else {
            delegate?.webSocket(self, didReceive: .binary(payload))
        }
    }

    private func failProtocol(_ code: UInt16, _ reason: String) {
        if !closed { protocolFailure = reason }
        if !closeSent {
            closeSent = true
            var payload = [UInt8(code >> 8), UInt8(code & 0xFF)]
            payload.append(contentsOf: Array(reason.utf8).prefix(123))
            writeFrame(WebSocketFrame(opcode: .close, payload: payload))
        }
        finish(code: code, reason: reason)
    }

    private func sendFrame(_ opcode: WebSocketOpcode, _ payload: [UInt8]) {
        guard !closeSent, !closed else { return }
        writeFrame(WebSocketFrame(opcode: opcode, payload: payload))
    }

    private func writeFrame(_ frame: WebSocketFrame) {
        // Clients mask with a fresh key per frame; a proxy cannot predict the bytes on the wire.
        let key = role == .client ? ((try? Crypto.randomBytes(4)) ?? [1, 2, 3, 4]) : nil
        stream.write(frame.encoded(maskKey: key))
    }

    private func finish(code: UInt16, reason: String) {
        guard !closed else { return }
        closed = true
        if let closeTimer { reactor.cancel(closeTimer) }
        closeTimer = nil
        stream.closeAfterWriting()
        delegate?.webSocketDidClose(self, code: code, reason: reason)
    }
}
