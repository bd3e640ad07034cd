import Foundation
import Logging
import Reactor
import Simulator
import SwiftProtobuf
import Synchronization
import WAProtocol

let quietLogger: Logger = {
    var logger = Logger(label: "sim-test")
    logger.logLevel = .critical
    return logger
}()

struct TestTimeout: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting for \(what)" }
}

/// What a fresh companion creates before connecting (ref part 1 §5.1).
struct TestCredentials: Sendable {
    let noise: Crypto.X25519KeyPair
    let identity: Crypto.X25519KeyPair
    let signedPreKey: Crypto.X25519KeyPair
    let signedPreKeySignature: [UInt8]
    let registrationID: UInt32
    var advSecret: [UInt8]
    var jid: JID?

    static func fresh() throws -> TestCredentials {
        let identity = try Crypto.x25519KeyPair()
        let signedPreKey = try Crypto.x25519KeyPair()
        let signature = try Crypto.xeddsaSign(
            privateKey: identity.privateKey, message: [5] + signedPreKey.publicKey, random: try Crypto.randomBytes(64))
        return TestCredentials(
            noise: try Crypto.x25519KeyPair(), identity: identity, signedPreKey: signedPreKey,
            signedPreKeySignature: signature, registrationID: UInt32.random(in: 1...16_383),
            advSecret: try Crypto.randomBytes(32), jid: nil)
    }

    var registrationPayload: Waproto_ClientPayload {
        var payload = Waproto_ClientPayload()
        payload.passive = false
        payload.pull = false
        var registration = Waproto_ClientPayload.DevicePairingRegistrationData()
        let id = registrationID
        registration.eRegid = Data([UInt8(id >> 24 & 0xFF), UInt8(id >> 16 & 0xFF), UInt8(id >> 8 & 0xFF), UInt8(id & 0xFF)])
        registration.eKeytype = Data([5])
        registration.eIdent = Data(identity.publicKey)
        registration.eSkeyID = Data([0, 0, 1])
        registration.eSkeyVal = Data(signedPreKey.publicKey)
        registration.eSkeySig = Data(signedPreKeySignature)
        payload.devicePairingData = registration
        return payload
    }

    func loginPayload(phone: String? = nil, device: UInt16? = nil) -> Waproto_ClientPayload {
        var payload = Waproto_ClientPayload()
        payload.username = UInt64(phone ?? jid?.user ?? "0") ?? 0
        payload.device = UInt32(device ?? jid?.device ?? 0)
        payload.passive = true
        payload.pull = true
        return payload
    }
}

/// A minimal companion client for the tests, built from WAProtocol pieces: WebSocket over TLS
/// (trusting the simulator's CA), intro header, Noise initiator with the simulator's root key,
/// then nodes. Answers server pings unless told not to.
final class SimTestClient: WebSocketDelegate, @unchecked Sendable {
    // Reactor-confined: socket, initiator, transport, reader. Shared with test tasks: `state`.
    private var socket: WebSocketConnection?
    private var initiator: NoiseHandshake.Initiator?
    private var transport: NoiseTransport?
    private var reader = FrameReader()
    private var payload: [UInt8] = []
    private let rootPublicKey: [UInt8]
    let handle: ReactorHandle
    let answersPings: Bool

    struct State {
        var open: Result<Void, ReactorError>?
        var nodes: [BinaryNode] = []
        var consumed = 0
        var closedCode: UInt16?
        var decryptFailed = false
        var pingsSeen = 0
    }
    private let state = Mutex(State())

    private init(handle: ReactorHandle, rootPublicKey: [UInt8], answersPings: Bool) {
        self.handle = handle
        self.rootPublicKey = rootPublicKey
        self.answersPings = answersPings
    }

    /// Opens a WebSocket to `simulator`; with `payload` runs the handshake and sends it.
    static func connect(
        to simulator: Simulator, on handle: ReactorHandle, credentials: TestCredentials,
        payload: Waproto_ClientPayload?, answersPings: Bool = true
    ) async throws -> SimTestClient {
        let client = SimTestClient(handle: handle, rootPublicKey: simulator.rootPublicKey, answersPings: answersPings)
        let tls = try TLSContext(clientTrusting: simulator.caFile)
        let url = simulator.webSocketURL
        let payloadBytes: [UInt8]? = try payload.map { message -> [UInt8] in try message.serializedBytes() }
        _ = try await handle.submit { reactor in
            WebSocketConnector.connect(reactor: reactor, url: url, tls: tls, timeoutMilliseconds: 5_000) { result in
                client.opened(result, credentials: credentials, payload: payloadBytes)
            }
        }
        try await client.waitUntil("open") { $0.open != nil }
        try client.state.withLock { try $0.open!.get() }
        return client
    }

    private func opened(_ result: Result<WebSocketConnection, ReactorError>, credentials: TestCredentials, payload: [UInt8]?) {
        if case .success(let socket) = result {
            self.socket = socket
            socket.delegate = self
            if let payload {
                self.payload = payload
                do {
                    var initiator = NoiseHandshake.Initiator(
                        staticKey: credentials.noise, ephemeralKey: try Crypto.x25519KeyPair(), rootPublicKey: rootPublicKey)
                    let hello = try initiator.makeClientHello()
                    self.initiator = initiator
                    socket.send(.binary(IntroHeader.header + (try FrameWriter.frame(hello))))
                } catch {
                    socket.close()
                }
            }
        }
        state.withLock { $0.open = result.map { _ in () } }
    }

    func webSocket(_ socket: WebSocketConnection, didReceive message: WebSocketMessage) {
        guard case .binary(let bytes) = message else { return }
        reader.append(bytes)
        while let frame = try? reader.nextFrame() {
            if var transport {
                guard let plaintext = try? transport.decrypt(frame), let node = try? NodePlaintext.decode(plaintext) else {
                    state.withLock { $0.decryptFailed = true }
                    socket.close()
                    return
                }
                self.transport = transport
                if answersPings, node.tag == "iq", node.attributes.string("xmlns") == "urn:xmpp:ping" {
                    state.withLock { $0.pingsSeen += 1 }
                    sendNode(BinaryNode("iq", ["to": .jid(JID.whatsAppServer), "id": .string(node.attributes.string("id") ?? ""), "type": "result"]))
                    continue
                }
                state.withLock { $0.nodes.append(node) }
            } else if var initiator {
                do {
                    _ = try initiator.readServerHello(frame, now: UInt64(Date().timeIntervalSince1970))
                    let (finish, transport) = try initiator.makeClientFinish(payload: payload)
                    self.initiator = nil
                    self.transport = transport
                    socket.send(.binary(try FrameWriter.frame(finish)))
                } catch {
                    socket.close()
                }
            }
        }
    }

    func webSocketDidClose(_ socket: WebSocketConnection, code: UInt16, reason: String) {
        state.withLock { $0.closedCode = code }
    }

    private func sendNode(_ node: BinaryNode) {
        guard var transport, let socket else { return }
        guard let plaintext = try? NodePlaintext.encode(node), let ciphertext = try? transport.encrypt(plaintext),
            let frame = try? FrameWriter.frame(ciphertext)
        else { return }
        self.transport = transport
        socket.send(.binary(frame))
    }

    // MARK: - Test side

    func send(_ node: BinaryNode) async throws {
        _ = try await handle.submit { _ in self.sendNode(node) }
    }

    /// Sends bytes as one WebSocket message, bypassing framing and encryption.
    func sendRaw(_ bytes: [UInt8]) async throws {
        _ = try await handle.submit { _ in self.socket?.send(.binary(bytes)) }
    }

    /// Sends a frame whose payload is not valid ciphertext under the transport key.
    func sendGarbageFrame() async throws {
        try await sendRaw(try FrameWriter.frame([UInt8](repeating: 0x42, count: 40)))
    }

    func close() async throws {
        _ = try await handle.submit { _ in self.socket?.close() }
    }

    var isClosed: Bool { state.withLock { $0.closedCode != nil } }
    var decryptFailed: Bool { state.withLock { $0.decryptFailed } }
    var pingsSeen: Int { state.withLock { $0.pingsSeen } }

    /// The next node not yet returned that matches, waiting up to `timeout`.
    func next(
        _ what: String, timeout: Duration = .seconds(30), where matches: @escaping @Sendable (BinaryNode) -> Bool = { _ in true }
    ) async throws -> BinaryNode {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let found: BinaryNode? = state.withLock { state in
                guard let index = state.nodes.indices.first(where: { $0 >= state.consumed && matches(state.nodes[$0]) }) else {
                    return nil
                }
                let node = state.nodes.remove(at: index)
                return node
            }
            if let found { return found }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw TestTimeout(what: what)
    }

    /// Waits for a node with `tag`.
    func next(tag: String, timeout: Duration = .seconds(30)) async throws -> BinaryNode {
        try await next(tag, timeout: timeout) { $0.tag == tag }
    }

    /// Sends an iq and returns its response (matched by id).
    func query(_ node: BinaryNode, timeout: Duration = .seconds(30)) async throws -> BinaryNode {
        let id = node.attributes.string("id") ?? ""
        try await send(node)
        return try await next("response to \(id)", timeout: timeout) { $0.tag == "iq" && $0.attributes.string("id") == id }
    }

    func waitClosed(timeout: Duration = .seconds(5)) async throws -> UInt16 {
        try await waitUntil("close", timeout: timeout) { $0.closedCode != nil }
        return state.withLock { $0.closedCode! }
    }

    private func waitUntil(_ what: String, timeout: Duration = .seconds(5), _ condition: (State) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if state.withLock({ condition($0) }) { return }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw TestTimeout(what: what)
    }
}

/// `<iq to="s.whatsapp.net" id=… xmlns=… type=…>children</iq>`.
func iq(_ id: String, xmlns: String, type: String, _ children: [BinaryNode]? = nil) -> BinaryNode {
    let attributes: NodeAttributes = ["to": .jid(JID.whatsAppServer), "id": .string(id), "xmlns": .string(xmlns), "type": .string(type)]
    return children.map { BinaryNode("iq", attributes, children: $0) } ?? BinaryNode("iq", attributes)
}
