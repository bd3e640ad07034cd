import Foundation
import Logging
import Reactor
import WAProtocol

/// WebSocket, Noise handshake and transport frames.
extension NativeLink {
    func connect() {
        guard wantRunning, credentials != nil else { return }
        teardown()
        phase = .connecting
        let generation = self.generation
        var headers = HTTPHeaders()
        headers.add("Origin", configuration.origin)
        WebSocketConnector.connect(
            reactor: reactor, url: configuration.serverURL, tls: configuration.tls, headers: headers,
            timeoutMilliseconds: configuration.connectTimeoutMilliseconds
        ) { [weak self] result in
            guard let self else {
                if case .success(let socket) = result { socket.close() }
                return
            }
            guard self.generation == generation, self.wantRunning else {
                if case .success(let socket) = result { self.retire(socket) }
                return
            }
            switch result {
            case .failure(let error): self.linkLost("could not connect to \(self.configuration.serverURL): \(error)")
            case .success(let socket): self.beginHandshake(socket)
            }
        }
    }

    private func beginHandshake(_ socket: WebSocketConnection) {
        guard let credentials else { return }
        self.socket = socket
        socket.delegate = self
        lastInbound = reactor.now
        phase = .handshaking
        frameReader = FrameReader()
        frameWriter = FrameWriter(intro: IntroHeader.header)
        handshakeTimer = reactor.schedule(afterMilliseconds: configuration.handshakeTimeoutMilliseconds) { [weak self] in
            self?.handshakeTimer = nil
            self?.linkLost("the server did not complete the handshake in time")
        }
        let noise = credentials.noise
        let root = configuration.rootPublicKey
        handshakeBusy = true
        onWorker({ () throws -> Unchecked<(NoiseHandshake.Initiator, [UInt8])> in
            var initiator = NoiseHandshake.Initiator(staticKey: noise, ephemeralKey: try Crypto.x25519KeyPair(), rootPublicKey: root)
            let hello = try initiator.makeClientHello()
            return Unchecked((initiator, hello))
        }) { link, result in
            link.handshakeBusy = false
            switch result {
            case .failure(let error): link.fail("could not start the Noise handshake: \(error)")
            case .success(let value):
                link.initiator = value.value.0
                link.sendRaw(value.value.1)
                link.drainQueuedFrames()
            }
        }
    }

    // MARK: - WebSocketDelegate

    func webSocket(_ socket: WebSocketConnection, didReceive message: WebSocketMessage) {
        guard socket === self.socket, case .binary(let bytes) = message else { return }
        lastInbound = reactor.now
        let frames: [[UInt8]]
        do {
            frames = try frameReader.frames(in: bytes)
        } catch {
            return linkLost("protocol violation: bad frame from the server (\(error))")
        }
        for frame in frames {
            guard socket === self.socket else { return }
            if handshakeBusy {
                queuedFrames.append(frame)
            } else {
                handleFrame(frame)
            }
        }
    }

    func webSocketDidClose(_ socket: WebSocketConnection, code: UInt16, reason: String) {
        if closingSockets.removeValue(forKey: ObjectIdentifier(socket)) != nil { return }
        guard socket === self.socket else { return }
        self.socket = nil
        if let failure = socket.protocolFailure {
            return linkLost("protocol violation: \(failure) from the server; closed the link with \(code)")
        }
        linkLost("the server closed the connection (\(code)\(reason.isEmpty ? "" : " \(reason)"))")
    }

    func drainQueuedFrames() {
        while !handshakeBusy, !queuedFrames.isEmpty, socket != nil {
            handleFrame(queuedFrames.removeFirst())
        }
    }

    private func handleFrame(_ frame: [UInt8]) {
        switch phase {
        case .handshaking:
            readServerHello(frame)
        case .idle, .connecting:
            return
        case .authenticating, .unpaired, .pairing, .ready:
            guard var transport else { return }
            let node: BinaryNode
            do {
                let plaintext = try transport.decrypt(frame)
                self.transport = transport
                node = try NodePlaintext.decode(plaintext)
            } catch {
                return linkLost("protocol violation: undecodable frame from the server (\(error))")
            }
            handleNode(node)
        }
    }

    private func readServerHello(_ frame: [UInt8]) {
        guard let initiator, let credentials else { return }
        self.initiator = nil
        handshakeBusy = true
        let configuration = configuration
        let now = UInt64(Date().timeIntervalSince1970)
        onWorker({ () throws -> Unchecked<([UInt8], NoiseTransport)> in
            var initiator = initiator
            _ = try initiator.readServerHello(frame, now: now)
            let payload = try NativeClientPayload.make(credentials: credentials, configuration: configuration)
            let finish = try initiator.makeClientFinish(payload: payload)
            return Unchecked((finish.message, finish.transport))
        }) { link, result in
            link.handshakeBusy = false
            switch result {
            case .failure(let error):
                link.fail("Noise handshake failed (server certificate or handshake rejected): \(error)")
            case .success(let value):
                link.sendRaw(value.value.0)
                link.transport = value.value.1
                link.phase = .authenticating
                link.drainQueuedFrames()
            }
        }
    }

    // MARK: - Sending

    func sendRaw(_ payload: [UInt8]) {
        guard let socket else { return }
        do {
            socket.send(.binary(try frameWriter.frame(payload)))
        } catch {
            linkLost("could not frame an outgoing message: \(error)")
        }
    }

    func send(_ node: BinaryNode) {
        guard var transport else { return }
        do {
            let ciphertext = try transport.encrypt(try NodePlaintext.encode(node))
            self.transport = transport
            sendRaw(ciphertext)
        } catch {
            linkLost("could not encode an outgoing node: \(error)")
        }
    }

    /// Sends an IQ with a fresh id and calls `callback` with the response or a timeout.
    func sendRequest(_ node: BinaryNode, timeout: Int, _ callback: @escaping (Result<BinaryNode, EngineError>) -> Void) {
        guard transport != nil else { return callback(.failure(.unavailable("not connected"))) }
        requestCounter += 1
        let id = requestPrefix + String(requestCounter)
        var node = node
        node.attributes.append("id", .string(id))
        let timer = reactor.schedule(afterMilliseconds: timeout) { [weak self] in
            guard let entry = self?.pending.removeValue(forKey: id) else { return }
            entry.callback(.failure(.unavailable("request timed out")))
        }
        pending[id] = (timer, callback)
        send(node)
    }
}
